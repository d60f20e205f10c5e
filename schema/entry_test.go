package schema

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Another test file of this package may define -update too; register it
// only if nobody has (package-level vars initialise before init runs).
func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func testKey(seed byte) ed25519.PrivateKey {
	return ed25519.NewKeyFromSeed(bytes.Repeat([]byte{seed}, ed25519.SeedSize))
}

func signedEntry(t testing.TB, priv ed25519.PrivateKey, e Entry) *Entry {
	t.Helper()
	if err := e.Sign(priv); err != nil {
		t.Fatalf("sign: %v", err)
	}
	return &e
}

var testTime = time.Date(2026, 3, 14, 15, 9, 26, 535_897_932, time.FixedZone("CET", 3600))

func sampleEntry(t testing.TB) *Entry {
	return signedEntry(t, testKey(1), Entry{
		Seq: 7, Kind: KindOffering, Key: "off-1", IssuedAt: testTime,
		Body: []byte(`{"id":"off-1","name":"Assistenza domiciliare"}`),
	})
}

func TestEntryRoundTrip(t *testing.T) {
	for _, e := range []*Entry{
		sampleEntry(t),
		signedEntry(t, testKey(2), Entry{Seq: 1 << 40, Kind: KindCoop, Key: "profile", Tombstone: true, IssuedAt: time.UnixMilli(0)}),
		signedEntry(t, testKey(3), Entry{Seq: 1, Kind: KindOffering, Key: "città/ünïcode key", IssuedAt: testTime, Body: []byte(`{}`)}),
	} {
		if !strings.HasPrefix(e.Publisher, "12D3KooW") {
			t.Errorf("publisher %q does not look like an Ed25519 peer ID", e.Publisher)
		}
		if e.IssuedAt.Location() != time.UTC || e.IssuedAt.Nanosecond()%1e6 != 0 {
			t.Errorf("IssuedAt not normalised: %v", e.IssuedAt)
		}
		wire := e.Marshal()
		got, err := UnmarshalEntry(wire)
		if err != nil {
			t.Fatalf("unmarshal: %v", err)
		}
		if got.Publisher != e.Publisher || got.Seq != e.Seq || got.Kind != e.Kind || got.Key != e.Key ||
			got.Tombstone != e.Tombstone || !got.IssuedAt.Equal(e.IssuedAt) || !bytes.Equal(got.Body, e.Body) ||
			!bytes.Equal(got.Sig, e.Sig) {
			t.Errorf("round trip changed the entry:\n got %+v\nwant %+v", got, e)
		}
		if !bytes.Equal(got.Marshal(), wire) || got.ID() != e.ID() {
			t.Error("re-marshal differs")
		}
		if err := got.Verify(); err != nil {
			t.Errorf("verify: %v", err)
		}
	}
}

func TestPeerIDRoundTrip(t *testing.T) {
	for seed := range byte(20) {
		pub := testKey(seed).Public().(ed25519.PublicKey)
		id := PeerIDFromPublicKey(pub)
		got, err := PublicKeyFromPeerID(id)
		if err != nil || !got.Equal(pub) {
			t.Fatalf("seed %d: %q → %x, %v", seed, id, got, err)
		}
	}
	id := PeerIDFromPublicKey(testKey(1).Public().(ed25519.PublicKey))
	for _, bad := range []string{"", "1" + id, id + "1", id[:len(id)-1], strings.Replace(id, "K", "0", 1),
		"QmYyQSo1c1Ym7orWxLYvCrM2EmxFTANf8wXmmE7DWjhx5N", strings.Repeat("z", 200)} {
		if _, err := PublicKeyFromPeerID(bad); !errors.Is(err, ErrBadPeerID) {
			t.Errorf("%q: err %v, want ErrBadPeerID", bad, err)
		}
	}
}

// TestPeerIDKeysRemembered checks the cache of decoded peer IDs: a second
// decode gives the same key, a caller changing its copy changes nobody
// else's, a bad ID is refused however often it comes, and a full cache
// starts again and still answers.
func TestPeerIDKeysRemembered(t *testing.T) {
	pub := testKey(3).Public().(ed25519.PublicKey)
	id := PeerIDFromPublicKey(pub)
	first, err := PublicKeyFromPeerID(id)
	if err != nil {
		t.Fatal(err)
	}
	first[0] ^= 0xff
	second, err := PublicKeyFromPeerID(id)
	if err != nil || !second.Equal(pub) {
		t.Fatalf("second decode: %x, %v; want %x: a caller's change reached the cache", second, err, pub)
	}
	bad := "1" + id // a leading zero byte: not canonical
	for range 3 {
		if _, err := PublicKeyFromPeerID(bad); !errors.Is(err, ErrBadPeerID) {
			t.Fatalf("%q: err %v, want ErrBadPeerID", bad, err)
		}
	}
	for i := range maxPeerKeys + 10 {
		k := make(ed25519.PublicKey, ed25519.PublicKeySize)
		k[0], k[1] = byte(i), byte(i>>8)
		if _, err := PublicKeyFromPeerID(PeerIDFromPublicKey(k)); err != nil {
			t.Fatal(err)
		}
	}
	peerKeys.RLock()
	n := len(peerKeys.m)
	peerKeys.RUnlock()
	if n > maxPeerKeys {
		t.Errorf("%d peer keys remembered, bound %d", n, maxPeerKeys)
	}
	if got, err := PublicKeyFromPeerID(id); err != nil || !got.Equal(pub) {
		t.Errorf("after the cache filled: %x, %v", got, err)
	}
}

// golden is one signature vector: a fixed seed and fields, and the bytes
// every implementation must produce for them.
type golden struct {
	Name      string `json:"name"`
	SeedHex   string `json:"seed_hex"`
	Publisher string `json:"publisher"`
	Seq       uint64 `json:"seq"`
	Kind      Kind   `json:"kind"`
	Key       string `json:"key"`
	Tombstone bool   `json:"tombstone"`
	IssuedMs  int64  `json:"issued_at_ms"`
	Body      string `json:"body"`
	SigHex    string `json:"sig_hex"`
	WireHex   string `json:"wire_hex"`
	IDHex     string `json:"id_hex"`
}

func TestEntryGolden(t *testing.T) {
	path := filepath.Join("testdata", "entry_vectors.json")
	cases := []struct {
		name string
		seed byte
		e    Entry
	}{
		{"offering", 1, Entry{Seq: 1, Kind: KindOffering, Key: "off-1", IssuedAt: time.UnixMilli(1767225600123),
			Body: []byte(`{"id":"off-1","name":"Assistenza domiciliare"}`)}},
		{"coop-large-seq", 2, Entry{Seq: 300, Kind: KindCoop, Key: "profile", IssuedAt: time.UnixMilli(1767225600000),
			Body: []byte(`{"name":"Cooperativa Sole"}`)}},
		{"tombstone", 1, Entry{Seq: 2, Kind: KindOffering, Key: "off-1", Tombstone: true, IssuedAt: time.UnixMilli(1767225700000)}},
	}
	var got []golden
	for _, c := range cases {
		priv := testKey(c.seed)
		e := signedEntry(t, priv, c.e)
		id := e.ID()
		got = append(got, golden{
			Name: c.name, SeedHex: hex.EncodeToString(priv.Seed()), Publisher: e.Publisher,
			Seq: e.Seq, Kind: e.Kind, Key: e.Key, Tombstone: e.Tombstone, IssuedMs: e.IssuedAt.UnixMilli(),
			Body: string(e.Body), SigHex: hex.EncodeToString(e.Sig), WireHex: hex.EncodeToString(e.Marshal()),
			IDHex: hex.EncodeToString(id[:]),
		})
	}
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	if updateGolden() {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run with -update to create): %v", err)
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("encoding differs from %s (run with -update only if the change is intended):\n%s", path, out)
	}
	// The stored vectors must also decode and verify on their own.
	var vs []golden
	if err := json.Unmarshal(want, &vs); err != nil {
		t.Fatal(err)
	}
	for _, v := range vs {
		wire, _ := hex.DecodeString(v.WireHex)
		e, err := UnmarshalEntry(wire)
		if err != nil {
			t.Errorf("%s: %v", v.Name, err)
			continue
		}
		if e.Publisher != v.Publisher || hex.EncodeToString(e.Sig) != v.SigHex {
			t.Errorf("%s: decoded fields differ", v.Name)
		}
	}
}

// wireOf builds wire bytes field by field so malformed cases can bend one
// field at a time; sig is appended as given.
type wireFields struct {
	magic     string
	publisher string
	seq       []byte // raw varint bytes
	kind      string
	key       string
	flags     byte
	ms        int64
	body      []byte
	bodyLen   []byte // raw varint bytes; nil means the minimal length
}

func (w wireFields) signed() []byte {
	b := []byte(w.magic)
	b = appendBytes(b, []byte(w.publisher))
	b = append(b, w.seq...)
	b = appendBytes(b, []byte(w.kind))
	b = appendBytes(b, []byte(w.key))
	b = append(b, w.flags)
	b = binary.BigEndian.AppendUint64(b, uint64(w.ms))
	if w.bodyLen != nil {
		b = append(b, w.bodyLen...)
	} else {
		b = binary.AppendUvarint(b, uint64(len(w.body)))
	}
	return append(b, w.body...)
}

// signWire signs raw bytes with the entry domain, as a hostile publisher
// with a valid key could.
func signWire(priv ed25519.PrivateKey, signed []byte) []byte {
	return append(signed, ed25519.Sign(priv, signingInput(signed))...)
}

func TestUnmarshalEntryRejects(t *testing.T) {
	priv := testKey(1)
	pub := PeerIDFromPublicKey(priv.Public().(ed25519.PublicKey))
	base := wireFields{magic: entryMagic, publisher: pub, seq: []byte{7}, kind: string(KindOffering), key: "k",
		ms: 1767225600000, body: []byte(`{"id":"k","name":"n"}`)}
	good := signWire(priv, base.signed())
	if _, err := UnmarshalEntry(good); err != nil {
		t.Fatalf("base case must decode: %v", err)
	}
	mod := func(f func(*wireFields)) []byte {
		w := base
		f(&w)
		return signWire(priv, w.signed())
	}
	cases := []struct {
		name string
		wire []byte
		want error
	}{
		{"empty", nil, ErrMalformed},
		{"bad magic", mod(func(w *wireFields) { w.magic = "DFE2" }), ErrMalformed},
		{"seq zero", mod(func(w *wireFields) { w.seq = []byte{0} }), ErrMalformed},
		{"overlong seq", mod(func(w *wireFields) { w.seq = []byte{0x87, 0x00} }), ErrMalformed},
		{"overlong body length", mod(func(w *wireFields) { w.bodyLen = []byte{0x95, 0x00} }), ErrMalformed},
		{"seq varint too long", mod(func(w *wireFields) { w.seq = bytes.Repeat([]byte{0xff}, 11) }), ErrMalformed},
		{"unknown kind", mod(func(w *wireFields) { w.kind = "qualification-v9" }), ErrUnknownKind},
		{"empty key", mod(func(w *wireFields) { w.key = "" }), ErrMalformed},
		{"long key", mod(func(w *wireFields) { w.key = strings.Repeat("k", MaxKeySize+1) }), ErrMalformed},
		{"control char in key", mod(func(w *wireFields) { w.key = "a\nb" }), ErrMalformed},
		{"invalid utf8 key", mod(func(w *wireFields) { w.key = "a\xffb" }), ErrMalformed},
		{"unknown flag", mod(func(w *wireFields) { w.flags = 0x02 }), ErrMalformed},
		{"tombstone with body", mod(func(w *wireFields) { w.flags = flagTomb }), ErrMalformed},
		{"record without body", mod(func(w *wireFields) { w.body = nil }), ErrMalformed},
		{"negative time", mod(func(w *wireFields) { w.ms = -1 }), ErrMalformed},
		{"publisher not a peer id", mod(func(w *wireFields) { w.publisher = "alice" }), ErrMalformed},
		{"signer is not publisher", signWire(testKey(2), base.signed()), ErrBadSignature},
		{"signature without domain", append(base.signed(), ed25519.Sign(priv, base.signed())...), ErrBadSignature},
		{"trailing byte", append(bytes.Clone(good), 0), ErrMalformed},
		{"oversized", mod(func(w *wireFields) { w.body = bytes.Repeat([]byte{' '}, MaxEntrySize) }), ErrTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := UnmarshalEntry(c.wire); !errors.Is(err, c.want) {
				t.Errorf("err = %v, want %v", err, c.want)
			}
		})
	}
	t.Run("truncated at every offset", func(t *testing.T) {
		for i := range len(good) {
			if _, err := UnmarshalEntry(good[:i]); !errors.Is(err, ErrMalformed) {
				t.Fatalf("prefix of %d bytes: err = %v", i, err)
			}
		}
	})
	t.Run("every flipped bit", func(t *testing.T) {
		for i := range len(good) * 8 {
			b := bytes.Clone(good)
			b[i/8] ^= 1 << (i % 8)
			if e, err := UnmarshalEntry(b); err == nil {
				t.Fatalf("bit %d flipped still decodes: %+v", i, e)
			}
		}
	})
}

func TestSignRefusesInvalid(t *testing.T) {
	priv := testKey(1)
	for _, e := range []Entry{
		{Seq: 0, Kind: KindOffering, Key: "k", Body: []byte(`{}`)},
		{Seq: 1, Kind: "nope", Key: "k", Body: []byte(`{}`)},
		{Seq: 1, Kind: KindOffering, Key: "", Body: []byte(`{}`)},
		{Seq: 1, Kind: KindOffering, Key: "k", Tombstone: true, Body: []byte(`{}`)},
		{Seq: 1, Kind: KindOffering, Key: "k", Body: bytes.Repeat([]byte{'x'}, MaxEntrySize)},
		{Seq: 1, Kind: KindOffering, Key: "k", Body: []byte(`{}`)}, // zero IssuedAt: the clock was not set
	} {
		if err := e.Sign(priv); err == nil {
			t.Errorf("signed invalid entry %+v", e)
		}
	}
}

func FuzzUnmarshalEntry(f *testing.F) {
	f.Add(sampleEntry(f).Marshal())
	f.Add(signedEntry(f, testKey(2), Entry{Seq: 3, Kind: KindCoop, Key: "p", Tombstone: true, IssuedAt: testTime}).Marshal())
	f.Add([]byte(entryMagic))
	f.Add([]byte{})
	future := &Entry{Seq: 2, Kind: "care-plan.v2", Key: "k", IssuedAt: testTime, Body: []byte(`{}`)}
	if err := future.SignAnyKind(testKey(3)); err != nil {
		f.Fatal(err)
	}
	f.Add(future.Marshal())
	f.Fuzz(func(t *testing.T, b []byte) {
		// The any-kind decoder accepts a superset, and what it accepts
		// re-marshals to the same bytes.
		if e, err := UnmarshalEntryAnyKindUnverified(b); err == nil && !bytes.Equal(e.Marshal(), b) {
			t.Fatalf("any-kind entry re-marshals differently")
		} else if err != nil {
			if _, err2 := UnmarshalEntryUnverified(b); err2 == nil {
				t.Fatalf("any-kind decoder refuses what the strict one accepts: %v", err)
			}
		}
		e, err := UnmarshalEntryUnverified(b)
		if err != nil {
			return
		}
		if !bytes.Equal(e.Marshal(), b) {
			t.Fatalf("decoded entry re-marshals differently")
		}
		if e2, err := UnmarshalEntry(b); err == nil && !bytes.Equal(e2.Marshal(), b) {
			t.Fatalf("verified entry re-marshals differently")
		} else if err == nil && (e2.Seq > MaxSeq || (len(e2.Body) > 0 && CheckJSON(e2.Body) != nil)) {
			t.Fatalf("verified entry breaks the strict rules: seq %d, body %q", e2.Seq, e2.Body)
		}
	})
}

func BenchmarkUnmarshalEntry(b *testing.B) {
	wire := sampleEntry(b).Marshal()
	b.Run("verified", func(b *testing.B) {
		for b.Loop() {
			if _, err := UnmarshalEntry(wire); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("unverified", func(b *testing.B) {
		for b.Loop() {
			if _, err := UnmarshalEntryUnverified(wire); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestUnknownKinds: catch-up's decoder accepts a well-formed kind of a newer
// version, signed, and refuses everything UnmarshalEntry refuses besides;
// gossip's decoder keeps refusing unknown kinds.
func TestUnknownKinds(t *testing.T) {
	future := &Entry{Seq: 7, Kind: "care-plan.v2", Key: "k1", IssuedAt: testTime, Body: []byte(`{"any":"thing"}`)}
	if err := future.SignAnyKind(testKey(4)); err != nil {
		t.Fatal(err)
	}
	wire := future.Marshal()
	if _, err := UnmarshalEntry(wire); !errors.Is(err, ErrUnknownKind) {
		t.Fatalf("UnmarshalEntry of a future kind: %v, want ErrUnknownKind", err)
	}
	got, err := UnmarshalEntryAnyKind(wire)
	if err != nil || got.Kind != "care-plan.v2" || got.Kind.Known() || !bytes.Equal(got.Marshal(), wire) {
		t.Fatalf("UnmarshalEntryAnyKind = %+v, %v", got, err)
	}
	if _, err := UnmarshalEntryAnyKindUnverified(wire); err != nil {
		t.Fatal(err)
	}
	forged := bytes.Clone(wire)
	forged[len(forged)-1] ^= 1
	if _, err := UnmarshalEntryAnyKind(forged); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("forged future entry: %v, want ErrBadSignature", err)
	}
	for _, kind := range []Kind{"Care", "care plan", "cura/è", Kind(strings.Repeat("k", 65))} {
		e := &Entry{Seq: 1, Kind: kind, Key: "k", IssuedAt: testTime, Body: []byte(`{}`)}
		if err := e.SignAnyKind(testKey(4)); !errors.Is(err, ErrUnknownKind) {
			t.Errorf("SignAnyKind(%q) = %v, want ErrUnknownKind", kind, err)
		}
	}
	// A known kind keeps its body rules nowhere but in ValidateBody; the
	// other field rules hold for every kind.
	bad := &Entry{Seq: 1, Kind: "care-plan.v2", Key: "k", IssuedAt: testTime, Tombstone: true, Body: []byte(`{}`)}
	if err := bad.SignAnyKind(testKey(4)); !errors.Is(err, ErrMalformed) {
		t.Fatalf("tombstone with a body of a future kind: %v, want ErrMalformed", err)
	}
}

// TestEncodesReusesNothingStale: encodes, which the decoder's canonical
// check runs into a reused buffer, tells an entry's wire form from the
// same with a byte changed, cut or added, whatever longer entry the
// buffer held before.
func TestEncodesReusesNothingStale(t *testing.T) {
	long := signedEntry(t, testKey(4), Entry{Seq: 9, Kind: KindOffering, Key: "off-long", IssuedAt: testTime,
		Body: []byte(`{"id":"off-long","name":"` + strings.Repeat("x", 4000) + `"}`)})
	e := sampleEntry(t)
	b := e.Marshal()
	for range 3 {
		if !long.encodes(long.Marshal()) {
			t.Fatal("the long entry does not encode to its own wire form")
		}
		if !e.encodes(b) {
			t.Fatal("an entry does not encode to its own wire form after a longer one")
		}
		flipped := bytes.Clone(b)
		flipped[len(flipped)/2] ^= 1
		for name, w := range map[string][]byte{"a byte changed": flipped, "cut": b[:len(b)-1], "a byte added": append(bytes.Clone(b), 0)} {
			if e.encodes(w) {
				t.Errorf("encodes takes its wire form with %s", name)
			}
		}
	}
}
