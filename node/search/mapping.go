package search

import (
	"strings"
	"unicode"

	"github.com/blevesearch/bleve/v2"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/keyword"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/it"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	unitok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"golang.org/x/text/unicode/norm"
)

// Field names of an indexed offering.
const (
	fName      = "name"     // text: the offering's name (with term vectors, for phrases)
	fAll       = "all"      // text: name, description, eligibility, taxonomy words, coop and places
	fNameKey   = "name_key" // keyword: folded, lower-cased whole name, for exact-match boost and sorting
	fCategory  = "category" // keyword: every category code and its ancestors
	fPlace     = "municipality"
	fCost      = "cost"      // keyword: free | paid
	fDelivery  = "delivery"  // keyword: individual | shared
	fLang      = "lang"      // keyword: BCP 47 tags
	fPublisher = "publisher" // keyword: peer ID
	fQualUntil = "qualified_until"
	fHSDS      = "hsds_id" // keyword: the HSDS service id (schema.DerivedUUID)
)

// analyzerName is the Italian analyzer with accent folding: "città" and
// "citta" index alike, and so do "anziano" and "anziani" (light stemmer),
// "dell'anziano" and "anziano" (elision).
const analyzerName = "it_folded"

func indexMapping() (mapping.IndexMapping, error) {
	im := bleve.NewIndexMapping()
	err := im.AddCustomAnalyzer(analyzerName, map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     unitok.Name,
		"token_filters": []any{lowercase.Name, it.ElisionName, it.StopName, it.LightStemmerName},
	})
	if err != nil {
		return nil, err
	}
	text := func(vectors bool) *mapping.FieldMapping {
		f := bleve.NewTextFieldMapping()
		f.Analyzer = analyzerName
		f.Store = false
		f.IncludeTermVectors = vectors
		f.IncludeInAll = false
		f.DocValues = false
		return f
	}
	kw := func() *mapping.FieldMapping {
		f := bleve.NewKeywordFieldMapping()
		f.Analyzer = keyword.Name
		f.Store = false
		f.IncludeInAll = false
		f.IncludeTermVectors = false
		f.DocValues = true
		return f
	}
	num := bleve.NewNumericFieldMapping()
	num.Store = false
	num.IncludeInAll = false
	num.DocValues = true

	doc := bleve.NewDocumentStaticMapping()
	doc.AddFieldMappingsAt(fName, text(true))
	doc.AddFieldMappingsAt(fAll, text(false))
	for _, f := range []string{fNameKey, fHSDS, fCategory, fPlace, fCost, fDelivery, fLang, fPublisher} {
		doc.AddFieldMappingsAt(f, kw())
	}
	doc.AddFieldMappingsAt(fQualUntil, num)
	im.DefaultMapping = doc
	im.DefaultAnalyzer = analyzerName
	im.StoreDynamic = false
	im.IndexDynamic = false
	im.DocValuesDynamic = false
	return im, nil
}

// foldKey is how a whole name is compared for the exact-match boost:
// lower case, accents removed, runs of spaces and punctuation made one space.
func foldKey(s string) string {
	var b strings.Builder
	space := false
	for _, r := range norm.NFD.String(strings.ToLower(s)) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			b.WriteRune(r)
		default:
			space = true
		}
	}
	return b.String()
}
