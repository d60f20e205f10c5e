package pgbench

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
)

// Query is a catalogue search as the portal receives it: the same
// parameters as the node's /api/v1/catalogue/search.
type Query struct {
	Text         string
	Category     string // taxonomy code; a top category includes its subcategories
	Municipality string // ISTAT code
	Price        string // "free" | "paid"
	Mode         string // delivery: "individual" | "shared"
	Lang         string // BCP 47 tag
	Publisher    string
	Page         int // 1-based; 0 means 1
	PerPage      int // 0 means 20
}

// Card is one result as the portal's page shows it: what the node's
// result card holds.
type Card struct {
	ID, Publisher, Coop, Name, Category, Delivery string
	Price, Currency, Unit                         string
	AmountCents                                   int64
	Places, PlaceNames                            []string // the first three areas
	NPlaces                                       int
}

// Count is one value of a facet and how many results have it.
type Count struct {
	Value string
	Count int
}

// Result is the portal's answer: the page, the total and the facets.
type Result struct {
	Total  int
	Cards  []Card
	Facets map[string][]Count
}

// sep joins the first areas of a card in one column (no name holds it).
const sep = "\x1f"

// Statements returns the portal's two statements for q and their
// arguments: the page of cards (by rank for text, else by name), and, in
// one statement over the matching rows, the total and every facet's
// counts, the long ones cut to 30 values.
func (q Query) Statements() (page, facets string, args []any) {
	var conds []string
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if q.Category != "" {
		conds = append(conds, "categories @> ARRAY["+arg(q.Category)+"]::text[]")
	}
	if q.Municipality != "" {
		conds = append(conds, "areas @> ARRAY["+arg(q.Municipality)+"]::text[]")
	}
	if q.Price != "" {
		conds = append(conds, "price = "+arg(q.Price))
	}
	if q.Mode != "" {
		conds = append(conds, "mode = "+arg(q.Mode))
	}
	if q.Lang != "" {
		conds = append(conds, "langs @> ARRAY["+arg(q.Lang)+"]::text[]")
	}
	if q.Publisher != "" {
		conds = append(conds, "publisher = "+arg(q.Publisher))
	}
	order := "name, id"
	if q.Text != "" {
		t := arg(q.Text)
		conds = append(conds, "tsv @@ plainto_tsquery('italian', "+t+")")
		order = "ts_rank(tsv, plainto_tsquery('italian', " + t + ")) DESC, name, id"
	}
	where := "TRUE"
	if len(conds) > 0 {
		where = strings.Join(conds, " AND ")
	}
	per := q.PerPage
	if per <= 0 {
		per = 20
	}
	limit := " LIMIT " + strconv.Itoa(per)
	if q.Page > 1 {
		limit += " OFFSET " + strconv.Itoa((q.Page-1)*per)
	}
	page = `SELECT id, publisher, coop, name, category, mode, price, amount_cents, currency, unit,
  array_to_string(areas[1:3], E'\x1f'), array_to_string(area_names[1:3], E'\x1f'), cardinality(areas)
FROM offering WHERE ` + where + " ORDER BY " + order + limit
	facets = `WITH r AS MATERIALIZED (SELECT categories, areas, price, mode, langs, publisher FROM offering WHERE ` + where + `)
SELECT 'total', '', count(*) FROM r
UNION ALL (SELECT 'category', c, count(*) FROM r, unnest(r.categories) c GROUP BY c)
UNION ALL (SELECT 'municipality', a, count(*) FROM r, unnest(r.areas) a GROUP BY a ORDER BY 3 DESC, 2 LIMIT 30)
UNION ALL (SELECT 'price', price, count(*) FROM r GROUP BY price)
UNION ALL (SELECT 'mode', mode, count(*) FROM r GROUP BY mode)
UNION ALL (SELECT 'lang', l, count(*) FROM r, unnest(r.langs) l GROUP BY l ORDER BY 3 DESC, 2 LIMIT 30)
UNION ALL (SELECT 'publisher', publisher, count(*) FROM r GROUP BY publisher ORDER BY 3 DESC, 2 LIMIT 30)`
	return page, facets, args
}

// Search runs q on db and decodes every row, as a page would. A text of
// stop words only is no text (as for the node: PostgreSQL would match
// nothing), which the portal learns from the server.
func Search(ctx context.Context, db *sql.DB, q Query) (Result, error) {
	var res Result
	if q.Text != "" {
		var terms int
		if err := db.QueryRowContext(ctx, "SELECT numnode(plainto_tsquery('italian', $1))", q.Text).Scan(&terms); err != nil {
			return res, fmt.Errorf("text: %w", err)
		}
		if terms == 0 {
			q.Text = ""
		}
	}
	page, facets, args := q.Statements()
	rows, err := db.QueryContext(ctx, page, args...)
	if err != nil {
		return res, fmt.Errorf("page: %w", err)
	}
	for rows.Next() {
		var c Card
		var places, names string
		if err := rows.Scan(&c.ID, &c.Publisher, &c.Coop, &c.Name, &c.Category, &c.Delivery, &c.Price,
			&c.AmountCents, &c.Currency, &c.Unit, &places, &names, &c.NPlaces); err != nil {
			rows.Close()
			return res, fmt.Errorf("page: %w", err)
		}
		c.Places, c.PlaceNames = split(places), split(names)
		res.Cards = append(res.Cards, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return res, fmt.Errorf("page: %w", err)
	}
	rows, err = db.QueryContext(ctx, facets, args...)
	if err != nil {
		return res, fmt.Errorf("facets: %w", err)
	}
	defer rows.Close()
	res.Facets = map[string][]Count{}
	for rows.Next() {
		var facet string
		var c Count
		if err := rows.Scan(&facet, &c.Value, &c.Count); err != nil {
			return res, fmt.Errorf("facets: %w", err)
		}
		if facet == "total" {
			res.Total = c.Count
			continue
		}
		res.Facets[facet] = append(res.Facets[facet], c)
	}
	return res, rows.Err()
}

func split(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, sep)
}
