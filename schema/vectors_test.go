package schema

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The conformance vectors of docs/PROTOCOL.md, section 9: entries, each
// with what a receiver does with it on gossip and in catch-up. This test
// writes them (-update) and checks that this implementation agrees with
// every one; federation/topics and federation/catchup run them too.

// entryVectorFile is the format of testdata/protocol/entries.json.
type entryVectorFile struct {
	Format  string        `json:"format"`
	NowMs   int64         `json:"now_ms"`
	Seeds   []string      `json:"publisher_seeds_hex"`
	Vectors []entryVector `json:"vectors"`
}

type entryVector struct {
	Name    string `json:"name"`
	Gossip  string `json:"gossip"`  // accept, refuse or defer
	Catchup string `json:"catchup"` // accept, refuse or defer
	Reason  string `json:"reason"`
	WireHex string `json:"wire_hex"`
}

var vectorNow = time.UnixMilli(1767225600000).UTC() // 2026-01-01

func vectorsPath() string { return filepath.Join("..", "testdata", "protocol", "entries.json") }

func buildEntryVectors(t *testing.T) entryVectorFile {
	priv := testKey(1)
	pub := PeerIDFromPublicKey(priv.Public().(ed25519.PublicKey))
	sample, err := os.ReadFile(filepath.Join("testdata", "offering-sample.json"))
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, sample); err != nil {
		t.Fatal(err)
	}
	offering := compact.Bytes()
	const offerID = "5b0f3c1e-8a4d-4c2b-9e7f-1a2b3c4d5e6f"
	coop := `{"name":"Cooperativa Sole","kind":"social_coop","territory":["080063"],"contact":{"email":"info@sole.example.org"}}`
	ms := vectorNow.Add(-time.Hour).UnixMilli()
	base := wireFields{magic: entryMagic, publisher: pub, seq: []byte{5}, kind: string(KindCoop), key: "profile", ms: ms, body: []byte(coop)}
	w := func(mod func(*wireFields)) string {
		f := base
		if mod != nil {
			mod(&f)
		}
		return hex.EncodeToString(signWire(priv, f.signed()))
	}
	body := func(b string) func(*wireFields) { return func(f *wireFields) { f.body = []byte(b) } }
	future := func(b string) func(*wireFields) {
		return func(f *wireFields) { f.kind, f.key, f.body = "care-plan.v2", "piano-1", []byte(b) }
	}
	const workerID = "0b7e3a52-6f1d-4c8e-9a3b-2d4c6e8f0a1b"
	worker := `{"id":"` + workerID + `","alias":"Elena P.","coop":"Cooperativa Sole","work":["elderly"],"experience_years":8,` +
		`"languages":["ro","it"],"areas":["080063"],"availability":{"days":["MO"],"hours_per_week":40},` +
		`"pay":{"amount_cents":135000,"unit":"month"},"presentation":"Assisto anziani.","checked_on":"2025-12-01"}`
	withCoop := func(from, to string) func(*wireFields) { return body(strings.Replace(coop, from, to, 1)) }
	cpBody := CheckpointBody([]LogRef{{Seq: 5, Kind: KindCoop, Key: "profile"}, {Seq: 6, Kind: KindOffering, Key: offerID}})
	badSig := signWire(priv, base.signed())
	badSig[len(badSig)-1] ^= 1
	nested := strings.Repeat(`{"a":`, MaxJSONDepth) + "1" + strings.Repeat("}", MaxJSONDepth)
	v := []entryVector{
		{"coop profile", "accept", "accept", "valid", w(nil)},
		{"offering", "accept", "accept", "valid: schema/testdata/offering-sample.json", w(func(f *wireFields) {
			f.seq, f.kind, f.key, f.body = []byte{6}, string(KindOffering), offerID, offering
		})},
		{"tombstone", "accept", "accept", "valid withdrawal", w(func(f *wireFields) {
			f.seq, f.kind, f.key, f.flags, f.body = []byte{7}, string(KindOffering), offerID, flagTomb, nil
		})},
		{"checkpoint", "accept", "accept", "valid checkpoint of seqs 5 (coop) and 6 (offering)", w(func(f *wireFields) {
			f.seq, f.kind, f.key, f.body = []byte{7}, string(KindCheckpoint), CheckpointKey, cpBody
		})},
		{"kind of a newer version", "refuse", "accept", "gossip: unknown kind on a topic; catch-up stores it unread", w(future(`{"plan":1}`))},
		{"issued 23 h ahead", "accept", "accept", "within MaxClockSkew", w(func(f *wireFields) { f.ms = vectorNow.Add(23 * time.Hour).UnixMilli() })},
		{"issued 25 h ahead", "defer", "defer", "issued_at more than 24 h after the receiver's clock", w(func(f *wireFields) { f.ms = vectorNow.Add(25 * time.Hour).UnixMilli() })},
		{"bad signature", "refuse", "refuse", "signature does not verify", hex.EncodeToString(badSig)},
		{"signer is not the publisher", "refuse", "refuse", "signature by another key", hex.EncodeToString(signWire(testKey(2), base.signed()))},
		{"bad magic", "refuse", "refuse", "magic is not DFE1", w(func(f *wireFields) { f.magic = "DFE2" })},
		{"overlong varint", "refuse", "refuse", "seq 5 written in two bytes", w(func(f *wireFields) { f.seq = []byte{0x85, 0x00} })},
		{"seq 0", "refuse", "refuse", "seq starts at 1", w(func(f *wireFields) { f.seq = []byte{0} })},
		{"seq above 2^53-1", "refuse", "refuse", "seq beyond MaxSeq", w(func(f *wireFields) { f.seq = appendUvarint(MaxSeq + 1) })},
		{"issued after year 9999", "refuse", "refuse", "issued_at beyond MaxIssuedAt", w(func(f *wireFields) { f.ms = MaxIssuedAt.UnixMilli() + 1 })},
		{"issued before 1970", "refuse", "refuse", "negative issued_at", w(func(f *wireFields) { f.ms = -1 })},
		{"empty key", "refuse", "refuse", "key of 0 bytes", w(func(f *wireFields) { f.key = "" })},
		{"control character in key", "refuse", "refuse", "key not printable", w(func(f *wireFields) { f.key = "pro\nfile" })},
		{"unknown flag", "refuse", "refuse", "flag bit 1 set", w(func(f *wireFields) { f.flags = 0x02 })},
		{"tombstone with a body", "refuse", "refuse", "tombstone carries a body", w(func(f *wireFields) { f.flags = flagTomb })},
		{"record without a body", "refuse", "refuse", "empty body, not a tombstone", w(body(""))},
		{"malformed kind", "refuse", "refuse", "kind not a-z 0-9 - .", w(func(f *wireFields) { f.kind = "Care Plan" })},
		{"body not UTF-8", "refuse", "refuse", "strict body: invalid UTF-8", w(withCoop("Sole", "S\xf6le"))},
		{"body with a lone surrogate", "refuse", "refuse", "strict body: \\ud800 without its pair", w(withCoop("Sole", `S\ud800le`))},
		{"body with a member twice", "refuse", "refuse", "strict body: duplicate member", w(withCoop(`"kind"`, `"name":"Altra","kind"`))},
		{"body with a nested member twice", "refuse", "refuse", "strict body: duplicate member at depth 2", w(withCoop(`"email"`, `"email":"x@sole.example.org","email"`))},
		{"body with a member twice once escaped", "refuse", "refuse", "strict body: names compared unescaped", w(withCoop(`"kind"`, `"n\u0061me":"Altra","kind"`))},
		{"body with a fraction", "refuse", "refuse", "strict body: numbers are integers", w(future(`{"plan":1.5}`))},
		{"body with an exponent", "refuse", "refuse", "strict body: no exponent", w(future(`{"plan":1e3}`))},
		{"body with an integer beyond 2^53-1", "refuse", "refuse", "strict body: amount_cents 2^53", w(func(f *wireFields) {
			f.seq, f.kind, f.key = []byte{6}, string(KindOffering), offerID
			f.body = bytes.Replace(offering, []byte(`"amount_cents":1850`), []byte(`"amount_cents":9007199254740992`), 1)
		})},
		{"body nested too deep", "refuse", "refuse", "strict body: depth 33", w(future(`{"plan":` + nested + `}`))},
		{"body not JSON", "refuse", "refuse", "strict body: applies to every kind", w(future(`plan`))},
		{"body with trailing data", "refuse", "refuse", "two JSON values", w(body(coop + `{}`))},
		{"body with an unknown field", "refuse", "refuse", "coop profile has no member colour", w(withCoop(`"kind"`, `"colour":"red","kind"`))},
		{"offering id differs from key", "refuse", "refuse", "body id is not the key", w(func(f *wireFields) {
			f.seq, f.kind, f.key, f.body = []byte{6}, string(KindOffering), "5b0f3c1e-8a4d-4c2b-9e7f-000000000000", offering
		})},
		{"checkpoint under another key", "refuse", "refuse", "checkpoint key must be log", w(func(f *wireFields) {
			f.seq, f.kind, f.key, f.body = []byte{7}, string(KindCheckpoint), "other", cpBody
		})},
		{"checkpoint state not hex", "refuse", "refuse", "state must be 64 lower-case hex digits", w(func(f *wireFields) {
			f.seq, f.kind, f.key, f.body = []byte{7}, string(KindCheckpoint), CheckpointKey, []byte(`{"entries":2,"state":"ABC"}`)
		})},
		{"worker profile", "accept", "accept", "valid family assistant's profile (section 3.2)", w(func(f *wireFields) {
			f.seq, f.kind, f.key, f.body = []byte{8}, string(KindWorker), workerID, []byte(worker)
		})},
		{"worker profile hiding a phone number", "refuse", "refuse", "presentation spells out ten digits", w(func(f *wireFields) {
			f.seq, f.kind, f.key = []byte{8}, string(KindWorker), workerID
			f.body = []byte(strings.Replace(worker, "Assisto anziani.", "Chiama tre quattro sette, uno due tre, quattro cinque sei sette.", 1))
		})},
		{"worker tombstone", "accept", "accept", "profile withdrawn", w(func(f *wireFields) {
			f.seq, f.kind, f.key, f.flags, f.body = []byte{9}, string(KindWorker), workerID, flagTomb, nil
		})},
	}
	return entryVectorFile{Format: "difronte-entry-vectors/1", NowMs: vectorNow.UnixMilli(),
		Seeds: []string{hex.EncodeToString(priv.Seed()), hex.EncodeToString(testKey(2).Seed())}, Vectors: v}
}

func appendUvarint(v uint64) []byte { return binary.AppendUvarint(nil, v) }

// verdicts computes what this implementation does with wire on gossip and
// in catch-up, as docs/PROTOCOL.md says a receiver must.
func verdicts(wire []byte, now time.Time) (gossip, catchup string) {
	decide := func(e *Entry, err error) string {
		if err != nil {
			return "refuse"
		}
		if e.Kind.Known() && !e.Tombstone {
			if err := ValidateBody(e.Kind, e.Key, e.Body); err != nil {
				return "refuse"
			}
		}
		if errors.Is(CheckIssuedAt(e, now), ErrFuture) {
			return "defer"
		}
		return "accept"
	}
	return decide(UnmarshalEntry(wire)), decide(UnmarshalEntryAnyKind(wire))
}

func TestEntryVectors(t *testing.T) {
	got := buildEntryVectors(t)
	out, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	out = append(out, '\n')
	if updateGolden() {
		if err := os.WriteFile(vectorsPath(), out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(vectorsPath())
	if err != nil {
		t.Fatalf("read vectors (run with -update to create): %v", err)
	}
	if !bytes.Equal(out, want) {
		t.Fatalf("vectors differ from %s (run with -update only if the change is intended)", vectorsPath())
	}
	var f entryVectorFile
	if err := json.Unmarshal(want, &f); err != nil {
		t.Fatal(err)
	}
	for _, v := range f.Vectors {
		wire, err := hex.DecodeString(v.WireHex)
		if err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		g, c := verdicts(wire, time.UnixMilli(f.NowMs))
		if g != v.Gossip || c != v.Catchup {
			t.Errorf("%s: gossip %s, catch-up %s; the vector says %s, %s (%s)", v.Name, g, c, v.Gossip, v.Catchup, v.Reason)
		}
	}
}
