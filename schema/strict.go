package schema

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// Bounds on the numbers and times of federated data. They are part of the
// protocol (docs/PROTOCOL.md, "Strict bodies"): every node applies the same
// ones, so two nodes never disagree on whether an entry is valid.
const (
	// MaxSafeInteger is the largest integer every JSON parser holds
	// exactly (2^53-1, the IEEE 754 double limit RFC 7493 names). It bounds
	// every number in a body and an entry's seq.
	MaxSafeInteger = 1<<53 - 1
	// MaxSeq bounds an entry's seq.
	MaxSeq = MaxSafeInteger
	// MaxJSONDepth bounds the nesting of objects and arrays in a body.
	MaxJSONDepth = 32
	// MaxClockSkew is how far in the future of a receiver's clock an
	// entry's issued_at may be. A later entry is not refused (the
	// publisher's clock, not the sender, is at fault) but deferred: not
	// stored, not relayed, and fetched again once it is due.
	MaxClockSkew = 24 * time.Hour
)

// MaxIssuedAt bounds an entry's issued_at in every case: the last
// millisecond of year 9999, the end of what RFC 3339 can write.
var MaxIssuedAt = time.Date(9999, 12, 31, 23, 59, 59, 999_000_000, time.UTC)

// ErrBody is wrapped by every refusal of CheckJSON.
var ErrBody = errors.New("body is not strict JSON")

// ErrFuture is returned by CheckIssuedAt for an entry issued more than
// MaxClockSkew after the receiver's clock.
var ErrFuture = errors.New("entry issued in the future")

// CheckIssuedAt reports ErrFuture if e was issued more than MaxClockSkew
// after now. Receivers defer such an entry rather than refuse it.
func CheckIssuedAt(e *Entry, now time.Time) error {
	if e.IssuedAt.After(now.Add(MaxClockSkew)) {
		return fmt.Errorf("%w: issued_at %s, %s ahead of this node's clock", ErrFuture,
			e.IssuedAt.Format(time.RFC3339), e.IssuedAt.Sub(now).Round(time.Second))
	}
	return nil
}

// CheckJSON refuses a body that two JSON parsers could read differently.
// It must be one I-JSON value (RFC 7493): valid UTF-8, no lone surrogate
// escapes, no member name twice in one object at any depth (names compared
// after unescaping), every number an integer written without fraction or
// exponent with magnitude at most MaxSafeInteger, nesting at most
// MaxJSONDepth. Go's encoding/json alone accepts all of these, replacing
// bad bytes with U+FFFD and keeping the last of two members.
func CheckJSON(b []byte) error { return checkJSON(b, false) }

// CheckJSONText is CheckJSON without the rules on numbers: valid UTF-8, no
// lone surrogate escapes, no member name twice, nesting at most
// MaxJSONDepth. The node's HTTP API reads its bodies with it, so that what
// a browser or client sends is read the one way it can be.
func CheckJSONText(b []byte) error { return checkJSON(b, true) }

func checkJSON(b []byte, anyNumber bool) error {
	if !utf8.Valid(b) {
		return fmt.Errorf("%w: not valid UTF-8", ErrBody)
	}
	if !json.Valid(b) {
		return fmt.Errorf("%w: not one JSON value", ErrBody)
	}
	s := jsonScanner{b: b, anyNumber: anyNumber}
	s.value(0)
	if s.err != nil {
		return fmt.Errorf("%w: %v", ErrBody, s.err)
	}
	return nil
}

// jsonScanner walks a text json.Valid has accepted, checking what
// json.Valid does not; the first error sticks.
type jsonScanner struct {
	b         []byte
	off       int
	err       error
	anyNumber bool // numbers are not checked (CheckJSONText)
}

func (s *jsonScanner) fail(format string, args ...any) {
	if s.err == nil {
		s.err = fmt.Errorf(format+" at offset %d", append(args, s.off)...)
	}
}

func (s *jsonScanner) space() {
	for s.off < len(s.b) {
		switch s.b[s.off] {
		case ' ', '\t', '\n', '\r':
			s.off++
		default:
			return
		}
	}
}

func (s *jsonScanner) value(depth int) {
	s.space()
	if s.err != nil || s.off >= len(s.b) {
		return
	}
	switch c := s.b[s.off]; {
	case c == '{' || c == '[':
		if depth >= MaxJSONDepth {
			s.fail("nested deeper than %d", MaxJSONDepth)
			return
		}
		s.container(depth + 1)
	case c == '"':
		s.str()
	case c == 't':
		s.off += len("true")
	case c == 'f':
		s.off += len("false")
	case c == 'n':
		s.off += len("null")
	default:
		s.number()
	}
}

// container reads an object or an array; s.b[s.off] is its opening byte.
func (s *jsonScanner) container(depth int) {
	object := s.b[s.off] == '{'
	s.off++
	var names map[string]bool
	if object {
		names = make(map[string]bool)
	}
	for s.err == nil {
		s.space()
		switch s.b[s.off] {
		case '}', ']':
			s.off++
			return
		case ',':
			s.off++
			s.space()
		}
		if object {
			name := s.str()
			key := memberKey(name)
			if names[key] {
				s.fail("member %q twice (names are matched without case)", name)
				return
			}
			names[key] = true
			s.space()
			s.off++ // the colon
		}
		s.value(depth)
	}
}

// str reads a string and returns it unescaped.
func (s *jsonScanner) str() string {
	s.off++ // opening quote
	var out []byte
	for s.err == nil {
		c := s.b[s.off]
		switch {
		case c == '"':
			s.off++
			return string(out)
		case c != '\\':
			out = append(out, c)
			s.off++
			continue
		}
		esc := s.b[s.off+1]
		if esc != 'u' {
			out = append(out, unescape[esc])
			s.off += 2
			continue
		}
		r := s.hex4(s.off + 2)
		s.off += 6
		if utf16.IsSurrogate(r) {
			r2 := rune(-1)
			if s.off+6 <= len(s.b) && s.b[s.off] == '\\' && s.b[s.off+1] == 'u' {
				r2 = s.hex4(s.off + 2)
			}
			dec := utf16.DecodeRune(r, r2)
			if dec == utf8.RuneError {
				s.fail("lone surrogate \\u%04x", r)
				return ""
			}
			s.off += 6
			r = dec
		}
		out = utf8.AppendRune(out, r)
	}
	return ""
}

var unescape = [256]byte{'"': '"', '\\': '\\', '/': '/', 'b': '\b', 'f': '\f', 'n': '\n', 'r': '\r', 't': '\t'}

func (s *jsonScanner) hex4(at int) rune {
	v, _ := strconv.ParseUint(string(s.b[at:at+4]), 16, 32)
	return rune(v)
}

func (s *jsonScanner) number() {
	start := s.off
	for s.off < len(s.b) && isNumberByte(s.b[s.off]) {
		s.off++
	}
	if s.anyNumber {
		return
	}
	lit := string(s.b[start:s.off])
	n, err := strconv.ParseInt(lit, 10, 64)
	if err != nil {
		s.off = start
		s.fail("number %.40s is not an integer", lit)
		return
	}
	if n > MaxSafeInteger || n < -MaxSafeInteger {
		s.off = start
		s.fail("number %s beyond ±(2^53-1)", lit)
	}
}

func isNumberByte(c byte) bool {
	return '0' <= c && c <= '9' || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E'
}

// memberKey is the key under which encoding/json matches a member name to a
// struct field: letter case does not count, and the Kelvin sign and the
// long s stand for k and s.
func memberKey(name string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case '\u212a':
			return 'k'
		case '\u017f':
			return 's'
		}
		return unicode.ToLower(r)
	}, name)
}
