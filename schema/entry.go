package schema

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Entry is one signed entry of a publisher's single-writer log. It carries
// every federated public record; state is "highest Seq wins" per
// (Publisher, Kind, Key), and a Tombstone withdraws the record.
//
// Wire form (also the canonical form: there is exactly one encoding of each
// entry, and UnmarshalEntry refuses any other):
//
//	"DFE1"                      4-byte magic and version
//	uvarint len, Publisher      peer ID string, "12D3KooW..."
//	uvarint Seq                 >= 1
//	uvarint len, Kind           a known Kind
//	uvarint len, Key            1..200 bytes of printable UTF-8
//	flags                       1 byte: bit 0 tombstone, other bits 0
//	int64 big-endian            IssuedAt, Unix milliseconds, >= 0
//	uvarint len, Body           JSON; empty iff tombstone
//	Sig                         64-byte Ed25519 signature
//
// Uvarints are minimal (no overlong encodings). The signature covers the
// ASCII domain string "difronte/entry/v1" followed by every byte before the
// signature, so a signature over an entry can never be replayed as a
// signature over some other Difronte message. The whole wire form is at most
// MaxEntrySize bytes.
type Entry struct {
	Publisher string    // libp2p peer ID of the publisher's Ed25519 key
	Seq       uint64    // >= 1, strictly increasing per publisher across all kinds
	Kind      Kind      //
	Key       string    // 1..200 bytes, printable
	Tombstone bool      // withdrawal; Body must be empty
	IssuedAt  time.Time // millisecond precision, UTC
	Body      []byte    // JSON body (checked by ValidateBody), empty for a tombstone
	Sig       []byte    // Ed25519 signature, 64 bytes
}

// MaxEntrySize bounds the whole wire form of an entry.
const MaxEntrySize = 64 << 10

// MaxKeySize bounds an entry's key.
const MaxKeySize = 200

const (
	entryMagic   = "DFE1"
	entryDomain  = "difronte/entry/v1"
	flagTomb     = 0x01
	maxKindBytes = 64
)

// Sentinel errors of entry decoding and verification; the returned errors
// wrap them with detail.
var (
	ErrMalformed    = errors.New("malformed entry")
	ErrTooLarge     = errors.New("entry too large")
	ErrBadSignature = errors.New("bad entry signature")
)

// Sign sets Publisher from the key, truncates IssuedAt to milliseconds in
// UTC and signs the canonical bytes. It refuses an entry that
// UnmarshalEntry would refuse.
func (e *Entry) Sign(priv ed25519.PrivateKey) error {
	if len(priv) != ed25519.PrivateKeySize {
		return fmt.Errorf("sign entry: private key of %d bytes", len(priv))
	}
	e.Publisher = PeerIDFromPublicKey(priv.Public().(ed25519.PublicKey))
	e.IssuedAt = time.UnixMilli(e.IssuedAt.UnixMilli()).UTC()
	if err := e.check(); err != nil {
		return fmt.Errorf("sign entry: %w", err)
	}
	if err := e.CheckStrict(); err != nil {
		return fmt.Errorf("sign entry: %w", err)
	}
	signed := e.appendSigned(nil)
	if len(signed)+ed25519.SignatureSize > MaxEntrySize {
		return fmt.Errorf("sign entry: %w: %d bytes", ErrTooLarge, len(signed)+ed25519.SignatureSize)
	}
	e.Sig = ed25519.Sign(priv, signingInput(signed))
	return nil
}

// SignAnyKind is Sign for an entry of a kind this version may not know,
// as a newer version would sign it. Only tests of mixed-version
// federations need it: a node publishes only the kinds it knows.
func (e *Entry) SignAnyKind(priv ed25519.PrivateKey) error {
	if e.Kind.Known() || !e.Kind.wellFormed() {
		return e.Sign(priv)
	}
	saved := e.Kind
	e.Kind = KindCoop // check the other rules as Sign does
	err := e.Sign(priv)
	e.Kind = saved
	if err != nil {
		return err
	}
	e.Sig = ed25519.Sign(priv, signingInput(e.appendSigned(nil)))
	return nil
}

// Verify checks that Sig is the signature, by the key inside Publisher, over
// the entry's canonical bytes.
func (e *Entry) Verify() error {
	pub, err := PublicKeyFromPeerID(e.Publisher)
	if err != nil {
		return fmt.Errorf("%w: publisher: %v", ErrBadSignature, err)
	}
	if len(e.Sig) != ed25519.SignatureSize {
		return fmt.Errorf("%w: %d bytes", ErrBadSignature, len(e.Sig))
	}
	if !ed25519.Verify(pub, signingInput(e.appendSigned(nil)), e.Sig) {
		return fmt.Errorf("%w: seq %d of %s", ErrBadSignature, e.Seq, e.Publisher)
	}
	return nil
}

// Marshal returns the wire form: the canonical signed bytes followed by Sig.
// It is only meaningful for an entry that has been signed (or decoded).
func (e *Entry) Marshal() []byte {
	b := e.appendSigned(make([]byte, 0, e.sizeHint()))
	return append(b, e.Sig...)
}

// ID is the SHA-256 of the wire form; gossip uses it as the message id, so
// that the same entry relayed by different peers is recognised as one.
func (e *Entry) ID() [32]byte {
	return sha256.Sum256(e.Marshal())
}

// UnmarshalEntry decodes a wire-form entry strictly: size limit, canonical
// encoding, known kind, key rules, tombstone/body rules, the bounds and
// strict JSON of CheckStrict, and the signature. It does not validate the
// body for its kind: callers run ValidateBody on non-tombstones.
func UnmarshalEntry(b []byte) (*Entry, error) {
	return unmarshalVerified(b, false)
}

// UnmarshalEntryAnyKind is UnmarshalEntry for catch-up, which carries
// every kind: it also accepts a well-formed kind this version does not
// know (a newer node's), still checking everything else and the
// signature. Its body cannot be validated, so callers store and relay
// such an entry but never interpret it; Kind.Known tells which it is.
// Gossip keeps UnmarshalEntry: a new kind travels on a new topic.
func UnmarshalEntryAnyKind(b []byte) (*Entry, error) {
	return unmarshalVerified(b, true)
}

// unmarshalVerified is the decoding of bytes from the network, gossip and
// catch-up alike: the one place where they are checked.
func unmarshalVerified(b []byte, anyKind bool) (*Entry, error) {
	e, err := unmarshalEntry(b, anyKind)
	if err != nil {
		return nil, err
	}
	if err := e.CheckStrict(); err != nil {
		return nil, err
	}
	if err := e.Verify(); err != nil {
		return nil, err
	}
	return e, nil
}

// CheckStrict checks the bounds and body rules that entries from the
// network must meet on top of the wire form: seq at most MaxSeq,
// issued_at at most MaxIssuedAt, and a body (of any kind, known or not)
// that CheckJSON accepts. The Unverified decoders skip it, so that a
// replica written by an earlier version still opens; catch-up does not
// serve a stored entry that fails it.
func (e *Entry) CheckStrict() error {
	if e.Seq > MaxSeq {
		return fmt.Errorf("%w: seq %d above %d", ErrMalformed, e.Seq, uint64(MaxSeq))
	}
	if e.IssuedAt.After(MaxIssuedAt) {
		return fmt.Errorf("%w: issued_at after year 9999", ErrMalformed)
	}
	if len(e.Body) > 0 {
		if err := CheckJSON(e.Body); err != nil {
			return fmt.Errorf("%w: %w", ErrMalformed, err)
		}
	}
	return nil
}

// UnmarshalEntryAnyKindUnverified is UnmarshalEntryAnyKind without the
// signature check, for the node's own replica (see
// UnmarshalEntryUnverified).
func UnmarshalEntryAnyKindUnverified(b []byte) (*Entry, error) {
	return unmarshalEntry(b, true)
}

// UnmarshalEntryUnverified is UnmarshalEntry without the signature check.
// It exists only for bytes a node itself stored after verifying them
// (its replica), where checking the signature again on every read would cost
// tens of microseconds per entry; never use it on bytes from the network.
func UnmarshalEntryUnverified(b []byte) (*Entry, error) {
	return unmarshalEntry(b, false)
}

func unmarshalEntry(b []byte, anyKind bool) (*Entry, error) {
	if len(b) > MaxEntrySize {
		return nil, fmt.Errorf("%w: %d bytes", ErrTooLarge, len(b))
	}
	d := decoder{b: b}
	if len(b) < len(entryMagic) || string(b[:len(entryMagic)]) != entryMagic {
		return nil, fmt.Errorf("%w: bad magic", ErrMalformed)
	}
	d.off = len(entryMagic)
	e := &Entry{}
	e.Publisher = string(d.bytes("publisher", 64))
	e.Seq = d.uvarint("seq")
	e.Kind = Kind(d.bytes("kind", maxKindBytes))
	e.Key = string(d.bytes("key", MaxKeySize))
	flags := d.byte("flags")
	ms := d.int64("issued_at")
	body := d.bytes("body", MaxEntrySize)
	sig := d.rest(ed25519.SignatureSize, "signature")
	if d.err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, d.err)
	}
	if flags&^flagTomb != 0 {
		return nil, fmt.Errorf("%w: unknown flags %#x", ErrMalformed, flags)
	}
	if ms < 0 {
		return nil, fmt.Errorf("%w: issued_at before 1970", ErrMalformed)
	}
	e.Tombstone = flags&flagTomb != 0
	e.IssuedAt = time.UnixMilli(ms).UTC()
	if len(body) > 0 {
		e.Body = append([]byte(nil), body...)
	}
	e.Sig = append([]byte(nil), sig...)
	if _, err := PublicKeyFromPeerID(e.Publisher); err != nil {
		return nil, fmt.Errorf("%w: publisher: %v", ErrMalformed, err)
	}
	if err := e.checkKind(anyKind); err != nil {
		return nil, err
	}
	// Varint minimality is checked while decoding; this catches whatever
	// else could make two byte strings decode to one entry.
	if !e.encodes(b) {
		return nil, fmt.Errorf("%w: not canonical", ErrMalformed)
	}
	return e, nil
}

// encodes reports whether b is e's wire form, encoding e into a reused
// buffer: every read of the replica decodes its entries, and a new
// buffer for each came to 93 MB while a node indexed 100,000 offerings
// at start.
func (e *Entry) encodes(b []byte) bool {
	bp := wireBufs.Get().(*[]byte)
	w := append(e.appendSigned((*bp)[:0]), e.Sig...)
	same := bytes.Equal(w, b)
	*bp = w[:0]
	wireBufs.Put(bp)
	return same
}

// wireBufs are the buffers of encodes, each at most MaxEntrySize and a
// signature long, since only decoded entries are encoded into them.
var wireBufs = sync.Pool{New: func() any { return new([]byte) }}

// check enforces the field rules shared by Sign and UnmarshalEntry.
func (e *Entry) check() error { return e.checkKind(false) }

// checkKind is check; with anyKind a well-formed unknown kind passes.
func (e *Entry) checkKind(anyKind bool) error {
	if e.Seq == 0 {
		return fmt.Errorf("%w: seq 0", ErrMalformed)
	}
	if !e.Kind.Known() && !(anyKind && e.Kind.wellFormed()) {
		return fmt.Errorf("%w: %q", ErrUnknownKind, e.Kind)
	}
	if err := checkKey(e.Key); err != nil {
		return err
	}
	if e.Tombstone && len(e.Body) != 0 {
		return fmt.Errorf("%w: tombstone with a body", ErrMalformed)
	}
	if !e.Tombstone && len(e.Body) == 0 {
		return fmt.Errorf("%w: record without a body", ErrMalformed)
	}
	if e.IssuedAt.UnixMilli() < 0 {
		return fmt.Errorf("%w: issued_at before 1970", ErrMalformed)
	}
	return nil
}

// checkKey allows 1..MaxKeySize bytes of UTF-8 with printable runes only, so
// a key can be shown in logs and UIs without escaping surprises.
func checkKey(k string) error {
	if len(k) == 0 || len(k) > MaxKeySize {
		return fmt.Errorf("%w: key of %d bytes", ErrMalformed, len(k))
	}
	if !utf8.ValidString(k) {
		return fmt.Errorf("%w: key is not UTF-8", ErrMalformed)
	}
	for _, r := range k {
		if !unicode.IsPrint(r) {
			return fmt.Errorf("%w: key has unprintable rune %U", ErrMalformed, r)
		}
	}
	return nil
}

func signingInput(signed []byte) []byte {
	in := make([]byte, 0, len(entryDomain)+len(signed))
	in = append(in, entryDomain...)
	return append(in, signed...)
}

func (e *Entry) sizeHint() int {
	return len(entryMagic) + 4*binary.MaxVarintLen64 + len(e.Publisher) + len(e.Kind) +
		len(e.Key) + 1 + 8 + len(e.Body) + ed25519.SignatureSize
}

// appendSigned appends the canonical bytes the signature covers.
func (e *Entry) appendSigned(b []byte) []byte {
	b = append(b, entryMagic...)
	b = appendBytes(b, []byte(e.Publisher))
	b = binary.AppendUvarint(b, e.Seq)
	b = appendBytes(b, []byte(e.Kind))
	b = appendBytes(b, []byte(e.Key))
	var flags byte
	if e.Tombstone {
		flags |= flagTomb
	}
	b = append(b, flags)
	b = binary.BigEndian.AppendUint64(b, uint64(e.IssuedAt.UnixMilli()))
	return appendBytes(b, e.Body)
}

func appendBytes(b, v []byte) []byte {
	b = binary.AppendUvarint(b, uint64(len(v)))
	return append(b, v...)
}

// decoder reads the wire form; the first error sticks and later reads
// return zero values, so the caller checks once.
type decoder struct {
	b   []byte
	off int
	err error
}

func (d *decoder) fail(format string, args ...any) {
	if d.err == nil {
		d.err = fmt.Errorf(format, args...)
	}
}

func (d *decoder) uvarint(field string) uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.off:])
	if n <= 0 {
		d.fail("%s: bad varint at offset %d", field, d.off)
		return 0
	}
	// binary.Uvarint accepts overlong forms such as 0x80 0x00; the
	// canonical form is the shortest.
	if n != uvarintLen(v) {
		d.fail("%s: overlong varint at offset %d", field, d.off)
		return 0
	}
	d.off += n
	return v
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

func (d *decoder) bytes(field string, max int) []byte {
	n := d.uvarint(field + " length")
	if d.err != nil {
		return nil
	}
	if n > uint64(max) {
		d.fail("%s: %d bytes, limit %d", field, n, max)
		return nil
	}
	if n > uint64(len(d.b)-d.off) {
		d.fail("%s: truncated", field)
		return nil
	}
	v := d.b[d.off : d.off+int(n)]
	d.off += int(n)
	return v
}

func (d *decoder) byte(field string) byte {
	if d.err != nil {
		return 0
	}
	if d.off >= len(d.b) {
		d.fail("%s: truncated", field)
		return 0
	}
	v := d.b[d.off]
	d.off++
	return v
}

func (d *decoder) int64(field string) int64 {
	if d.err != nil {
		return 0
	}
	if len(d.b)-d.off < 8 {
		d.fail("%s: truncated", field)
		return 0
	}
	v := int64(binary.BigEndian.Uint64(d.b[d.off:]))
	d.off += 8
	return v
}

// rest takes exactly n remaining bytes.
func (d *decoder) rest(n int, field string) []byte {
	if d.err != nil {
		return nil
	}
	if len(d.b)-d.off != n {
		d.fail("%s: %d bytes where %d expected", field, len(d.b)-d.off, n)
		return nil
	}
	v := d.b[d.off:]
	d.off = len(d.b)
	return v
}
