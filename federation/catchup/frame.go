package catchup

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/difronte/difronte/federation/budget"
)

// Frame types.
const (
	fHello byte = iota + 1
	fInSync
	fDiffer
	fMarks
	fMarksEnd
	fSection
	fEntry
	fSectionEnd
	fDone
	fRefused
)

// MaxFrame bounds every frame (type byte and payload).
const MaxFrame = 1 << 20

// marksFrameTarget is where the requester starts a new marks frame.
const marksFrameTarget = 64 << 10

var errProtocol = errors.New("catch-up protocol violation")

// frameReader reads frames, reusing one buffer; a returned payload is valid
// until the next read.
type frameReader struct {
	br  *bufio.Reader
	buf []byte
}

func newFrameReader(r io.Reader) *frameReader {
	return &frameReader{br: bufio.NewReaderSize(r, 32<<10)}
}

// next reads one frame of at most limit bytes (type included).
func (f *frameReader) next(limit int) (byte, []byte, error) {
	n, err := binary.ReadUvarint(f.br)
	if err != nil {
		if errors.Is(err, io.EOF) {
			return 0, nil, io.ErrUnexpectedEOF
		}
		return 0, nil, fmt.Errorf("read frame length: %w", err)
	}
	if n == 0 || n > uint64(limit) {
		return 0, nil, fmt.Errorf("%w: frame of %d bytes, limit %d", errProtocol, n, limit)
	}
	if cap(f.buf) < int(n) {
		f.buf = make([]byte, n)
	}
	b := f.buf[:n]
	if _, err := io.ReadFull(f.br, b); err != nil {
		return 0, nil, fmt.Errorf("read frame: %w", err)
	}
	return b[0], b[1:], nil
}

// appendFrame appends one frame to dst.
func appendFrame(dst []byte, typ byte, payload []byte) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(payload)+1))
	dst = append(dst, typ)
	return append(dst, payload...)
}

func writeFrame(w *bufio.Writer, typ byte, payload []byte) error {
	var hdr [binary.MaxVarintLen64 + 1]byte
	h := binary.AppendUvarint(hdr[:0], uint64(len(payload)+1))
	h = append(h, typ)
	if _, err := w.Write(h); err != nil {
		return err
	}
	_, err := w.Write(payload)
	return err
}

// payload field readers: the first error sticks.
type fields struct {
	b   []byte
	err error
}

func (p *fields) uvarint() uint64 {
	if p.err != nil {
		return 0
	}
	v, n := binary.Uvarint(p.b)
	if n <= 0 {
		p.err = fmt.Errorf("%w: bad varint", errProtocol)
		return 0
	}
	p.b = p.b[n:]
	return v
}

func (p *fields) bytes(max int) []byte {
	n := p.uvarint()
	if p.err != nil {
		return nil
	}
	if n > uint64(max) || n > uint64(len(p.b)) {
		p.err = fmt.Errorf("%w: field of %d bytes", errProtocol, n)
		return nil
	}
	v := p.b[:n]
	p.b = p.b[n:]
	return v
}

func (p *fields) fixed(n int) []byte {
	if p.err != nil {
		return nil
	}
	if len(p.b) < n {
		p.err = fmt.Errorf("%w: truncated field", errProtocol)
		return nil
	}
	v := p.b[:n]
	p.b = p.b[n:]
	return v
}

// end fails unless the payload was consumed exactly.
func (p *fields) end() error {
	if p.err == nil && len(p.b) != 0 {
		p.err = fmt.Errorf("%w: %d trailing bytes", errProtocol, len(p.b))
	}
	return p.err
}

// maxPeerIDLen bounds publisher fields; Ed25519 peer IDs are 52 characters.
const maxPeerIDLen = 64

type hello struct {
	version uint64
	digest  [32]byte
	budget  uint64
}

func (h hello) append(b []byte) []byte {
	b = binary.AppendUvarint(b, h.version)
	b = append(b, h.digest[:]...)
	return binary.AppendUvarint(b, h.budget)
}

func parseHello(b []byte) (hello, error) {
	p := fields{b: b}
	var h hello
	h.version = p.uvarint()
	copy(h.digest[:], p.fixed(32))
	h.budget = p.uvarint()
	return h, p.end()
}

type mark struct {
	publisher string
	seq       uint64
}

func appendMark(b []byte, m mark) []byte {
	b = binary.AppendUvarint(b, uint64(len(m.publisher)))
	b = append(b, m.publisher...)
	return binary.AppendUvarint(b, m.seq)
}

// parseMarks calls fn for each mark in a marks payload.
func parseMarks(b []byte, fn func(mark) error) error {
	p := fields{b: b}
	for len(p.b) > 0 && p.err == nil {
		pub := p.bytes(maxPeerIDLen)
		seq := p.uvarint()
		if p.err != nil {
			break
		}
		if err := fn(mark{string(pub), seq}); err != nil {
			return err
		}
	}
	return p.end()
}

// appendRefusal encodes a refused frame's payload: the reason's code and
// the seconds after which the requester may ask again (rounded up).
func appendRefusal(b []byte, r *budget.Refusal) []byte {
	b = binary.AppendUvarint(b, r.Reason.Code())
	return binary.AppendUvarint(b, uint64((r.RetryAfter+time.Second-1)/time.Second))
}

// maxRetryAfter bounds the wait a responder may impose: a larger value is
// taken as this.
const maxRetryAfter = time.Hour

func parseRefusal(b []byte) (*budget.Refusal, error) {
	p := fields{b: b}
	code := p.uvarint()
	secs := p.uvarint()
	if err := p.end(); err != nil {
		return nil, err
	}
	r := budget.ReasonOf(code)
	if r == "" {
		return nil, fmt.Errorf("%w: refusal code %d", errProtocol, code)
	}
	return &budget.Refusal{Reason: r, RetryAfter: time.Duration(min(secs, uint64(maxRetryAfter/time.Second))) * time.Second}, nil
}

func parseUvarintPayload(b []byte) (uint64, error) {
	p := fields{b: b}
	v := p.uvarint()
	return v, p.end()
}

func appendUvarint(b []byte, v uint64) []byte { return binary.AppendUvarint(b, v) }
