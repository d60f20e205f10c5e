package federation

import (
	"strings"
	"testing"
)

func TestDecodeVoucherRequest(t *testing.T) {
	for _, c := range []struct {
		in, err string
	}{
		{`{"op":"deliver","token":"a.b.c"}`, ""},
		{`{"op":"redeem","token":"a.b.c","case":"c1","amount_cents":100}`, ""},
		{`{"op":"spend","token":"a.b.c"}`, `unknown op "spend"`},
		{`{"op":"deliver","token":""}`, "token missing"},
		{`{"op":"redeem","token":"a.b.c","amount_cents":100}`, "redeem needs a case id"},
		{`{"op":"redeem","token":"a.b.c","case":"c1","amount_cents":0}`, "redeem needs a case id"},
		{`{"op":"redeem","token":"a.b.c","case":"c1","amount_cents":10000001}`, "redeem needs a case id"},
		{`{"op":"deliver","token":"a.b.c","amount_cents":5}`, "deliver carries only the token"},
		{`{"op":"deliver","token":"a.b.c","extra":1}`, "unknown field"},
		{`{"op":"deliver","token":"a.b.c"} {}`, ""},
	} {
		var req VoucherRequest
		err := DecodeVoucherRequest([]byte(c.in), &req)
		switch {
		case c.err == "" && strings.HasSuffix(c.in, "{}"):
			if err == nil {
				t.Errorf("%s: trailing value accepted", c.in)
			}
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.in, err)
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: %v, want %q", c.in, err, c.err)
		}
	}
}

func FuzzDecodeVoucherRequest(f *testing.F) {
	f.Add([]byte(`{"op":"redeem","token":"a.b.c","case":"c1","amount_cents":100}`))
	f.Add([]byte(`{"op":"deliver","token":"x"}`))
	f.Add([]byte(`[]`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var req VoucherRequest
		if DecodeVoucherRequest(b, &req) != nil {
			return
		}
		if req.Op != VoucherDeliver && req.Op != VoucherRedeem || req.Token == "" {
			t.Fatalf("accepted %q as %+v", b, req)
		}
	})
}
