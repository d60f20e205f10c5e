package replica

import (
	"fmt"
	"hash/maphash"
	"math/rand/v2"
	"runtime"
	"testing"
)

// TestKeyIndexMatchesMap runs random sets, overwrites and removals on a
// keyIndex and on a map, and compares every lookup and the whole content,
// with the full hash and with hashes narrowed to two bits, where almost
// every key shares its hash with another and goes to the overflow map.
// The removals are many enough to compact the text several times.
func TestKeyIndexMatchesMap(t *testing.T) {
	for _, mask := range []uint64{^uint64(0), 3} {
		t.Run(fmt.Sprintf("mask=%x", mask), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(1, mask))
			x := newKeyIndex()
			if mask != ^uint64(0) {
				seed := maphash.MakeSeed()
				x.idx.SetHash(func(s string) uint64 { return maphash.String(seed, s) & mask })
			}
			want := map[string]slot{}
			keys := make([]string, 3000)
			for i := range keys {
				keys[i] = fmt.Sprintf("%c%0*d", 'a'+i%3, 20+i%40, i)
			}
			compactions := 0
			for op := range 60000 {
				k := keys[rng.IntN(len(keys))]
				switch rng.IntN(3) {
				case 0, 1:
					s := slot{seq: uint64(op), tomb: op%5 == 0}
					x.set(k, s)
					want[k] = s
				default:
					before := len(x.text)
					x.del(k)
					delete(want, k)
					if len(x.text) < before {
						compactions++
					}
				}
				if op%97 == 0 {
					k := keys[rng.IntN(len(keys))]
					got, ok := x.get(k)
					w, wok := want[k]
					if got != w || ok != wok {
						t.Fatalf("op %d: get(%q) = %v %v, want %v %v", op, k, got, ok, w, wok)
					}
				}
			}
			if compactions < 2 {
				t.Errorf("text compacted %d times, want the test to reach at least 2", compactions)
			}
			if mask == 3 && x.idx.Collided() == 0 {
				t.Error("no key went to the overflow map under a 2-bit hash")
			}
			checkKeyIndex(t, x, want)
			for k := range want {
				x.del(k)
			}
			checkKeyIndex(t, x, map[string]slot{})
			if x.idx.Len() != 0 || len(x.free) != len(x.ents) {
				t.Errorf("emptied index keeps %d keys and %d of %d entries", x.idx.Len(), len(x.ents)-len(x.free), len(x.ents))
			}
		})
	}
}

func checkKeyIndex(t *testing.T, x *keyIndex, want map[string]slot) {
	t.Helper()
	if x.len() != len(want) {
		t.Errorf("len %d, want %d", x.len(), len(want))
	}
	seen := map[string]bool{}
	for k, s := range x.all() {
		if seen[string(k)] {
			t.Fatalf("key %q yielded twice", k)
		}
		seen[string(k)] = true
		if w, ok := want[string(k)]; !ok || w != s {
			t.Fatalf("yielded %q %v, want %v (held: %v)", k, s, w, ok)
		}
	}
	for k, w := range want {
		if s, ok := x.get(k); !ok || s != w {
			t.Fatalf("get(%q) = %v %v, want %v", k, s, ok, w)
		}
	}
}

// TestKeyIndexNoObjectPerKey: holding 20,000 keys adds a handful of heap
// objects, not one per key as a map[string]slot does, so a node's 100,000
// records cost the collector nothing to mark.
func TestKeyIndexNoObjectPerKey(t *testing.T) {
	const n = 20000
	keys := make([]byte, 0, n*37)
	for i := range n {
		keys = fmt.Appendf(keys, "\x01%036d", i)
	}
	objects := func() uint64 {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapObjects
	}
	before := objects()
	x := newKeyIndex()
	for i := range n {
		x.set(string(keys[i*37:(i+1)*37]), slot{seq: uint64(i)})
	}
	added := int64(objects()) - int64(before)
	if added > n/20 {
		t.Errorf("%d keys added %d heap objects, want about none per key", n, added)
	}
	if s, ok := x.get(string(keys[:37])); !ok || s.seq != 0 {
		t.Errorf("first key: %v %v", s, ok)
	}
	runtime.KeepAlive(x)
}
