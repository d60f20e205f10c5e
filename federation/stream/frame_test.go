package stream

import (
	"bytes"
	"errors"
	"testing"
)

// MaxSignalFrame is the signal protocol's limit (federation), the one
// these tests were written against.
const MaxSignalFrame = 64 << 10

func TestFrameRoundTrip(t *testing.T) {
	var b bytes.Buffer
	for _, p := range [][]byte{{}, []byte("hello"), bytes.Repeat([]byte("x"), MaxSignalFrame)} {
		if err := WriteFrame(&b, p, MaxSignalFrame); err != nil {
			t.Fatal(err)
		}
		got, err := ReadFrame(&b, MaxSignalFrame)
		if err != nil || !bytes.Equal(got, p) {
			t.Fatalf("round trip of %d bytes: %v", len(p), err)
		}
	}
	if err := WriteFrame(&b, make([]byte, MaxSignalFrame+1), MaxSignalFrame); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized write: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff}), MaxSignalFrame); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized length: %v", err)
	}
	if _, err := ReadFrame(bytes.NewReader([]byte{0, 0, 0, 9, 'a'}), MaxSignalFrame); err == nil {
		t.Fatal("truncated frame accepted")
	}
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0, 0, 0, 2, 'h', 'i'})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Add([]byte{0, 0})
	f.Fuzz(func(t *testing.T, in []byte) {
		b, err := ReadFrame(bytes.NewReader(in), 1024)
		if err == nil && len(b) > 1024 {
			t.Fatalf("frame of %d bytes past the limit", len(b))
		}
	})
}

func TestLine(t *testing.T) {
	var b bytes.Buffer
	if err := Line.write(&b, []byte("127.0.0.1:7946"), 128); err != nil || b.String() != "127.0.0.1:7946\n" {
		t.Fatalf("line %q, %v", b.String(), err)
	}
	got, err := Line.read(&b, 128)
	if err != nil || string(got) != "127.0.0.1:7946" {
		t.Fatalf("read %q, %v", got, err)
	}
	if _, err := Line.read(bytes.NewReader(bytes.Repeat([]byte("x"), 200)), 128); err == nil {
		t.Fatal("an endless line was read")
	}
	if _, err := Line.read(bytes.NewReader([]byte("no end")), 128); err == nil {
		t.Fatal("a line cut short was read")
	}
}

func TestJSONPayload(t *testing.T) {
	var v struct{ A int }
	for _, bad := range []string{``, `{"A":1,"B":2}`, `{"A":1} {}`, `{`} {
		if err := UnmarshalJSON([]byte(bad), 64, &v); err == nil {
			t.Errorf("%q decoded", bad)
		}
	}
	if err := UnmarshalJSON([]byte(`{"A":1}`), 64, &v); err != nil || v.A != 1 {
		t.Fatalf("decode: %+v %v", v, err)
	}
	if _, err := MarshalJSON(struct{ S string }{string(make([]byte, 100))}, 64); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("oversized payload: %v", err)
	}
}
