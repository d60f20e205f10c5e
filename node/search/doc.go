// Package search is the node's full-text and faceted index of the federated
// catalogue: a bleve (scorch) index on disk that follows the replica, so a
// citizen's search is local, fast, and works without the internet.
//
// It owns the index mapping (an Italian analyzer with accent folding for
// text, keyword fields for facets), the follower that keeps the index in
// step with the replica's changes in batches, the per-publisher state that
// lets a restart index only what changed, the query builder (never bleve's
// query-string parser: user text only reaches match and phrase queries), and
// the qualification hook that marks a publisher's offerings as qualified.
//
// node wires it; node/api and node/webui query it. It imports schema and
// federation/replica, never node/api or node/webui.
package search

// BleveWorker is the function of the analysis goroutines bleve starts when
// it is loaded and never stops: leak checks of packages that link bleve
// ignore it (goleak.IgnoreTopFunction(search.BleveWorker)).
const BleveWorker = "github.com/blevesearch/bleve_index_api.AnalysisWorker"
