package search

import (
	"bytes"
	"fmt"
	"slices"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/blevesearch/bleve/v2/analysis"
	"github.com/blevesearch/bleve/v2/analysis/analyzer/custom"
	"github.com/blevesearch/bleve/v2/analysis/char/asciifolding"
	"github.com/blevesearch/bleve/v2/analysis/lang/it"
	"github.com/blevesearch/bleve/v2/analysis/token/lowercase"
	unitok "github.com/blevesearch/bleve/v2/analysis/tokenizer/unicode"
	"github.com/blevesearch/bleve/v2/mapping"
	"golang.org/x/text/unicode/norm"
)

// analyzerName is the Italian analyzer with accent folding: "città" and
// "citta" index alike, and so do "anziano" and "anziani" (light stemmer),
// "dell'anziano" and "anziano" (elision).
const analyzerName = "it_folded"

// newAnalyzer builds the text analyzer from bleve's analysis components;
// bleve's own index is not used (see doc.go).
func newAnalyzer() (analysis.Analyzer, error) {
	im := mapping.NewIndexMapping()
	err := im.AddCustomAnalyzer(analyzerName, map[string]any{
		"type":          custom.Name,
		"char_filters":  []any{asciifolding.Name},
		"tokenizer":     unitok.Name,
		"token_filters": []any{lowercase.Name, it.ElisionName, it.StopName, it.LightStemmerName},
	})
	if err != nil {
		return nil, fmt.Errorf("search analyzer: %w", err)
	}
	a := im.AnalyzerNamed(analyzerName)
	if a == nil {
		return nil, fmt.Errorf("search analyzer %s missing", analyzerName)
	}
	if da, ok := a.(*analysis.DefaultAnalyzer); ok && len(da.CharFilters) == 1 {
		da.CharFilters[0] = asciiFast{da.CharFilters[0]}
	}
	return derived{a}, nil
}

// derived runs an analyzer and then takes each term to the root its
// derived words share, so that the verb meets its noun: "accompagnare",
// "accompagniamo", "accompagnamento" and "accompagnatore" all index as
// "accompagn", "assistere", "assistenza" and "assistente" as "assist".
// The light stemmer only removes inflection (anziano, anziani).
type derived struct{ analysis.Analyzer }

func (d derived) Analyze(input []byte) analysis.TokenStream {
	ts := d.Analyzer.Analyze(input)
	for _, t := range ts {
		t.Term = t.Term[:len(t.Term)-rootCut(t.Term)]
	}
	return ts
}

// asciiFast is the accent-folding character filter for text that has no
// accent to fold: most of an Italian catalogue's text is plain ASCII, and
// the folding filter copies every input.
type asciiFast struct{ fold analysis.CharFilter }

func (f asciiFast) Filter(input []byte) []byte {
	for _, c := range input {
		if c >= utf8.RuneSelf {
			return f.fold.Filter(input)
		}
	}
	return input
}

// derivations are the Italian derivational and verbal endings removed
// after the light stemmer (which has already taken the final vowel), the
// longest first; minRoot is the shortest root left, so short words
// ("visit", "cura") stay as they are.
var derivations = []string{
	"amento", "imento", "azion", "izion", "atric", "ament", "iment",
	"ator", "itor", "ando", "endo", "iam", "enz", "anz", "ent", "ant",
	"iar", "ar", "er", "ir", "at", "it", "ut",
}

const minRoot = 5

var derivationBytes = func() [][]byte {
	out := make([][]byte, len(derivations))
	for i, d := range derivations {
		out[i] = []byte(d)
	}
	return out
}()

// rootCut is how many bytes of an analysed term are its derivational
// ending: one ending, if what remains is at least minRoot letters.
func rootCut(t []byte) int {
	n := utf8.RuneCount(t)
	for _, suf := range derivationBytes {
		if bytes.HasSuffix(t, suf) && n-len(suf) >= minRoot {
			return len(suf)
		}
	}
	return 0
}

// terms runs the analyzer over s and returns its distinct terms in order of
// first appearance, at most limit of them (0: no limit).
func (x *Index) terms(s string, limit int) []string {
	if s == "" {
		return nil
	}
	tokens := x.ana.Analyze([]byte(s))
	out := make([]string, 0, len(tokens))
	seen := getSeen()
	defer putSeen(seen)
	for _, t := range tokens {
		if !seen[string(t.Term)] {
			w := string(t.Term)
			seen[w] = true
			out = append(out, w)
			if limit > 0 && len(out) == limit {
				break
			}
		}
	}
	return slices.Clip(out)
}

// seenSets holds the sets that terms and document dedupe terms with: a
// new one per text was a sixth of the bytes a node allocated while it
// indexed a catalogue at start.
var seenSets = sync.Pool{New: func() any { return make(map[string]bool, 64) }}

func getSeen() map[string]bool { return seenSets.Get().(map[string]bool) }

// putSeen empties m and keeps it for the next text, unless a long text
// made it large.
func putSeen(m map[string]bool) {
	if len(m) > 1024 {
		return
	}
	clear(m)
	seenSets.Put(m)
}

// sharedTerms is terms(s, 0) for a text many offerings share (a coop's
// name, a category's name or keyword, a municipality's name), analysed
// once: they are a fixed taxonomy, the municipalities and one name per
// coop, at most maxShared of them (past it the memory starts again). The
// slice must not be changed.
func (x *Index) sharedTerms(s string) []string {
	if ts, ok := x.shared.Load(s); ok {
		return ts.([]string)
	}
	ts := x.terms(s, 0)
	if x.nShared.Add(1) > maxShared {
		x.shared.Clear()
		x.nShared.Store(1)
	}
	x.shared.Store(s, ts)
	return ts
}

// maxShared bounds sharedTerms' memory: the taxonomy's names and
// keywords, Italy's municipalities and a few thousand coops fit.
const maxShared = 1 << 14

// foldKey is how a whole name is compared for the exact-match rank:
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
