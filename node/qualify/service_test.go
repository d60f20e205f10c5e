package qualify

import (
	"context"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/schema"
)

// fakeReplica feeds entries to the service by hand.
type fakeReplica struct {
	fns []func(old, cur *schema.Entry)
}

func (f *fakeReplica) Current(context.Context, schema.Kind, func(*schema.Entry) error) error {
	return nil
}
func (f *fakeReplica) OnChange(fn func(old, cur *schema.Entry)) { f.fns = append(f.fns, fn) }
func (f *fakeReplica) put(old, cur *schema.Entry) {
	for _, fn := range f.fns {
		fn(old, cur)
	}
}

var t0 = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)

func key(s string) ed25519.PrivateKey {
	h := sha256.Sum256([]byte(s))
	return ed25519.NewKeyFromSeed(h[:])
}

const issuer = "urn:difronte:authority:test"

type fixture struct {
	auth, coop ed25519.PrivateKey
	coopPeer   string
	trust      *schema.TrustSet
}

func newFixture(t testing.TB) fixture {
	f := fixture{auth: key("auth"), coop: key("coop")}
	f.coopPeer = schema.PeerIDFromPublicKey(f.coop.Public().(ed25519.PublicKey))
	ak := schema.NewAuthorityKey(f.auth.Public().(ed25519.PublicKey), issuer, "Comune di Bologna", []string{"037"})
	ts, err := schema.NewTrustSet([]schema.AuthorityKey{ak})
	if err != nil {
		t.Fatal(err)
	}
	f.trust = ts
	return f
}

func (f fixture) credential(t testing.TB, signer ed25519.PrivateKey, idx string) string {
	q := schema.Qualification{
		Context: []string{schema.CredentialsV2Context}, ID: "urn:uuid:1-" + idx,
		Type:   []string{schema.VerifiableCredential, schema.QualificationType},
		Issuer: schema.Issuer{ID: issuer}, ValidFrom: schema.FormatTime(t0), ValidUntil: schema.FormatTime(t0.AddDate(1, 0, 0)),
		CredentialSubject: schema.QualificationSubject{ID: schema.PeerURNPrefix + f.coopPeer, Categories: []string{"anziani"}, Municipalities: []string{"037006"}},
		CredentialStatus: schema.StatusEntry{ID: schema.StatusListID(issuer, 1) + "#" + idx, Type: schema.StatusEntryType, StatusPurpose: schema.StatusPurpose,
			StatusListIndex: idx, StatusListCredential: schema.StatusListID(issuer, 1)},
	}
	tok, err := schema.SignCredential(signer, schema.Thumbprint(signer.Public().(ed25519.PublicKey)), q)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func (f fixture) list(t testing.TB, at time.Time, revoked ...int) string {
	bits := schema.NewBitstring()
	for _, i := range revoked {
		schema.SetBit(bits, i)
	}
	id := schema.StatusListID(issuer, 1)
	l := schema.StatusList{Context: []string{schema.CredentialsV2Context}, ID: id,
		Type: []string{schema.VerifiableCredential, schema.StatusListType}, Issuer: schema.Issuer{ID: issuer},
		ValidFrom:         schema.FormatTime(at),
		CredentialSubject: schema.StatusListSubject{ID: id + "#list", Type: "BitstringStatusList", StatusPurpose: schema.StatusPurpose, EncodedList: schema.EncodeBitstring(bits)}}
	tok, err := schema.SignCredential(f.auth, schema.Thumbprint(f.auth.Public().(ed25519.PublicKey)), l)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func entry(kind schema.Kind, key, tok string, seq uint64) *schema.Entry {
	return &schema.Entry{Publisher: "12D3KooWauthority", Seq: seq, Kind: kind, Key: key, Body: schema.CredentialEntryBody(tok)}
}

func TestServiceRevocationMovesForward(t *testing.T) {
	f := newFixture(t)
	clk := fakeclock.New(t0.Add(time.Hour))
	svc := NewService(f.trust, clk, nil)
	r := &fakeReplica{}
	if err := svc.Attach(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	changed := map[string]int{}
	svc.OnChange(func(p string) { changed[p]++ })
	o := schema.Offering{Category: "anziani.pasti", Areas: []string{"037006"}}

	r.put(nil, entry(schema.KindQualification, "urn:uuid:1-3", f.credential(t, f.auth, "3"), 1))
	if _, _, ok := svc.Qualified(f.coopPeer, o); !ok {
		t.Fatal("not qualified")
	}
	old := f.list(t, t0)
	revoking := f.list(t, t0.Add(time.Minute), 3)
	r.put(nil, entry(schema.KindStatusList, schema.StatusListID(issuer, 1), revoking, 2))
	if _, _, why, ok := svc.Explain(f.coopPeer, o); ok || !strings.Contains(why, "revoked") {
		t.Fatalf("after revocation: %v %q", ok, why)
	}
	// An older list replayed (by anybody) un-revokes nobody.
	r.put(nil, entry(schema.KindStatusList, schema.StatusListID(issuer, 1), old, 3))
	if _, _, ok := svc.Qualified(f.coopPeer, o); ok {
		t.Fatal("an older status list un-revoked the credential")
	}
	if changed[f.coopPeer] < 2 {
		t.Fatalf("OnChange called %d times", changed[f.coopPeer])
	}
	// Expiry by the injected clock.
	clk.Set(t0.AddDate(1, 0, 1))
	if rs := svc.Credentials(f.coopPeer); len(rs) != 1 || rs[0].Valid {
		t.Fatalf("%+v", rs)
	}
}

func TestServiceUntrustedAuthority(t *testing.T) {
	f := newFixture(t)
	svc := NewService(f.trust, fakeclock.New(t0.Add(time.Hour)), nil)
	r := &fakeReplica{}
	_ = svc.Attach(context.Background(), r)
	// Signed by a key this node does not trust: stored, shown, never qualifying.
	r.put(nil, entry(schema.KindQualification, "urn:uuid:1-4", f.credential(t, key("rogue"), "4"), 1))
	rs := svc.Credentials(f.coopPeer)
	if len(rs) != 1 || rs[0].Valid || !strings.Contains(rs[0].Reason, "not a trusted") {
		t.Fatalf("%+v", rs)
	}
	if _, _, ok := svc.Qualified(f.coopPeer, schema.Offering{Category: "anziani", Areas: []string{"037006"}}); ok {
		t.Fatal("untrusted credential qualifies")
	}
	// Trusting the key later re-judges what is held.
	rogue := key("rogue")
	ak := schema.NewAuthorityKey(rogue.Public().(ed25519.PublicKey), issuer, "Nuova autorità", []string{"037006"})
	ts, _ := schema.NewTrustSet([]schema.AuthorityKey{ak})
	svc.SetTrust(ts)
	if name, _, ok := svc.Qualified(f.coopPeer, schema.Offering{Category: "anziani", Areas: []string{"037006"}}); !ok || name != "Nuova autorità" {
		t.Fatalf("after trusting: %q %v", name, ok)
	}
}

// BenchmarkQualified measures verification throughput through the cache
// against raw crypto/ed25519 verification of the same token, in one run.
func BenchmarkQualified(b *testing.B) {
	f := newFixture(b)
	tok := f.credential(b, f.auth, "5")
	parts := strings.Split(tok, ".")
	sig, _ := base64.RawURLEncoding.DecodeString(parts[2])
	msg := []byte(parts[0] + "." + parts[1])
	pub := f.auth.Public().(ed25519.PublicKey)
	now := t0.Add(time.Hour)
	var raw, cached, uncached float64
	b.Run("raw-ed25519", func(b *testing.B) {
		for b.Loop() {
			if !ed25519.Verify(pub, msg, sig) {
				b.Fatal("bad")
			}
		}
		raw = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	b.Run("go-jose-uncached", func(b *testing.B) {
		for b.Loop() {
			if _, _, err := f.trust.VerifyQualification(tok, now); err != nil {
				b.Fatal(err)
			}
		}
		uncached = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if raw > 0 {
			b.ReportMetric(uncached/raw, "x-raw")
		}
	})
	v := NewVerifier(f.trust, 0)
	b.Run("cached", func(b *testing.B) {
		for b.Loop() {
			c := v.Check(tok)
			if c.Err != nil || schema.CurrentAt(c.Q, c.Key, now) != nil {
				b.Fatal("refused")
			}
		}
		cached = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		if raw > 0 {
			b.ReportMetric(cached/raw, "x-raw")
		}
	})
}
