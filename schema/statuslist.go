package schema

import (
	"bytes"
	"compress/gzip"
	"encoding/base64"
	"fmt"
	"io"
	"strings"
)

// W3C Bitstring Status List v1.0: the list is a bitstring, GZIP-compressed,
// base64url-encoded without padding and prefixed with the multibase code
// 'u'. Bit 0 is the most significant bit of the first byte.

// NewBitstring returns an all-clear list of StatusListBits.
func NewBitstring() []byte { return make([]byte, StatusListBits/8) }

// SetBit sets bit i.
func SetBit(bits []byte, i int) { bits[i/8] |= 0x80 >> (i % 8) }

// BitSet reports whether bit i is set; out of range is false.
func BitSet(bits []byte, i int) bool {
	if i < 0 || i/8 >= len(bits) {
		return false
	}
	return bits[i/8]&(0x80>>(i%8)) != 0
}

// EncodeBitstring compresses and encodes bits for encodedList.
func EncodeBitstring(bits []byte) string {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(bits) // a bytes.Buffer does not fail
	_ = zw.Close()
	return "u" + base64.RawURLEncoding.EncodeToString(buf.Bytes())
}

// DecodeBitstring is the inverse of EncodeBitstring. It reads network
// bytes, so it bounds the decompressed size (a gzip bomb stops at one byte
// past the list length) and refuses any length but StatusListBits.
func DecodeBitstring(s string) ([]byte, error) {
	rest, ok := strings.CutPrefix(s, "u")
	if !ok {
		return nil, refuse("encodedList lacks the multibase 'u' prefix")
	}
	if len(rest) > MaxCredentialSize {
		return nil, refuse("encodedList too long")
	}
	z, err := base64.RawURLEncoding.Strict().DecodeString(rest)
	if err != nil {
		return nil, refuse("encodedList is not base64url")
	}
	zr, err := gzip.NewReader(bytes.NewReader(z))
	if err != nil {
		return nil, refuse("encodedList is not GZIP: %v", err)
	}
	zr.Multistream(false)
	bits, err := io.ReadAll(io.LimitReader(zr, StatusListBits/8+1))
	if err != nil {
		return nil, refuse("encodedList: %v", err)
	}
	if len(bits) != StatusListBits/8 {
		return nil, refuse("encodedList holds %d bits, want %d", len(bits)*8, StatusListBits)
	}
	return bits, nil
}

// StatusListID returns the id of an issuer's revocation list number n.
func StatusListID(issuer string, n int) string {
	return fmt.Sprintf("%s:status:%d", issuer, n)
}
