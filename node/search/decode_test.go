package search

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/schema"
)

// FuzzDecodeOfferingMatchesStd: on every body encoding/json takes as
// JSON, decodeOffering gives what encoding/json gives, the same value or
// an error alike. The replica only holds bodies the entry validator
// decoded with encoding/json.
func FuzzDecodeOfferingMatchesStd(f *testing.F) {
	for _, o := range append(genOfferings(5, 30), demo.Offerings(9, 30)...) {
		b, err := json.Marshal(o)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	// Not UTF-8: encoding/json puts U+FFFD, go-json would keep the byte.
	f.Add([]byte("{\"name\":\"a\xffb\",\"schedule\":{\"description\":\"\xb7\"}}"))
	f.Add([]byte(`{"name":"\ud800 \u00e8"}`))
	// Names matched without case, the last one winning.
	f.Add([]byte(`{"Name":"x","name":"y","NAME":"z","sChedule":{"desCription":"d"}}`))
	// Values of the wrong type, nulls, unknown fields, numbers out of range.
	f.Add([]byte(`{"areas":null,"cost":{"options":[{"amount_cents":1e3}]}}`))
	f.Add([]byte(`{"eligibility":{"min_age":"3"},"languages":["it",null]}`))
	f.Add([]byte(`{"cost":{"options":[{"amount_cents":99999999999999999999}]}}`))
	f.Add([]byte(`{"x":{"y":[1,{"z":null}]},"id":"a","categories":[]}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if !json.Valid(b) {
			return
		}
		var want, got schema.Offering
		werr := json.Unmarshal(b, &want)
		gerr := decodeOffering(b, &got)
		if (werr == nil) != (gerr == nil) {
			t.Fatalf("encoding/json: %v; decodeOffering: %v; body %q", werr, gerr, b)
		}
		if werr == nil && !reflect.DeepEqual(want, got) {
			t.Fatalf("body %q:\nencoding/json  %+v\ndecodeOffering %+v", b, want, got)
		}
	})
}
