package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func TestCheckJSON(t *testing.T) {
	deep := func(n int) string { return strings.Repeat("[", n) + strings.Repeat("]", n) }
	for _, c := range []struct {
		body string
		ok   bool
	}{
		{`{"a":1,"b":[1,-2,0],"c":{"a":1}}`, true},
		{`"😀 \ud83d\ude00 \u00e8 \n"`, true},
		{`{"a":{"b":1},"c":{"b":2}}`, true}, // the same name in two objects
		{`[9007199254740991,-9007199254740991,-0]`, true},
		{deep(MaxJSONDepth), true},
		{"\"\xff\"", false},
		{"\"\xed\xa0\x80\"", false}, // a surrogate encoded in UTF-8
		{`"\ud800"`, false},
		{`"\udc00\ud800"`, false},
		{`"\ud800\u0041"`, false},
		{`{"a":1,"a":1}`, false},
		{`{"a":1,"\u0061":2}`, false},
		{`[{"x":{"y":1,"y":2}}]`, false},
		// encoding/json matches names to fields without case: two
		// spellings of one field would each be read by some parser.
		{`{"NAME":"x","name":"Coop"}`, false},
		{`{"Kind":1,"\u212aind":2}`, false}, // the Kelvin sign folds to k
		{`{"s":1,"\u017f":2}`, false},       // the long s folds to s
		{`{"ab":1,"aB":2}`, false},
		{`1.0`, false},
		{`1e2`, false},
		{`9007199254740992`, false},
		{`-9007199254740992`, false},
		{`123456789012345678901234567890`, false},
		{deep(MaxJSONDepth + 1), false},
		{`{"a":1} {}`, false},
		{``, false},
	} {
		err := CheckJSON([]byte(c.body))
		if (err == nil) != c.ok {
			t.Errorf("CheckJSON(%q) = %v, want ok %v", c.body, err, c.ok)
		}
		if err != nil && !errors.Is(err, ErrBody) {
			t.Errorf("CheckJSON(%q) = %v, not ErrBody", c.body, err)
		}
	}
}

func TestCheckIssuedAt(t *testing.T) {
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		at     time.Time
		future bool
	}{
		{now.Add(-time.Hour), false},
		{now.Add(MaxClockSkew), false},
		{now.Add(MaxClockSkew + time.Millisecond), true},
	} {
		if err := CheckIssuedAt(&Entry{IssuedAt: c.at}, now); errors.Is(err, ErrFuture) != c.future {
			t.Errorf("issued %s: %v", c.at, err)
		}
	}
}

// FuzzCheckJSON: what CheckJSON accepts, encoding/json reads without
// replacing anything, and reads back the same after writing it again.
func FuzzCheckJSON(f *testing.F) {
	for _, s := range []string{`{"a":[1,2,{"b":"c"}]}`, `"\ud83d\ude00"`, `{"a":1,"a":2}`, "\"\xff\"", `1.5`, `[[[[1]]]]`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if CheckJSON(b) != nil {
			return
		}
		var v any
		if err := json.Unmarshal(b, &v); err != nil {
			t.Fatalf("accepted but encoding/json refuses: %v", err)
		}
		again, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if !utf8.Valid(again) || CheckJSON(again) != nil {
			t.Fatalf("accepted %q, but its re-encoding %q is not", b, again)
		}
	})
}
