// Package search is the node's full-text and faceted index of the federated
// catalogue, held in memory and following the replica, so a citizen's search
// is local, fast, and works without the internet.
//
// Design: every offering gets a dense number; each text term and each facet
// value (category and its ancestors, municipality, price, mode, language,
// provider) holds a roaring bitmap of numbers. A funnel query without text
// intersects filter bitmaps and pages through a precomputed name order; free
// text only chooses more bitmaps (one per analysed word, or the union of the
// terms one edit away, cached until the next change). Facet counts are
// intersections with each value's bitmap (or, for small results, a visit of
// each result). Text results rank in tiers (exact name, words in the name,
// exact words, typo matches) and only the returned page is sorted. bleve
// provides the Italian analyzer (elision, stop words, light stemmer) with
// accent folding; its on-disk index is not used: at 100,000 offerings its
// facet collection alone missed the latency goal.
//
// Memory and the collector: a node lives in 256 MB with 100,000 offerings,
// so the index holds what a result card shows (name, price, first places)
// and answers a page with no store read, keeps almost no pointer for the
// collector to follow (documents, postings and maps without pointers, the
// ids, names and terms in byte arrays found through hash-keyed maps:
// strtab.go), bounds
// its result cache by bytes, and counts facets from an array of 8 bytes
// per document. Building documents (JSON and text analysis) runs on every
// core while the replica scan reads the next batch.
//
// The index is saved as one snapshot file (documents with analysed terms and
// the per-publisher state, written together), at most every snapshotEvery
// and at Close; at start it is loaded and only publishers whose replica
// summary changed are indexed again.
//
// It owns the query builder (user text never reaches a query parser), the
// qualification hook that marks a publisher's offerings as qualified, the
// parsing of a search from URL parameters (ParseQuery), the Catalogue that
// answers a search with result cards, and the public route
// GET /api/v1/catalogue/search. node wires it; the web UI's catalogue
// pages and node/hsds search through Catalogue. It imports schema,
// federation/replica, federation/clock, node/catalogue (the listings), node/problem,
// node/httpx, bleve's analysis, roaring and x/text, never node/api or
// node/webui.
//
// Files: index.go opens, follows the replica and closes; refresh.go turns
// replica changes into document batches; document.go is an offering's
// indexed form; qualified.go the qualification hook; query.go and facets.go
// answer searches over mem.go's bitmaps; persist.go the snapshot;
// catalogue.go answers a search (and parses it from a URL); card.go makes
// an answer's result cards and trims its facets to the funnel's; http.go
// the route.
package search

// BleveWorker is the function of the analysis goroutines bleve starts when
// its top package is loaded and never stops: leak checks of packages that
// link bleve ignore it (goleak.IgnoreTopFunction(search.BleveWorker)).
const BleveWorker = "github.com/blevesearch/bleve_index_api.AnalysisWorker"
