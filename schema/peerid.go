package schema

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"math/big"
	"sync"
)

// A peer ID here is the libp2p one for an Ed25519 key: the identity
// multihash (code 0x00, length 0x24) of the protobuf-encoded public key
// (field 1 KeyType = 1 Ed25519: 0x08 0x01; field 2 Data, 32 bytes:
// 0x12 0x20 + key), written in base58btc without a multibase prefix, so
// every such ID starts with "12D3KooW". It is written out by hand because
// schema may not import libp2p; a test in federation cross-checks it against
// go-libp2p's own peer.IDFromPublicKey.

// peerIDPrefix is everything in the 38-byte multihash before the key bytes.
var peerIDPrefix = [...]byte{0x00, 0x24, 0x08, 0x01, 0x12, 0x20}

const peerIDBytes = len(peerIDPrefix) + ed25519.PublicKeySize

// ErrBadPeerID is returned for a string that is not the canonical peer ID of
// an Ed25519 key.
var ErrBadPeerID = errors.New("not an Ed25519 peer ID")

// PeerIDFromPublicKey returns the libp2p peer ID string of an Ed25519 key.
func PeerIDFromPublicKey(pub ed25519.PublicKey) string {
	b := make([]byte, 0, peerIDBytes)
	b = append(b, peerIDPrefix[:]...)
	b = append(b, pub...)
	return base58Encode(b)
}

// PublicKeyFromPeerID extracts the Ed25519 key from a peer ID string. It
// accepts only the canonical form PeerIDFromPublicKey produces.
func PublicKeyFromPeerID(id string) (ed25519.PublicKey, error) {
	peerKeys.RLock()
	key, ok := peerKeys.m[id]
	peerKeys.RUnlock()
	if ok {
		return append(ed25519.PublicKey(nil), key...), nil
	}
	key, err := decodePeerID(id)
	if err != nil {
		return nil, err
	}
	peerKeys.Lock()
	if len(peerKeys.m) >= maxPeerKeys {
		clear(peerKeys.m)
	}
	peerKeys.m[id] = key
	peerKeys.Unlock()
	return append(ed25519.PublicKey(nil), key...), nil
}

// peerKeys remembers the keys of the peer IDs decoded so far: a node reads
// the entries of a few hundred publishers thousands of times each (an index
// build, a catch-up), and the base58 round trip of decodePeerID is
// quadratic, about a twentieth of an index build's CPU. Only IDs that
// decoded are kept; a caller gets its own copy of the key.
var peerKeys = struct {
	sync.RWMutex
	m map[string]ed25519.PublicKey
}{m: map[string]ed25519.PublicKey{}}

// maxPeerKeys bounds peerKeys: past it, it starts again empty.
const maxPeerKeys = 4096

func decodePeerID(id string) (ed25519.PublicKey, error) {
	// 38 bytes are at most 52 base58 digits; refuse long input before the
	// quadratic decode runs on it.
	if len(id) == 0 || len(id) > 60 {
		return nil, fmt.Errorf("%w: length %d", ErrBadPeerID, len(id))
	}
	b, err := base58Decode(id)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadPeerID, err)
	}
	if len(b) != peerIDBytes || string(b[:len(peerIDPrefix)]) != string(peerIDPrefix[:]) {
		return nil, fmt.Errorf("%w: not an identity multihash of an Ed25519 key", ErrBadPeerID)
	}
	pub := ed25519.PublicKey(append([]byte(nil), b[len(peerIDPrefix):]...))
	if base58Encode(b) != id {
		return nil, fmt.Errorf("%w: not canonical", ErrBadPeerID)
	}
	return pub, nil
}

const base58Alphabet = "123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz"

// base58Encode is Bitcoin-alphabet base58: each leading zero byte becomes a
// '1', the rest is the big-endian number in base 58.
func base58Encode(b []byte) string {
	zeros := 0
	for zeros < len(b) && b[zeros] == 0 {
		zeros++
	}
	n := new(big.Int).SetBytes(b[zeros:])
	var digits []byte
	base := big.NewInt(58)
	mod := new(big.Int)
	for n.Sign() > 0 {
		n.DivMod(n, base, mod)
		digits = append(digits, base58Alphabet[mod.Int64()])
	}
	out := make([]byte, 0, zeros+len(digits))
	for range zeros {
		out = append(out, '1')
	}
	for i := len(digits) - 1; i >= 0; i-- {
		out = append(out, digits[i])
	}
	return string(out)
}

func base58Decode(s string) ([]byte, error) {
	zeros := 0
	for zeros < len(s) && s[zeros] == '1' {
		zeros++
	}
	n := new(big.Int)
	base := big.NewInt(58)
	for i := zeros; i < len(s); i++ {
		d := base58Index(s[i])
		if d < 0 {
			return nil, fmt.Errorf("invalid base58 character %q", s[i])
		}
		n.Mul(n, base)
		n.Add(n, big.NewInt(int64(d)))
	}
	rest := n.Bytes()
	out := make([]byte, zeros, zeros+len(rest))
	return append(out, rest...), nil
}

func base58Index(c byte) int {
	for i := 0; i < len(base58Alphabet); i++ {
		if base58Alphabet[i] == c {
			return i
		}
	}
	return -1
}
