package search

import (
	"encoding/json"
	"unicode/utf8"

	gojson "github.com/goccy/go-json"

	"github.com/difronte/difronte/schema"
)

// decodeOffering decodes the body of an offering held in the replica.
// Decoding is a fifth of building the index of a catalogue, and go-json
// takes a quarter of encoding/json's time for it. It decodes what
// encoding/json decodes to the same value (FuzzDecodeOfferingMatchesStd),
// with two differences, both only on input encoding/json refuses or
// mends: go-json skips an unknown field's value without checking that it
// is valid JSON, and keeps bytes that are not UTF-8 where encoding/json
// puts U+FFFD. Every body in the replica passed the entry validator,
// which decodes it with encoding/json, so the first cannot arise here; a
// body that is not UTF-8 goes to encoding/json, for the second.
func decodeOffering(b []byte, o *schema.Offering) error {
	if !utf8.Valid(b) {
		return json.Unmarshal(b, o)
	}
	return gojson.Unmarshal(b, o)
}
