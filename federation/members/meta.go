package members

import (
	"encoding/binary"
	"errors"
	"fmt"
	"unicode/utf8"

	ma "github.com/multiformats/go-multiaddr"
)

// MetaMaxSize is memberlist's hard limit on node metadata (memberlist
// panics above it), so every encoding this package produces fits in it.
const MetaMaxSize = 512

// Limits on the fixed part of Meta. They are chosen so that the fixed part
// always fits in MetaMaxSize with room to spare for a few addresses: the
// addresses are what gets truncated, never the coop's identity.
const (
	MaxCoopNameLen = 128
	MaxRoles       = 8
	MaxRoleLen     = 32
	// maxAddrs bounds the decoder's loop; 512 bytes cannot hold more
	// than this many non-empty multiaddrs anyway.
	maxAddrs = MetaMaxSize / 2
)

// metaVersion is the first byte of the encoding. Decoders ignore bytes
// after the fields they know, so a later version may append fields
// without breaking older nodes; a different first byte means an
// incompatible layout.
const metaVersion = 1

// ErrMeta reports metadata that cannot be encoded or decoded.
var ErrMeta = errors.New("invalid node metadata")

// Meta is what a coop node tells the federation about itself through
// membership. It is a hint for routing and display: the libp2p addresses
// are checked by libp2p itself when dialled (the peer id is authenticated
// by the secure channel), so a wrong address costs a failed dial, not a
// wrong peer.
type Meta struct {
	CoopName string
	// Addrs are libp2p multiaddrs (without the /p2p suffix, the node name
	// already is the peer id). They travel in binary form, about half the
	// size of the text form; the ones that do not fit are dropped, last
	// first.
	Addrs []string
	Roles []string
	// Records is optional: how many catalogue records the node publishes.
	Records int
}

func (m Meta) clone() Meta {
	m.Addrs = append([]string(nil), m.Addrs...)
	m.Roles = append([]string(nil), m.Roles...)
	return m
}

// EncodeMeta encodes m in at most MetaMaxSize bytes. It returns the number
// of addresses that did not fit and were left out (the last ones). It fails
// if a field breaks a limit or an address is not a valid multiaddr.
//
// Layout: version byte, then uvarint-length-prefixed coop name, uvarint
// records, uvarint role count and length-prefixed roles, uvarint address
// count and length-prefixed binary multiaddrs.
func EncodeMeta(m Meta) (enc []byte, dropped int, err error) {
	if len(m.CoopName) > MaxCoopNameLen || !utf8.ValidString(m.CoopName) {
		return nil, 0, fmt.Errorf("%w: coop name must be valid UTF-8 of at most %d bytes", ErrMeta, MaxCoopNameLen)
	}
	if m.Records < 0 {
		return nil, 0, fmt.Errorf("%w: negative record count %d", ErrMeta, m.Records)
	}
	if len(m.Roles) > MaxRoles {
		return nil, 0, fmt.Errorf("%w: %d roles, at most %d", ErrMeta, len(m.Roles), MaxRoles)
	}
	for _, r := range m.Roles {
		if r == "" || len(r) > MaxRoleLen || !utf8.ValidString(r) {
			return nil, 0, fmt.Errorf("%w: role %q must be valid UTF-8 of 1 to %d bytes", ErrMeta, r, MaxRoleLen)
		}
	}
	addrs := make([][]byte, 0, len(m.Addrs))
	for _, s := range m.Addrs {
		a, err := ma.NewMultiaddr(s)
		if err != nil {
			return nil, 0, fmt.Errorf("%w: address %q: %w", ErrMeta, s, err)
		}
		addrs = append(addrs, a.Bytes())
	}

	buf := make([]byte, 0, MetaMaxSize)
	buf = append(buf, metaVersion)
	buf = appendString(buf, []byte(m.CoopName))
	buf = binary.AppendUvarint(buf, uint64(m.Records))
	buf = binary.AppendUvarint(buf, uint64(len(m.Roles)))
	for _, r := range m.Roles {
		buf = appendString(buf, []byte(r))
	}
	// The address count comes before the addresses, so find how many fit
	// first. The count is at most 2 bytes for any count that can fit.
	fixed := len(buf)
	fit, payload := 0, 0
	for i, a := range addrs {
		p := payload + uvarintLen(uint64(len(a))) + len(a)
		if fixed+uvarintLen(uint64(i+1))+p > MetaMaxSize {
			break
		}
		fit, payload = i+1, p
	}
	if fixed+uvarintLen(uint64(fit))+payload > MetaMaxSize {
		// Unreachable with the limits above; kept so a change of limits
		// fails loudly instead of making memberlist panic.
		return nil, 0, fmt.Errorf("%w: fixed fields take %d bytes, limit %d", ErrMeta, fixed, MetaMaxSize)
	}
	buf = binary.AppendUvarint(buf, uint64(fit))
	for _, a := range addrs[:fit] {
		buf = appendString(buf, a)
	}
	return buf, len(addrs) - fit, nil
}

// DecodeMeta parses bytes produced by EncodeMeta on any node. They come
// from the network (authenticated by the federation secret, but still
// another program's output), so every length is checked against what is
// left and every address must parse.
func DecodeMeta(b []byte) (Meta, error) {
	var m Meta
	if len(b) == 0 {
		// A node that set no metadata at all.
		return m, nil
	}
	if len(b) > MetaMaxSize {
		return m, fmt.Errorf("%w: %d bytes, limit %d", ErrMeta, len(b), MetaMaxSize)
	}
	if b[0] != metaVersion {
		return m, fmt.Errorf("%w: unknown version %d", ErrMeta, b[0])
	}
	d := decoder{b: b[1:]}
	name := d.bytes(MaxCoopNameLen)
	records := d.uvarint()
	nRoles := d.uvarint()
	if d.err == nil && nRoles > MaxRoles {
		d.err = fmt.Errorf("%d roles", nRoles)
	}
	for i := uint64(0); d.err == nil && i < nRoles; i++ {
		r := d.bytes(MaxRoleLen)
		if d.err == nil && (len(r) == 0 || !utf8.Valid(r)) {
			d.err = fmt.Errorf("role %d is empty or not UTF-8", i)
		}
		m.Roles = append(m.Roles, string(r))
	}
	nAddrs := d.uvarint()
	if d.err == nil && nAddrs > maxAddrs {
		d.err = fmt.Errorf("%d addresses", nAddrs)
	}
	for i := uint64(0); d.err == nil && i < nAddrs; i++ {
		raw := d.bytes(MetaMaxSize)
		if d.err != nil {
			break
		}
		a, err := ma.NewMultiaddrBytes(raw)
		if err != nil {
			d.err = fmt.Errorf("address %d: %w", i, err)
			break
		}
		m.Addrs = append(m.Addrs, a.String())
	}
	if d.err != nil {
		return Meta{}, fmt.Errorf("%w: %w", ErrMeta, d.err)
	}
	if !utf8.Valid(name) {
		return Meta{}, fmt.Errorf("%w: coop name is not UTF-8", ErrMeta)
	}
	if records > uint64(maxInt) {
		return Meta{}, fmt.Errorf("%w: record count %d overflows", ErrMeta, records)
	}
	m.CoopName = string(name)
	m.Records = int(records)
	return m, nil
}

const maxInt = int(^uint(0) >> 1)

func appendString(buf, s []byte) []byte {
	buf = binary.AppendUvarint(buf, uint64(len(s)))
	return append(buf, s...)
}

func uvarintLen(v uint64) int {
	var tmp [binary.MaxVarintLen64]byte
	return binary.PutUvarint(tmp[:], v)
}

// decoder reads fields until the first error, which it keeps.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errors.New("truncated or overlong varint")
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) bytes(limit int) []byte {
	n := d.uvarint()
	if d.err != nil {
		return nil
	}
	if n > uint64(limit) || n > uint64(len(d.b)) {
		d.err = fmt.Errorf("field of %d bytes exceeds limit %d or remaining %d", n, limit, len(d.b))
		return nil
	}
	out := d.b[:n:n]
	d.b = d.b[n:]
	return out
}
