package schema

import (
	"crypto/ed25519"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

const testIssuer = "urn:difronte:authority:test"

var (
	t0        = time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	coopSeed  = sha256.Sum256([]byte("coop"))
	coopKey   = ed25519.NewKeyFromSeed(coopSeed[:])
	coopPeer  = PeerIDFromPublicKey(coopKey.Public().(ed25519.PublicKey))
	authSeed  = sha256.Sum256([]byte("authority"))
	authKey   = ed25519.NewKeyFromSeed(authSeed[:])
	otherSeed = sha256.Sum256([]byte("other"))
	otherKey  = ed25519.NewKeyFromSeed(otherSeed[:])
)

func authPub() ed25519.PublicKey  { return authKey.Public().(ed25519.PublicKey) }
func otherPub() ed25519.PublicKey { return otherKey.Public().(ed25519.PublicKey) }

func testTrust(t testing.TB, mut ...func(*AuthorityKey)) *TrustSet {
	t.Helper()
	k := NewAuthorityKey(authPub(), testIssuer, "Comune di Bologna", []string{"037006", "037"})
	for _, m := range mut {
		m(&k)
	}
	ts, err := NewTrustSet([]AuthorityKey{k})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

func sampleQualification() Qualification {
	return Qualification{
		Context:    []string{CredentialsV2Context},
		ID:         "urn:uuid:6a1f3b0e-0000-4000-8000-000000000001",
		Type:       []string{VerifiableCredential, QualificationType},
		Issuer:     Issuer{ID: testIssuer, Name: "Comune di Bologna"},
		ValidFrom:  FormatTime(t0),
		ValidUntil: FormatTime(t0.AddDate(1, 0, 0)),
		CredentialSubject: QualificationSubject{
			ID:             PeerURNPrefix + coopPeer,
			Categories:     []string{"anziani"},
			Municipalities: []string{"037006"},
		},
		CredentialStatus: StatusEntry{
			ID:                   StatusListID(testIssuer, 1) + "#7",
			Type:                 StatusEntryType,
			StatusPurpose:        StatusPurpose,
			StatusListIndex:      "7",
			StatusListCredential: StatusListID(testIssuer, 1),
		},
	}
}

func mustSign(t testing.TB, priv ed25519.PrivateKey, payload any) string {
	t.Helper()
	tok, err := SignCredential(priv, Thumbprint(priv.Public().(ed25519.PublicKey)), payload)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// rawToken signs an arbitrary header and payload with Ed25519, bypassing
// go-jose, to build what an attacker could.
func rawToken(priv ed25519.PrivateKey, header map[string]any, payload []byte) string {
	h, _ := json.Marshal(header)
	in := b64(h) + "." + b64(payload)
	return in + "." + b64(ed25519.Sign(priv, []byte(in)))
}

func goodHeader() map[string]any {
	return map[string]any{"alg": "EdDSA", "typ": "vc+jwt", "kid": Thumbprint(authPub())}
}

func qualJSON(mut func(*Qualification)) []byte {
	q := sampleQualification()
	if mut != nil {
		mut(&q)
	}
	b, _ := json.Marshal(q)
	return b
}

func TestQualificationRoundTrip(t *testing.T) {
	ts := testTrust(t)
	q0 := sampleQualification()
	tok := mustSign(t, authKey, q0)
	q, k, err := ts.VerifyQualification(tok, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "Comune di Bologna" || q.Subject() != coopPeer {
		t.Fatalf("got key %q subject %q", k.Name, q.Subject())
	}
	if ok, why := q.Covers("anziani.assistenza-domiciliare", []string{"037006"}); !ok {
		t.Fatalf("child category not covered: %s", why)
	}
	if ok, _ := q.Covers("anziani", []string{"037006", "037007"}); ok {
		t.Fatal("a municipality outside the credential is covered")
	}
	if ok, _ := q.Covers("minori", []string{"037006"}); ok {
		t.Fatal("another category is covered")
	}
	parts := strings.Split(tok, ".")
	hb, _ := base64.RawURLEncoding.DecodeString(parts[0])
	var hdr map[string]any
	_ = json.Unmarshal(hb, &hdr)
	if hdr["alg"] != "EdDSA" || hdr["typ"] != "vc+jwt" || hdr["kid"] != Thumbprint(authPub()) || len(hdr) != 3 {
		t.Fatalf("header %v", hdr)
	}
	// The entry body form is accepted by the kind validator.
	if err := ValidateBody(KindQualification, q0.ID, CredentialEntryBody(tok)); err != nil {
		t.Fatal(err)
	}
	if err := ValidateBody(KindQualification, "urn:other", CredentialEntryBody(tok)); err == nil {
		t.Fatal("entry key mismatch accepted")
	}
}

// TestHostileCredentials is the table of malformed and hostile credentials:
// every one is refused, with a reason naming what is wrong.
// credentialCase is a hostile credential and the whole reason for its
// refusal after "credential refused: ". key, when set, changes the one
// trusted key before the check.
type credentialCase struct {
	name  string
	token string
	key   func(*AuthorityKey)
	now   time.Time
	why   string
}

func keyMut(f func(*AuthorityKey)) func(*AuthorityKey) { return f }

// hostileCredentials are the refusals of TestHostileCredentials, also
// written as conformance vectors (testdata/protocol/credentials.json).
func hostileCredentials(t testing.TB) []credentialCase {
	now := t0.Add(time.Hour)
	good := mustSign(t, authKey, sampleQualification())
	gp := strings.Split(good, ".")
	hs256 := func() string {
		h, _ := json.Marshal(map[string]any{"alg": "HS256", "typ": "vc+jwt", "kid": Thumbprint(authPub())})
		in := b64(h) + "." + gp[1]
		m := hmac.New(sha256.New, authPub())
		m.Write([]byte(in))
		return in + "." + b64(m.Sum(nil))
	}
	jsonSer := func() string {
		return `{"payload":"` + gp[1] + `","protected":"` + gp[0] + `","signature":"` + gp[2] + `"}`
	}
	with := func(k string, v any) map[string]any { h := goodHeader(); h[k] = v; return h }
	without := func(k string) map[string]any { h := goodHeader(); delete(h, k); return h }
	pay := qualJSON(nil)
	withVC := func() []byte {
		var m map[string]any
		_ = json.Unmarshal(pay, &m)
		m["vc"] = map[string]any{"type": []string{"VerifiableCredential"}}
		b, _ := json.Marshal(m)
		return b
	}
	otherKid := func() string {
		return rawToken(otherKey, with("kid", Thumbprint(otherPub())), pay)
	}
	jwk := map[string]any{"kty": "OKP", "crv": "Ed25519", "x": b64(otherPub())}
	badSig := "signature does not verify with key " + Thumbprint(authPub())

	return []credentialCase{
		{"alg none", b64([]byte(`{"alg":"none","typ":"vc+jwt","kid":"`+Thumbprint(authPub())+`"}`)) + "." + gp[1] + ".", nil, now, `alg "none"; only EdDSA is accepted`},
		{"HS256 with the public key as secret", hs256(), nil, now, `alg "HS256"; only EdDSA is accepted`},
		{"ES256 header", rawToken(authKey, with("alg", "ES256"), pay), nil, now, `alg "ES256"; only EdDSA is accepted`},
		{"unknown kid", otherKid(), nil, now, `kid "` + Thumbprint(otherPub()) + `" is not a trusted authority key`},
		{"trusted kid, other key's signature", rawToken(otherKey, goodHeader(), pay), nil, now, badSig},
		{"missing kid", rawToken(authKey, without("kid"), pay), nil, now, "kid missing"},
		{"missing typ", rawToken(authKey, without("typ"), pay), nil, now, `typ ""; want vc+jwt`},
		{"typ JWT", rawToken(authKey, with("typ", "JWT"), pay), nil, now, `typ "JWT"; want vc+jwt`},
		{"embedded jwk", rawToken(otherKey, with("jwk", jwk), pay), nil, now, `header member "jwk" not allowed`},
		{"jku header", rawToken(authKey, with("jku", "https://attacker.invalid/jwks"), pay), nil, now, `header member "jku" not allowed`},
		{"x5c header", rawToken(authKey, with("x5c", []string{"AAAA"}), pay), nil, now, `header member "x5c" not allowed`},
		{"crit header", rawToken(authKey, with("crit", []string{"exp"}), pay), nil, now, `header member "crit" not allowed`},
		{"b64 false", rawToken(authKey, with("b64", false), pay), nil, now, `header member "b64" not allowed`},
		{"JSON serialization", jsonSer(), nil, now, "JSON serialization; only the compact form is accepted"},
		{"altered payload", gp[0] + "." + b64(qualJSON(func(q *Qualification) {
			q.CredentialSubject.Municipalities = []string{"037006", "037007"}
		})) + "." + gp[2], nil, now, badSig},
		{"altered header", b64([]byte(`{"alg":"EdDSA","kid":"`+Thumbprint(authPub())+`","typ":"vc+jwt" }`)) + "." + gp[1] + "." + gp[2], nil, now, badSig},
		{"truncated signature", good[:len(good)-4], nil, now, badSig},
		{"four parts", good + ".AAAA", nil, now, "compact JWS has 3 parts, got 4"},
		{"vc claim", rawToken(authKey, goodHeader(), withVC()), nil, now, `top-level "vc" claim: VC-JWT 1.1 shape, not VC 2.0`},
		{"expired", good, nil, t0.AddDate(1, 0, 1), "expired at 2027-03-01T09:00:00Z"},
		{"not yet valid", good, nil, t0.Add(-time.Hour), "not valid before 2026-03-01T09:00:00Z"},
		{"other territory", mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.CredentialSubject.Municipalities = []string{"080063"}
		}))), nil, now, "municipality 080063 is outside the territory of Comune di Bologna"},
		{"key trusted for another territory", good, keyMut(func(k *AuthorityKey) { k.Territory = []string{"080063"} }), now, "municipality 037006 is outside the territory of Comune di Bologna"},
		{"issuer not owning the key", mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.Issuer.ID = "urn:difronte:authority:elsewhere"
		}))), nil, now, `issuer "urn:difronte:authority:elsewhere" does not own key ` + Thumbprint(authPub()) + " (" + testIssuer + ")"},
		{"signed after key retirement", good, keyMut(func(k *AuthorityKey) { k.Retired = t0.Add(-time.Hour).Unix() }), now, "key " + Thumbprint(authPub()) + " was retired before validFrom"},
		{"key hard-expired", good, keyMut(func(k *AuthorityKey) { k.Expires = t0.Add(time.Minute).Unix() }), now, "key " + Thumbprint(authPub()) + " expired"},
		{"@context not VC 2.0 first", mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.Context = []string{"https://www.w3.org/2018/credentials/v1"}
		}))), nil, now, "@context must start with " + CredentialsV2Context},
		{"missing qualification type", mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.Type = []string{VerifiableCredential}
		}))), nil, now, "type must be [VerifiableCredential DifronteQualification]"},
		{"subject not a peer", mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.CredentialSubject.ID = "did:example:123"
		}))), nil, now, `subject "did:example:123" is not a peer URN`},
		{"validUntil before validFrom", mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.ValidUntil = FormatTime(t0.Add(-time.Hour))
		}))), nil, now, "validUntil is not after validFrom"},
		{"unknown category", mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.CredentialSubject.Categories = []string{"anything"}
		}))), nil, now, `unknown category "anything"`},
		{"no status entry", mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.CredentialStatus = StatusEntry{}
		}))), nil, now, "credentialStatus must be a BitstringStatusListEntry for revocation"},
		{"status index out of range", mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.CredentialStatus.StatusListIndex = "131072"
		}))), nil, now, `status list index "131072" out of range`},
		{"unknown payload member", rawToken(authKey, goodHeader(), append(pay[:len(pay)-1:len(pay)-1], []byte(`,"evidence":1}`)...)), nil, now, `payload: json: unknown field "evidence"`},
		{"payload not JSON", rawToken(authKey, goodHeader(), []byte("not json")), nil, now, "payload is not a JSON object"},
		{"oversized", strings.Repeat("A", MaxCredentialSize+1), nil, now, fmt.Sprintf("token of %d bytes", MaxCredentialSize+1)},
		{"empty", "", nil, now, "compact JWS has 3 parts, got 1"},
	}
}

func TestHostileCredentials(t *testing.T) {
	cases := hostileCredentials(t)
	if len(cases) < 20 {
		t.Fatalf("only %d cases", len(cases))
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tr := testTrust(t)
			if c.key != nil {
				tr = testTrust(t, c.key)
			}
			_, _, err := tr.VerifyQualification(c.token, c.now)
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, ErrCredential) {
				t.Fatalf("error does not wrap ErrCredential: %v", err)
			}
			if want := ErrCredential.Error() + ": " + c.why; err.Error() != want {
				t.Fatalf("reason %q, want %q", err, want)
			}
		})
	}
}

func TestKeyRotation(t *testing.T) {
	old := NewAuthorityKey(authPub(), testIssuer, "Comune di Bologna", []string{"037"})
	old.Retired = t0.Add(24 * time.Hour).Unix()
	neu := NewAuthorityKey(otherPub(), testIssuer, "Comune di Bologna", []string{"037"})
	neu.NotBefore = t0.Add(24 * time.Hour).Unix()
	ts, err := NewTrustSet([]AuthorityKey{old, neu})
	if err != nil {
		t.Fatal(err)
	}
	before := mustSign(t, authKey, sampleQualification())
	later := t0.AddDate(0, 6, 0)
	if _, _, err := ts.VerifyQualification(before, later); err != nil {
		t.Fatalf("credential of the retired key before retirement: %v", err)
	}
	q := sampleQualification()
	q.ValidFrom = FormatTime(t0.Add(48 * time.Hour))
	if _, _, err := ts.VerifyQualification(mustSign(t, authKey, q), later); err == nil || err.Error() != "credential refused: key "+Thumbprint(authPub())+" was retired before validFrom" {
		t.Fatalf("retired key signed a new credential: %v", err)
	}
	if _, _, err := ts.VerifyQualification(mustSign(t, otherKey, q), later); err != nil {
		t.Fatalf("new key: %v", err)
	}
	q.ValidFrom = FormatTime(t0)
	if _, _, err := ts.VerifyQualification(mustSign(t, otherKey, q), later); err == nil || err.Error() != "credential refused: validFrom precedes key "+Thumbprint(otherPub()) {
		t.Fatalf("new key signed a credential dated before it: %v", err)
	}
}

func sampleStatusList(bits []byte, at time.Time) StatusList {
	id := StatusListID(testIssuer, 1)
	return StatusList{
		Context:   []string{CredentialsV2Context},
		ID:        id,
		Type:      []string{VerifiableCredential, StatusListType},
		Issuer:    Issuer{ID: testIssuer},
		ValidFrom: FormatTime(at),
		CredentialSubject: StatusListSubject{
			ID: id + "#list", Type: "BitstringStatusList", StatusPurpose: StatusPurpose,
			EncodedList: EncodeBitstring(bits),
		},
	}
}

func TestStatusList(t *testing.T) {
	ts := testTrust(t)
	bits := NewBitstring()
	SetBit(bits, 7)
	SetBit(bits, 131071)
	tok := mustSign(t, authKey, sampleStatusList(bits, t0))
	l, _, err := ts.VerifyStatusList(tok)
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range map[int]bool{0: false, 6: false, 7: true, 8: false, 131071: true} {
		if got, _ := l.Revoked(i); got != want {
			t.Fatalf("bit %d = %v", i, got)
		}
	}
	if err := ValidateBody(KindStatusList, l.ID, CredentialEntryBody(tok)); err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"", "zAAA", "u***", "u" + b64([]byte("not gzip")), EncodeBitstring(make([]byte, 10)), EncodeBitstring(make([]byte, 1<<20))} {
		if _, err := DecodeBitstring(bad); err == nil {
			t.Fatalf("decoded %.20q", bad)
		}
	}
}

// TestWriteInterop writes a credential, a status list and the JWKS for the
// independent checker in web/e2e/credentials.test.js (into
// DIFRONTE_INTEROP_DIR), and checks that what it wrote verifies here.
func TestWriteInterop(t *testing.T) {
	dir := os.Getenv("DIFRONTE_INTEROP_DIR")
	if dir == "" {
		dir = t.TempDir()
	}
	bits := NewBitstring()
	SetBit(bits, 7)
	jwks, err := MarshalJWKS([]AuthorityKey{NewAuthorityKey(authPub(), testIssuer, "Comune di Bologna", []string{"037"})})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]any{
		"credential": mustSign(t, authKey, sampleQualification()),
		"statusList": mustSign(t, authKey, sampleStatusList(bits, t0)),
		"revoked":    []int{7},
		"jwks":       json.RawMessage(jwks),
	}
	b, _ := json.MarshalIndent(out, "", "  ")
	if err := os.WriteFile(filepath.Join(dir, "interop.json"), b, 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := ParseJWKS(jwks)
	if err != nil {
		t.Fatal(err)
	}
	ts, err := NewTrustSet(keys)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := ts.VerifyQualification(out["credential"].(string), t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if l, _, err := ts.VerifyStatusList(out["statusList"].(string)); err != nil {
		t.Fatal(err)
	} else if r, _ := l.Revoked(7); !r {
		t.Fatal("index 7 not revoked in the written list")
	}
}

func FuzzParseToken(f *testing.F) {
	f.Add(mustSign(f, authKey, sampleQualification()))
	f.Add("a.b.c")
	f.Add(`{"payload":""}`)
	ts := testTrust(f)
	f.Fuzz(func(t *testing.T, s string) {
		if _, _, err := ts.VerifyQualification(s, t0.Add(time.Hour)); err == nil && s != "" {
			// Only a real signature by the trusted key can pass.
			tok, _ := ParseToken(s)
			if _, err := tok.Verify(authPub()); err != nil {
				t.Fatal("accepted without a signature")
			}
		}
		_, _ = DecodeBitstring(s)
	})
}

func BenchmarkVerifyQualification(b *testing.B) {
	ts := testTrust(b)
	tok := mustSign(b, authKey, sampleQualification())
	now := t0.Add(time.Hour)
	b.Run("go-jose", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := ts.VerifyQualification(tok, now); err != nil {
				b.Fatal(err)
			}
		}
	})
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	msg := []byte(parts[0] + "." + parts[1])
	b.Run("raw-ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(authPub(), msg, sig) {
				b.Fatal("bad")
			}
		}
	})
	_ = jose.EdDSA
}
