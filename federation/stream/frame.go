package stream

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrFrameTooLarge matches (errors.Is) every *SizeError.
var ErrFrameTooLarge = errors.New("frame too large")

// SizeError is a frame over its protocol's limit (or an empty one where
// a protocol wants a payload).
type SizeError struct {
	Size  uint64
	Limit int
}

func (e *SizeError) Error() string {
	return fmt.Sprintf("frame of %d bytes, limit %d", e.Size, e.Limit)
}

// Is makes every SizeError match ErrFrameTooLarge.
func (e *SizeError) Is(target error) bool { return target == ErrFrameTooLarge }

// Framing is how a protocol delimits its messages on a stream.
type Framing interface {
	write(w io.Writer, b []byte, limit int) error
	read(r io.Reader, limit int) ([]byte, error)
}

var (
	// Frames is a 4-byte big-endian length and the payload: every protocol
	// but the members link.
	Frames Framing = frames{}
	// Line is one line of text ended by "\n", which the reader strips:
	// the members link's answer.
	Line Framing = line{}
)

type frames struct{}

func (frames) write(w io.Writer, b []byte, limit int) error { return WriteFrame(w, b, limit) }
func (frames) read(r io.Reader, limit int) ([]byte, error)  { return ReadFrame(r, limit) }

// WriteFrame writes b as one frame, in one Write.
func WriteFrame(w io.Writer, b []byte, limit int) error {
	if len(b) > limit {
		return &SizeError{Size: uint64(len(b)), Limit: limit}
	}
	buf := make([]byte, 4+len(b))
	binary.BigEndian.PutUint32(buf, uint32(len(b)))
	copy(buf[4:], b)
	_, err := w.Write(buf)
	return err
}

// ReadFrame reads one frame, refusing a length over limit before
// allocating.
func ReadFrame(r io.Reader, limit int) ([]byte, error) {
	var h [4]byte
	if _, err := io.ReadFull(r, h[:]); err != nil {
		return nil, fmt.Errorf("read frame length: %w", err)
	}
	n := binary.BigEndian.Uint32(h[:])
	if uint64(n) > uint64(limit) {
		return nil, &SizeError{Size: uint64(n), Limit: limit}
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		return nil, fmt.Errorf("read frame: %w", err)
	}
	return b, nil
}

// MarshalJSON encodes v as a frame's payload, within limit.
func MarshalJSON(v any, limit int) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		return nil, &SizeError{Size: uint64(len(b)), Limit: limit}
	}
	return b, nil
}

// UnmarshalJSON decodes a frame's payload strictly: one JSON value, no
// unknown fields, nothing after it, and not empty.
func UnmarshalJSON(b []byte, limit int, v any) error {
	if len(b) == 0 {
		return &SizeError{Size: 0, Limit: limit}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("decode frame: %w", err)
	}
	if dec.More() {
		return errors.New("decode frame: trailing data")
	}
	return nil
}

type line struct{}

func (line) write(w io.Writer, b []byte, limit int) error {
	if len(b)+1 > limit {
		return &SizeError{Size: uint64(len(b) + 1), Limit: limit}
	}
	_, err := w.Write(append(b[:len(b):len(b)], '\n'))
	return err
}

// read reads up to limit bytes for the line: a peer cannot make us buffer
// an endless one.
func (line) read(r io.Reader, limit int) ([]byte, error) {
	s, err := bufio.NewReader(&limited{r, limit}).ReadString('\n')
	if err != nil {
		return nil, err
	}
	return []byte(s[:len(s)-1]), nil
}

// limited reads at most n bytes, then fails.
type limited struct {
	r io.Reader
	n int
}

func (l *limited) Read(b []byte) (int, error) {
	if l.n <= 0 {
		return 0, errors.New("answer too long")
	}
	if len(b) > l.n {
		b = b[:l.n]
	}
	n, err := l.r.Read(b)
	l.n -= n
	return n, err
}
