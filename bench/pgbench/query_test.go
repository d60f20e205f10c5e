package pgbench

import (
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/difronte/difronte/schema"
)

func TestStatements(t *testing.T) {
	for _, tc := range []struct {
		name        string
		q           Query
		where, tail string
		args        []any
	}{
		{"everything", Query{}, "WHERE TRUE ORDER BY name, id", " LIMIT 20", nil},
		{"funnel", Query{Category: "cat", Municipality: "015146", Price: "free"},
			"WHERE categories @> ARRAY[$1]::text[] AND areas @> ARRAY[$2]::text[] AND price = $3 ORDER BY name, id",
			" LIMIT 20", []any{"cat", "015146", "free"}},
		{"text ranks", Query{Text: "badante notte", Lang: "it"},
			"WHERE langs @> ARRAY[$1]::text[] AND tsv @@ plainto_tsquery('italian', $2) ORDER BY ts_rank(tsv, plainto_tsquery('italian', $2)) DESC, name, id",
			" LIMIT 20", []any{"it", "badante notte"}},
		{"third page of ten", Query{Mode: "shared", Publisher: "p", Page: 3, PerPage: 10},
			"WHERE mode = $1 AND publisher = $2 ORDER BY name, id", " LIMIT 10 OFFSET 20", []any{"shared", "p"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			page, facets, args := tc.q.Statements()
			if want := tc.where + tc.tail; !strings.HasSuffix(page, want) {
				t.Errorf("page statement\n%s\ndoes not end with\n%s", page, want)
			}
			if !strings.HasPrefix(page, "SELECT id, publisher, coop, name,") {
				t.Errorf("page statement does not select a card: %s", page)
			}
			where, _, _ := strings.Cut(tc.where, " ORDER BY")
			if !strings.Contains(facets, "FROM offering "+where+")") {
				t.Errorf("facets statement does not filter by %q:\n%s", where, facets)
			}
			for _, f := range []string{"'total'", "'category'", "'municipality'", "'price'", "'mode'", "'lang'", "'publisher'"} {
				if !strings.Contains(facets, "SELECT "+f) {
					t.Errorf("facets statement counts no %s", f)
				}
			}
			if !reflect.DeepEqual(args, tc.args) {
				t.Errorf("args %v, want %v", args, tc.args)
			}
		})
	}
}

func TestRow(t *testing.T) {
	sub := schema.Children(schema.TopTerms()[0].Code)[0]
	o := schema.Offering{ID: "o1", Name: "Pasti a domicilio", Description: "Consegna", Category: sub.Code,
		Areas: []string{"015146", "999999"}, Cost: schema.Cost{Type: schema.CostPaid,
			Options: []schema.CostOption{{AmountCents: 690, Currency: "EUR", Unit: schema.PerVisit}}}}
	row := Row("peer", "Cooperativa 1", &o)
	if row[0] != "peer/o1" || row[1] != "peer" || row[2] != "Cooperativa 1" {
		t.Errorf("id, publisher, coop = %v %v %v", row[0], row[1], row[2])
	}
	cats := row[6].([]string)
	if !slices.Contains(cats, sub.Code) || !slices.Contains(cats, sub.Parent) || len(cats) != 2 {
		t.Errorf("categories %v, want %s and its parent %s", cats, sub.Code, sub.Parent)
	}
	milano, _ := schema.LookupMunicipality("015146")
	if names := row[8].([]string); !reflect.DeepEqual(names, []string{milano.Name, ""}) {
		t.Errorf("area names %q", names)
	}
	body := row[4].(string)
	for _, w := range []string{"Consegna", "Cooperativa 1", sub.NameIT, milano.Name} {
		if !strings.Contains(body, w) {
			t.Errorf("text %q lacks %q", body, w)
		}
	}
	if row[9] != "paid" || row[10] != int64(690) || row[11] != "EUR" || row[12] != string(schema.PerVisit) {
		t.Errorf("price %v %v %v %v", row[9], row[10], row[11], row[12])
	}
	if langs := row[14].([]string); langs == nil {
		t.Error("no languages must be an empty array, not NULL")
	}
}
