package search

import (
	"cmp"
	"slices"

	"github.com/RoaringBitmap/roaring/v2"
)

// rankChunk is how many positions of the name order one chunk of it holds.
// A page counts its matches chunk by chunk (one intersection count each,
// about a microsecond) and walks only the chunks that hold the page (a
// bitmap lookup per position): 1,024 keeps both small at 100,000
// offerings, about 100 chunks.
const rankChunk = 1024

// selectMax is the largest set a page never counts chunks for: reading
// every number of the set costs less than a walk of one chunk.
const selectMax = 2048

// chunkOrder splits the name order into chunks of rankChunk positions and
// keeps each chunk's numbers as a bitmap. Called by sortOrder, write lock
// held.
func (m *mem) chunkOrder() {
	chunks := make([]*roaring.Bitmap, 0, (len(m.order)+rankChunk-1)/rankChunk)
	buf := make([]uint32, 0, rankChunk)
	for lo := 0; lo < len(m.order); lo += rankChunk {
		buf = append(buf[:0], m.order[lo:min(lo+rankChunk, len(m.order))]...)
		slices.Sort(buf)
		chunks = append(chunks, roaring.BitmapOf(buf...))
	}
	m.chunks = chunks
}

// page returns the numbers of b from off, at most n, in name order. The
// caller holds the read lock after sortOrder.
func (m *mem) page(b *roaring.Bitmap, off, n int) []uint32 {
	card := int(b.GetCardinality())
	if off >= card || n <= 0 {
		return nil
	}
	end := min(off+n, card)
	if card > selectMax && dense(b, card) {
		return m.pageChunks(b, off, end-off)
	}
	// Walking the name order visits about end*live/card numbers if b's
	// documents are spread evenly over it, each a bit test; selecting the
	// smallest ranks reads every number of b once and its rank, scattered
	// in memory, at several times a test's cost. Names are not spread
	// evenly (a category's offerings often share their first word), so a
	// walk that visits more numbers than b has gives up and selects
	// instead.
	walk := end * len(m.order) / card
	if end <= 4096 {
		if walk <= card {
			if out, ok := m.walkOrder(b, off, end-off, card); ok {
				return out
			}
		}
		return m.topRanks(b, off, end-off)
	}
	if walk <= card*8 {
		if out, ok := m.walkOrder(b, off, end-off, len(m.order)); ok {
			return out
		}
	}
	// Deep: sort them all by rank.
	nums := b.ToArray()
	slices.SortFunc(nums, func(a, c uint32) int { return cmp.Compare(m.rank[a], m.rank[c]) })
	return nums[off:end]
}

// dense reports whether b (card numbers) is mostly made of bitmap
// containers, more than 4,096 numbers in each range of 65,536 it spans:
// intersecting a chunk with it costs a lookup per number of the chunk,
// while a sparse b would cost a merge of both, as much as reading b.
func dense(b *roaring.Bitmap, card int) bool {
	spans := int(b.Maximum()>>16-b.Minimum()>>16) + 1
	return card > 4096*spans
}

// pageChunks is page for a dense b. Names are not spread evenly over the
// order (a category's offerings share their first words), so a walk of the
// order from its top can meet thousands of numbers before b's first, and
// selecting by rank reads all of b: counting b's numbers per chunk finds
// the chunks that hold the page, whatever the clustering, and only those
// are walked.
func (m *mem) pageChunks(b *roaring.Bitmap, off, n int) []uint32 {
	var words []uint64 // b as a plain bitset once a chunk is walked
	defer func() {
		if words != nil {
			putWords(words)
		}
	}()
	out := make([]uint32, 0, n)
	skip := off
	for c, chunk := range m.chunks {
		k := int(b.AndCardinality(chunk))
		if k <= skip {
			skip -= k
			continue
		}
		if words == nil {
			words = getWords(len(m.docs))
			b.WriteDenseTo(words)
		}
		if pick(m.order[c*rankChunk:min((c+1)*rankChunk, len(m.order))], words, &skip, &out, n) {
			return out
		}
	}
	return out
}

// pick appends to out, in order, the numbers of order set in the bitset
// words, once skip of them have been passed, until out holds n; it
// reports whether it does.
func pick(order []uint32, words []uint64, skip *int, out *[]uint32, n int) bool {
	for _, d := range order {
		if words[d>>6]&(1<<(d&63)) == 0 {
			continue
		}
		if *skip > 0 {
			*skip--
			continue
		}
		if *out = append(*out, d); len(*out) == n {
			return true
		}
	}
	return false
}

// walkOrder walks the name order for the numbers of b at positions
// off..off+n, visiting at most budget numbers; ok is false if it ran out.
// It tests b as a plain bitset: a test is a bit in a few kilobytes,
// where b's own lookup searches an array.
func (m *mem) walkOrder(b *roaring.Bitmap, off, n, budget int) (out []uint32, ok bool) {
	words := getWords(len(m.docs))
	defer putWords(words)
	b.WriteDenseTo(words)
	out = make([]uint32, 0, n)
	skip := off
	lim := min(budget, len(m.order))
	if pick(m.order[:lim], words, &skip, &out, n) || lim == len(m.order) {
		return out, true
	}
	return nil, false
}
