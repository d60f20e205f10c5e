package schema

import (
	"encoding/csv"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"
)

func TestMunicipalityLookup(t *testing.T) {
	if n := len(municipalities().all); n < 7800 || n > 8200 {
		t.Fatalf("%d municipalities parsed, want about 7,900", n)
	}
	cases := []struct {
		code string
		want Municipality
		ok   bool
	}{
		{"080063", Municipality{"080063", "Reggio di Calabria", "RC", "Calabria"}, true},
		{"015146", Municipality{"015146", "Milano", "MI", "Lombardia"}, true},
		{"001004", Municipality{"001004", "Albiano d'Ivrea", "TO", "Piemonte"}, true},
		{"007020", Municipality{"007020", "Châtillon", "AO", "Valle d'Aosta/Vallée d'Aoste"}, true},
		{"999999", Municipality{}, false},
		{"80063", Municipality{}, false},
		{"", Municipality{}, false},
		{"# ISTAT code", Municipality{}, false},
	}
	for _, tc := range cases {
		got, ok := LookupMunicipality(tc.code)
		if got != tc.want || ok != tc.ok {
			t.Errorf("LookupMunicipality(%q) = %+v, %v; want %+v, %v", tc.code, got, ok, tc.want, tc.ok)
		}
		if ValidMunicipality(tc.code) != tc.ok {
			t.Errorf("ValidMunicipality(%q) = %v", tc.code, !tc.ok)
		}
	}
}

func names(ms []Municipality) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Name
	}
	return out
}

func TestSearchMunicipalities(t *testing.T) {
	cases := []struct {
		prefix  string
		limit   int
		include []string // must all be in the results
		exclude []string
		max     int // at most this many results; 0: no check
	}{
		{"reggio", 10, []string{"Reggio di Calabria", "Reggio nell'Emilia", "Reggiolo"}, nil, 0},
		{"Reggio n", 10, []string{"Reggio nell'Emilia"}, []string{"Reggio di Calabria"}, 1},
		{"reggio nell'e", 10, []string{"Reggio nell'Emilia"}, nil, 1},
		{"reggio nell’emilia", 10, []string{"Reggio nell'Emilia"}, nil, 1}, // typographic apostrophe
		{"reggionellemilia", 10, []string{"Reggio nell'Emilia"}, nil, 1},
		{"citta", 50, []string{"Città di Castello", "Città della Pieve", "Città Sant'Angelo"}, nil, 0},
		{"CITTÀ DI CASTELLO", 10, []string{"Città di Castello"}, nil, 1},
		{"citta sant angelo", 10, []string{"Città Sant'Angelo"}, nil, 1},
		{"chatillon", 10, []string{"Châtillon"}, nil, 0},
		{"sant'ambrogio di t", 10, []string{"Sant'Ambrogio di Torino"}, nil, 1},
		{"santambrogio", 10, []string{"Sant'Ambrogio di Torino"}, nil, 0},
		{"  milano ", 10, []string{"Milano"}, []string{"Roma"}, 0},
		{"forli", 10, []string{"Forlì"}, nil, 0},
		{"san", 5, nil, nil, 5},
		{"san", 0, nil, nil, DefaultMunicipalitySearchLimit},
		{"zzzz", 10, nil, nil, 0},
	}
	for _, tc := range cases {
		got := SearchMunicipalities(tc.prefix, tc.limit)
		gotNames := names(got)
		for _, n := range tc.include {
			if !slices.Contains(gotNames, n) {
				t.Errorf("Search(%q) = %v, missing %q", tc.prefix, gotNames, n)
			}
		}
		for _, n := range tc.exclude {
			if slices.Contains(gotNames, n) {
				t.Errorf("Search(%q) = %v, should not have %q", tc.prefix, gotNames, n)
			}
		}
		if tc.max > 0 && len(got) > tc.max {
			t.Errorf("Search(%q, %d) returned %d results, want at most %d", tc.prefix, tc.limit, len(got), tc.max)
		}
		if tc.prefix == "san" && len(got) != tc.max {
			t.Errorf("Search(san, %d) returned %d, want exactly %d", tc.limit, len(got), tc.max)
		}
		if tc.prefix == "zzzz" && len(got) != 0 {
			t.Errorf("Search(zzzz) = %v", gotNames)
		}
		if !slices.IsSortedFunc(got, func(a, b Municipality) int { return strings.Compare(foldName(a.Name), foldName(b.Name)) }) {
			t.Errorf("Search(%q) results not in folded-name order: %v", tc.prefix, gotNames)
		}
	}
	for _, empty := range []string{"", "   ", "'", "-’"} {
		if got := SearchMunicipalities(empty, 10); got != nil {
			t.Errorf("Search(%q) = %v, want nil", empty, names(got))
		}
	}
	// Same-named municipalities in different provinces both come back.
	if got := SearchMunicipalities("samone", 10); len(got) != 2 || got[0].Province == got[1].Province {
		t.Errorf("Search(samone) = %+v, want the two Samone", got)
	}
}

func TestParseMunicipalitiesRejects(t *testing.T) {
	for _, tc := range []struct{ name, data string }{
		{"three fields", "001001\tAgliè\tTO\n"},
		{"five fields", "001001\tAgliè\tTO\tPiemonte\tx\n"},
		{"short code", "01001\tAgliè\tTO\tPiemonte\n"},
		{"empty name", "001001\t\tTO\tPiemonte\n"},
		{"duplicate", "001001\tA\tTO\tPiemonte\n001001\tB\tTO\tPiemonte\n"},
	} {
		if _, err := parseMunicipalities(tc.data); err == nil {
			t.Errorf("%s: parse accepted %q", tc.name, tc.data)
		}
	}
	idx, err := parseMunicipalities("# header\r\n001001\tAgliè\tTO\tPiemonte\r\n\n")
	if err != nil || len(idx.all) != 1 || idx.all[0].Region != "Piemonte" {
		t.Errorf("CRLF file: %+v, %v", idx, err)
	}
}

func TestFoldName(t *testing.T) {
	for in, want := range map[string]string{
		"Città di Castello":          "cittadicastello",
		"Reggio nell'Emilia":         "reggionellemilia",
		"Sant’Angelo":                "santangelo",
		"Antey-Saint-André":          "anteysaintandre",
		"ŠTEVERJAN Doberdò del Lago": "steverjandoberdodellago",
		"Ελλάδα":                     "ελλάδα",
	} {
		if got := foldName(in); got != want {
			t.Errorf("foldName(%q) = %q, want %q", in, got, want)
		}
	}
}

func FuzzSearchMunicipalities(f *testing.F) {
	for _, s := range []string{"reggio", "città", "sant'", "", "\xff", "’", "a"} {
		f.Add(s, 5)
	}
	f.Fuzz(func(t *testing.T, prefix string, limit int) {
		got := SearchMunicipalities(prefix, limit)
		want := limit
		if want <= 0 {
			want = DefaultMunicipalitySearchLimit
		}
		if len(got) > want {
			t.Fatalf("%d results for limit %d", len(got), limit)
		}
		p := foldName(prefix)
		for _, m := range got {
			if !strings.HasPrefix(foldName(m.Name), p) {
				t.Fatalf("%q does not start with %q", m.Name, p)
			}
		}
	})
}

// baselineParse is how one would parse the list with the standard library's
// CSV reader and no index beyond a map.
func baselineParse(data string) (map[string]Municipality, error) {
	r := csv.NewReader(strings.NewReader(data))
	r.Comma = '\t'
	r.Comment = '#'
	r.FieldsPerRecord = 4
	r.LazyQuotes = true
	out := map[string]Municipality{}
	for {
		rec, err := r.Read()
		if err != nil {
			if errors.Is(err, io.EOF) {
				return out, nil
			}
			return nil, err
		}
		out[rec[0]] = Municipality{rec[0], rec[1], rec[2], rec[3]}
	}
}

func BenchmarkMunicipalities(b *testing.B) {
	n := float64(len(municipalities().all))
	b.Run("parse/baseline=encoding-csv", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := baselineParse(municipalitiesTSV); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	})
	b.Run("parse/ours+search-index", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := parseMunicipalities(municipalitiesTSV); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/row")
	})
	all := municipalities().all
	b.Run("lookup/baseline=linear-scan", func(b *testing.B) {
		for b.Loop() {
			found := false
			for i := range all {
				if all[i].Code == "080063" {
					found = true
					break
				}
			}
			if !found {
				b.Fatal("not found")
			}
		}
	})
	b.Run("lookup/LookupMunicipality", func(b *testing.B) {
		for b.Loop() {
			if _, ok := LookupMunicipality("080063"); !ok {
				b.Fatal("not found")
			}
		}
	})
	b.Run("search/baseline=fold-and-scan", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			p := foldName("reggio")
			var out []Municipality
			for i := range all {
				if strings.HasPrefix(foldName(all[i].Name), p) {
					out = append(out, all[i])
					if len(out) == 10 {
						break
					}
				}
			}
			if len(out) == 0 {
				b.Fatal("not found")
			}
		}
	})
	b.Run("search/SearchMunicipalities", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if len(SearchMunicipalities("reggio", 10)) == 0 {
				b.Fatal("not found")
			}
		}
	})
}
