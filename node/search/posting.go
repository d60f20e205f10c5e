package search

import "github.com/RoaringBitmap/roaring/v2"

// posting is the documents having a term (or name): most terms of a
// catalogue are in one document only, and keep no bitmap. It holds no
// pointer: the bitmaps are in mem.bitmaps.
type posting struct {
	one  uint32 // number+1 of the only document; 0: see bits
	bits uint32 // number+1 of its bitmap in mem.bitmaps; 0: none
}

func (p posting) empty() bool { return p.one == 0 && p.bits == 0 }

func (m *mem) addTo(p *posting, n uint32) {
	switch {
	case p.bits != 0:
		m.bitmaps[p.bits-1].Add(n)
	case p.one == 0:
		p.one = n + 1
	case p.one != n+1:
		b := roaring.BitmapOf(p.one-1, n)
		if k := len(m.freeBitmaps); k > 0 {
			p.bits, m.freeBitmaps = m.freeBitmaps[k-1], m.freeBitmaps[:k-1]
			m.bitmaps[p.bits-1] = b
		} else {
			m.bitmaps = append(m.bitmaps, b)
			p.bits = uint32(len(m.bitmaps))
		}
		p.one = 0
	}
}

// removeFrom takes n out of p; a bitmap left empty is freed.
func (m *mem) removeFrom(p *posting, n uint32) {
	if p.bits == 0 {
		if p.one == n+1 {
			p.one = 0
		}
		return
	}
	b := m.bitmaps[p.bits-1]
	if b.Remove(n); b.IsEmpty() {
		m.bitmaps[p.bits-1] = nil
		m.freeBitmaps = append(m.freeBitmaps, p.bits)
		p.bits = 0
	}
}

// bitsOf returns p's bitmap, nil if it has none.
func (m *mem) bitsOf(p posting) *roaring.Bitmap {
	if p.bits == 0 {
		return nil
	}
	return m.bitmaps[p.bits-1]
}

// bitmap returns the documents of p as a bitmap that must not be changed.
func (m *mem) bitmap(p posting) *roaring.Bitmap {
	switch {
	case p.bits != 0:
		return m.bitmaps[p.bits-1]
	case p.one != 0:
		return roaring.BitmapOf(p.one - 1)
	}
	return roaring.New()
}
