package search

import (
	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/search/query"
)

func newBareRequest(q query.Query) *bleve.SearchRequest {
	return bleve.NewSearchRequestOptions(q, 20, 0, false)
}
