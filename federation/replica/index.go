package replica

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/bits"
	"slices"

	"github.com/difronte/difronte/schema"
)

// The in-memory index and the state digest; callers hold mu for writing
// unless noted.

func (r *Replica) pub(publisher string) *pubState {
	p := r.pubs[publisher]
	if p == nil {
		p = &pubState{keys: newKeyIndex()}
		r.pubs[publisher] = p
	}
	return p
}

// indexKey numbers kind (adding it if new) and prefixes key with the
// number: one byte instead of the kind's name in each of 100k index keys.
func (r *Replica) indexKey(kind schema.Kind, key string) string {
	return string([]byte{r.kindIndex(kind)}) + key
}

// kindIndex numbers kind, adding it if new.
func (r *Replica) kindIndex(kind schema.Kind) byte {
	i := slices.Index(r.kinds, kind)
	if i < 0 {
		r.kinds = append(r.kinds, kind)
		i = len(r.kinds) - 1
	}
	return byte(i)
}

// AdmitKind makes room for kind in the index, or refuses it with
// ErrTooManyKinds when MaxKinds are held already. Callers storing kinds
// from the network that this version does not know (catch-up) admit each
// before applying it.
func (r *Replica) AdmitKind(kind schema.Kind) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if slices.Contains(r.kinds, kind) {
		return nil
	}
	if len(r.kinds) >= MaxKinds {
		return fmt.Errorf("%w: %q would be kind %d of at most %d", ErrTooManyKinds, kind, len(r.kinds)+1, MaxKinds)
	}
	r.kinds = append(r.kinds, kind)
	return nil
}

// lookupIndexKey is indexKey for readers: it never adds a kind.
func (r *Replica) lookupIndexKey(kind schema.Kind, key string) (string, bool) {
	i := slices.Index(r.kinds, kind)
	if i < 0 {
		return "", false
	}
	return string([]byte{byte(i)}) + key, true
}

func (r *Replica) splitIndexKey(ik string) (schema.Kind, string) {
	return r.kinds[ik[0]], ik[1:]
}

func (r *Replica) insert(publisher string, kind schema.Kind, key string, p *pubState, s slot) {
	p.keys.set(r.indexKey(kind, key), s)
	p.maxSeq = max(p.maxSeq, s.seq)
	if !s.tomb {
		p.live++
	}
	addDigest(&r.digest, stateHash(publisher, kind, key, s.seq), false)
}

func (r *Replica) remove(publisher string, kind schema.Kind, key string, p *pubState, s slot) {
	p.keys.del(r.indexKey(kind, key))
	if !s.tomb {
		p.live--
	}
	addDigest(&r.digest, stateHash(publisher, kind, key, s.seq), true)
}

// Digest is an order-independent digest of the current state: the sum
// modulo 2^256 of SHA-256 over each (publisher, kind, key, seq). Two
// replicas with equal digests hold the same state, barring a publisher who
// deliberately crafts entries to collide (a generalised-birthday attack on
// additive set hashes); catch-up uses it only to skip work.
func (r *Replica) Digest() [32]byte {
	r.mu.RLock()
	d := r.digest
	r.mu.RUnlock()
	var out [32]byte
	for i, w := range d {
		binary.BigEndian.PutUint64(out[24-8*i:], w)
	}
	return out
}

func stateHash(publisher string, kind schema.Kind, key string, seq uint64) [32]byte {
	h := sha256.New()
	var buf [binary.MaxVarintLen64]byte
	for _, f := range []string{publisher, string(kind), key} {
		h.Write(binary.AppendUvarint(buf[:0], uint64(len(f))))
		h.Write([]byte(f))
	}
	h.Write(binary.BigEndian.AppendUint64(buf[:0], seq))
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// addDigest adds (or subtracts) h to d as 256-bit integers, d[0] being the
// least significant word.
func addDigest(d *[4]uint64, h [32]byte, subtract bool) {
	var carry uint64
	for i := range 4 {
		w := binary.BigEndian.Uint64(h[24-8*i:])
		if subtract {
			d[i], carry = bits.Sub64(d[i], w, carry)
		} else {
			d[i], carry = bits.Add64(d[i], w, carry)
		}
	}
}
