package schema

import (
	_ "embed"
	"fmt"
	"sort"
	"strings"
	"sync"
	"unicode"
)

// municipalitiesTSV is ISTAT's list of Italian municipalities (see
// NOTICE.municipalities): one "code\tname\tprovince\tregion" line each, and
// comment lines starting with '#'.
//
//go:embed municipalities.tsv
var municipalitiesTSV string

// Municipality is an Italian comune as ISTAT lists it. Offerings and coop
// profiles name their territory by Code, so that every node agrees on what a
// place is whatever its spelling.
type Municipality struct {
	Code     string `json:"code"`     // ISTAT code, six digits, e.g. "080063"
	Name     string `json:"name"`     // official name, e.g. "Reggio di Calabria"
	Province string `json:"province"` // province or metropolitan city code, e.g. "RC"
	Region   string `json:"region"`   // region name, e.g. "Calabria"
}

// municipalityIndex is the parsed list. It is built once and never changed,
// so sharing it between goroutines needs no lock.
type municipalityIndex struct {
	all    []Municipality // in file order (by code)
	byCode map[string]int // code -> index in all
	// byKey holds one entry per municipality, sorted by its search key, so
	// that a prefix is a contiguous range found by binary search.
	byKey []searchKey
}

type searchKey struct {
	key string // folded name: lower case, no accents, letters and digits only
	i   int    // index in all
}

// municipalities parses the embedded list on first use. Parsing takes about
// a millisecond; doing it lazily keeps it off the start-up path of programs
// that never look a municipality up.
var municipalities = sync.OnceValue(func() *municipalityIndex {
	idx, err := parseMunicipalities(municipalitiesTSV)
	if err != nil {
		// The file is embedded at build time and covered by tests, so a
		// parse error is a build defect, not a runtime condition.
		panic(err)
	}
	return idx
})

func parseMunicipalities(data string) (*municipalityIndex, error) {
	n := strings.Count(data, "\n") + 1
	idx := &municipalityIndex{
		all:    make([]Municipality, 0, n),
		byCode: make(map[string]int, n),
		byKey:  make([]searchKey, 0, n),
	}
	for lineNo := 1; data != ""; lineNo++ {
		var line string
		line, data, _ = strings.Cut(data, "\n")
		line = strings.TrimSuffix(line, "\r")
		if line == "" || line[0] == '#' {
			continue
		}
		code, rest, ok1 := strings.Cut(line, "\t")
		name, rest, ok2 := strings.Cut(rest, "\t")
		prov, region, ok3 := strings.Cut(rest, "\t")
		if !ok1 || !ok2 || !ok3 || strings.Contains(region, "\t") {
			return nil, fmt.Errorf("municipalities line %d: want 4 tab-separated fields", lineNo)
		}
		if !isISTATCode(code) || name == "" {
			return nil, fmt.Errorf("municipalities line %d: bad code %q or empty name", lineNo, code)
		}
		if _, dup := idx.byCode[code]; dup {
			return nil, fmt.Errorf("municipalities line %d: duplicate code %s", lineNo, code)
		}
		idx.byCode[code] = len(idx.all)
		idx.byKey = append(idx.byKey, searchKey{key: foldName(name), i: len(idx.all)})
		idx.all = append(idx.all, Municipality{Code: code, Name: name, Province: prov, Region: region})
	}
	sort.Slice(idx.byKey, func(a, b int) bool {
		ka, kb := idx.byKey[a], idx.byKey[b]
		if ka.key != kb.key {
			return ka.key < kb.key
		}
		return idx.all[ka.i].Code < idx.all[kb.i].Code
	})
	return idx, nil
}

// isISTATCode reports whether s has the shape of an ISTAT municipality code:
// six ASCII digits.
func isISTATCode(s string) bool {
	return len(s) == 6 && allDigits(s)
}

// LookupMunicipality returns the municipality with the given ISTAT code.
func LookupMunicipality(code string) (Municipality, bool) {
	idx := municipalities()
	i, ok := idx.byCode[code]
	if !ok {
		return Municipality{}, false
	}
	return idx.all[i], true
}

// ValidMunicipality reports whether code is a known ISTAT municipality code.
func ValidMunicipality(code string) bool {
	_, ok := municipalities().byCode[code]
	return ok
}

// DefaultMunicipalitySearchLimit is the number of results SearchMunicipalities
// returns when asked for limit ≤ 0.
const DefaultMunicipalitySearchLimit = 10

// SearchMunicipalities returns up to limit municipalities whose name starts
// with prefix, for autocomplete. The match ignores case, accents, spaces,
// apostrophes and hyphens, so "reggio" finds "Reggio di Calabria" and
// "Reggio nell'Emilia", "citta" finds "Città di Castello" and "santangelo"
// finds "Sant'Angelo Lodigiano". Results are ordered by folded name, then
// code. An empty (after folding) prefix finds nothing.
func SearchMunicipalities(prefix string, limit int) []Municipality {
	if limit <= 0 {
		limit = DefaultMunicipalitySearchLimit
	}
	p := foldName(prefix)
	if p == "" {
		return nil
	}
	idx := municipalities()
	start := sort.Search(len(idx.byKey), func(i int) bool { return idx.byKey[i].key >= p })
	var out []Municipality
	for i := start; i < len(idx.byKey) && len(out) < limit; i++ {
		if !strings.HasPrefix(idx.byKey[i].key, p) {
			break
		}
		out = append(out, idx.all[idx.byKey[i].i])
	}
	return out
}

// foldName reduces a place name to its search key: lower case, accents
// removed, and everything but letters and digits dropped. Dropping spaces
// and apostrophes means a citizen who types "sant angelo", "sant'angelo" or
// "santangelo" finds the same places.
func foldName(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		r = foldRune(r)
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r > 0x7f && isLetterish(r):
			// A letter we have no fold for (e.g. Greek): keep it, so that
			// it still matches itself.
			b.WriteRune(r)
		}
	}
	return b.String()
}

// isLetterish keeps non-ASCII runes that are neither punctuation nor spaces.
func isLetterish(r rune) bool {
	switch r {
	case '\u2019', '\u2018', '\u00b4', '\u0060', '\u00a0', '\u2013', '\u2014', '\u00b7':
		return false
	}
	return r >= 0xc0
}

// foldRune maps upper case to lower case and Latin letters with diacritics
// to their base letter. The table covers Latin-1 and the Latin Extended-A
// letters used in Italian place names (Italian, French, German, Slovene,
// Ladin).
func foldRune(r rune) rune {
	if r >= 'A' && r <= 'Z' {
		return r + ('a' - 'A')
	}
	if r < 0xc0 {
		return r
	}
	switch r {
	case 'À', 'Á', 'Â', 'Ã', 'Ä', 'Å', 'à', 'á', 'â', 'ã', 'ä', 'å', 'Ā', 'ā', 'Ă', 'ă', 'Ą', 'ą':
		return 'a'
	case 'Ç', 'ç', 'Ć', 'ć', 'Č', 'č':
		return 'c'
	case 'Ď', 'ď', 'Đ', 'đ':
		return 'd'
	case 'È', 'É', 'Ê', 'Ë', 'è', 'é', 'ê', 'ë', 'Ē', 'ē', 'Ė', 'ė', 'Ę', 'ę', 'Ě', 'ě':
		return 'e'
	case 'Ì', 'Í', 'Î', 'Ï', 'ì', 'í', 'î', 'ï', 'Ī', 'ī', 'Į', 'į':
		return 'i'
	case 'Ł', 'ł', 'Ľ', 'ľ':
		return 'l'
	case 'Ñ', 'ñ', 'Ń', 'ń', 'Ň', 'ň':
		return 'n'
	case 'Ò', 'Ó', 'Ô', 'Õ', 'Ö', 'Ø', 'ò', 'ó', 'ô', 'õ', 'ö', 'ø', 'Ō', 'ō', 'Ő', 'ő':
		return 'o'
	case 'Ŕ', 'ŕ', 'Ř', 'ř':
		return 'r'
	case 'Ś', 'ś', 'Š', 'š', 'Ş', 'ş':
		return 's'
	case 'ß':
		return 's'
	case 'Ť', 'ť', 'Ţ', 'ţ':
		return 't'
	case 'Ù', 'Ú', 'Û', 'Ü', 'ù', 'ú', 'û', 'ü', 'Ū', 'ū', 'Ů', 'ů', 'Ű', 'ű':
		return 'u'
	case 'Ý', 'ý', 'ÿ', 'Ÿ':
		return 'y'
	case 'Ź', 'ź', 'Ż', 'ż', 'Ž', 'ž':
		return 'z'
	}
	return unicode.ToLower(r)
}
