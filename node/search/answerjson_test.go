package search

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
)

// TestAnswerJSONMatchesEncodingJSON checks that Answer.AppendJSON writes
// exactly what encoding/json writes, for answers with every optional part
// present or absent and strings full of what must be escaped.
func TestAnswerJSONMatchesEncodingJSON(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 8))
	parts := []string{"a", "Assistenza", "è", "città", "\"", "\\", "<", ">", "&", "\n", "\r", "\t", "\b", "\f", "\x00", "\x1f", "\x7f",
		"\u2028", "\u2029", "\xff", "\xe2\x82", "😀", "/", "'", " ", "\u00a0", "日本"}
	str := func() string {
		var s strings.Builder
		for range r.IntN(6) {
			s.WriteString(parts[r.IntN(len(parts))])
		}
		return s.String()
	}
	card := func() Card {
		c := Card{ID: str(), Publisher: str(), CoopName: str(), Name: str(), Category: str(), Delivery: str(),
			Price: Price{Type: str(), Currency: str(), Unit: str()}, MunicipalitiesTotal: r.IntN(50)}
		if r.IntN(2) == 0 {
			c.Price.AmountCents = r.Int64N(1e6) - 5000
		}
		switch r.IntN(3) {
		case 1:
			c.Municipalities = []Place{}
		case 2:
			for range 1 + r.IntN(3) {
				c.Municipalities = append(c.Municipalities, Place{Code: str(), Name: str()})
			}
		}
		switch r.IntN(3) {
		case 1:
			c.Qualified = &Qualification{Authority: str()}
		case 2:
			c.Qualified = &Qualification{Authority: str(), Until: time.Date(2027, 3, 1+r.IntN(20), 10, r.IntN(60), 0, r.IntN(1e9), time.FixedZone("", 3600*r.IntN(3)))}
		}
		return c
	}
	for i := range 2000 {
		a := Answer{Total: r.IntN(1e5), Page: r.IntN(9), PerPage: r.IntN(50)}
		if i%7 != 0 {
			a.Results = []Card{}
			for range r.IntN(4) {
				a.Results = append(a.Results, card())
			}
		}
		if i%5 != 0 {
			a.Facets = map[string][]LabelledValue{}
			for range r.IntN(5) {
				var vs []LabelledValue
				if r.IntN(4) > 0 {
					vs = []LabelledValue{}
					for range r.IntN(4) {
						vs = append(vs, LabelledValue{Value: str(), Label: str(), Count: r.IntN(100)})
					}
				}
				a.Facets[str()] = vs
			}
		}
		if i%3 == 0 {
			for range r.IntN(3) {
				a.Similar = append(a.Similar, card())
			}
		}
		want, err := json.Marshal(a)
		if err != nil {
			t.Fatal(err)
		}
		if got := a.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("answer %d:\n got %s\nwant %s", i, got, want)
		}
	}
}
