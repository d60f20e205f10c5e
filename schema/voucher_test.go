package schema

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func sampleVoucher() Voucher {
	return Voucher{
		Context:    []string{CredentialsV2Context},
		ID:         "urn:uuid:7b2e0c1a-0000-4000-8000-000000000001",
		Type:       []string{VerifiableCredential, VoucherType},
		Issuer:     Issuer{ID: testIssuer, Name: "Comune di Bologna"},
		ValidFrom:  FormatTime(t0),
		ValidUntil: FormatTime(t0.AddDate(0, 6, 0)),
		CredentialSubject: VoucherSubject{
			ID: CitizenURN(coopPeer, "w-4f2a9c81d3"), AmountCents: 25000, Currency: "EUR", Categories: []string{"anziani"},
		},
	}
}

func voucherJSON(mut func(*Voucher)) json.RawMessage {
	v := sampleVoucher()
	if mut != nil {
		mut(&v)
	}
	b, _ := json.Marshal(v)
	return b
}

func TestVoucherRoundTrip(t *testing.T) {
	ts := testTrust(t)
	tok := mustSign(t, authKey, sampleVoucher())
	v, k, err := ts.VerifyVoucher(tok, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	home, wallet := v.Holder()
	if home != coopPeer || wallet != "w-4f2a9c81d3" || k.Kid != Thumbprint(authPub()) || v.CredentialSubject.AmountCents != 25000 {
		t.Fatalf("holder %s %s, key %s, %+v", home, wallet, k.Kid, v.CredentialSubject)
	}
	if !v.Covers("anziani.pasti") || v.Covers("minori") {
		t.Fatal("category cover")
	}
}

func TestHostileVouchers(t *testing.T) {
	ts := testTrust(t)
	now := t0.Add(time.Hour)
	sign := func(mut func(*Voucher)) string { return mustSign(t, authKey, voucherJSON(mut)) }
	cases := []struct {
		name, token string
		now         time.Time
		why         string
	}{
		{"untrusted key", mustSign(t, otherKey, sampleVoucher()), now, `kid "` + Thumbprint(otherPub()) + `" is not a trusted authority key`},
		{"a qualification is not a voucher", mustSign(t, authKey, sampleQualification()), now, `payload: json: unknown field "municipalities"`},
		{"wrong type", sign(func(v *Voucher) { v.Type = []string{VerifiableCredential, QualificationType} }), now, "type must be [VerifiableCredential DifronteVoucher]"},
		{"zero amount", sign(func(v *Voucher) { v.CredentialSubject.AmountCents = 0 }), now, "amount of 0 cents"},
		{"negative amount", sign(func(v *Voucher) { v.CredentialSubject.AmountCents = -5 }), now, "amount of -5 cents"},
		{"amount too large", sign(func(v *Voucher) { v.CredentialSubject.AmountCents = MaxVoucherCents + 1 }), now, "amount of 10000001 cents"},
		{"other currency", sign(func(v *Voucher) { v.CredentialSubject.Currency = "USD" }), now, `currency "USD"; only EUR`},
		{"subject a peer", sign(func(v *Voucher) { v.CredentialSubject.ID = PeerURNPrefix + coopPeer }), now, `subject "` + PeerURNPrefix + coopPeer + `" is not a citizen URN`},
		{"subject's home not a peer", sign(func(v *Voucher) { v.CredentialSubject.ID = CitizenURN("nodo", "w-4f2a9c81d3") }), now, "subject's home node: "},
		{"wallet id too short", sign(func(v *Voucher) { v.CredentialSubject.ID = CitizenURN(coopPeer, "abc") }), now, `subject's wallet id "abc" is not valid`},
		{"unknown category", sign(func(v *Voucher) { v.CredentialSubject.Categories = []string{"gioco"} }), now, `unknown category "gioco"`},
		{"no category", sign(func(v *Voucher) { v.CredentialSubject.Categories = nil }), now, "0 categories"},
		{"expired", sign(nil), t0.AddDate(0, 6, 1), "expired at " + FormatTime(t0.AddDate(0, 6, 0))},
		{"not yet valid", sign(nil), t0.Add(-time.Minute), "not valid before " + FormatTime(t0)},
		{"issuer not owning the key", sign(func(v *Voucher) { v.Issuer.ID = "urn:difronte:authority:elsewhere" }), now, `issuer "urn:difronte:authority:elsewhere" does not own key`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, _, err := ts.VerifyVoucher(c.token, c.now)
			if err == nil || !errors.Is(err, ErrCredential) || !strings.HasPrefix(err.Error(), ErrCredential.Error()+": "+c.why) {
				t.Fatalf("err %v, want %q", err, c.why)
			}
		})
	}
}

func FuzzDecodeVoucher(f *testing.F) {
	f.Add([]byte(voucherJSON(nil)))
	f.Add([]byte(`{"@context":[]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := DecodeVoucher(b)
		if err != nil {
			return
		}
		// What decodes must validate again after a round trip.
		again, _ := json.Marshal(v)
		if _, err := DecodeVoucher(again); err != nil {
			t.Fatalf("accepted %q but not its re-encoding: %v", b, err)
		}
	})
}
