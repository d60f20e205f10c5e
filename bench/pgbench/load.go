package pgbench

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/difronte/difronte/schema"
)

// Publisher says who published the i-th offering: its peer ID and its
// cooperative's name.
type Publisher func(i int) (id, coop string)

// Load creates the portal's table with the same text as the node's index
// (name, descriptions, coop, category names and keywords of the category
// and its ancestors, municipality names), COPYs the offerings in, and
// builds the indexes. An offering's id is publisher/offering, as the
// node's.
func Load(ctx context.Context, db *sql.DB, docs []schema.Offering, pub Publisher) error {
	if _, err := db.ExecContext(ctx, `CREATE TABLE offering (
  id text PRIMARY KEY, publisher text NOT NULL, coop text NOT NULL, name text NOT NULL, body text NOT NULL,
  category text NOT NULL, categories text[] NOT NULL, areas text[] NOT NULL, area_names text[] NOT NULL,
  price text NOT NULL, amount_cents bigint NOT NULL, currency text NOT NULL, unit text NOT NULL,
  mode text NOT NULL, langs text[] NOT NULL,
  tsv tsvector GENERATED ALWAYS AS (to_tsvector('italian', name || ' ' || body)) STORED)`); err != nil {
		return fmt.Errorf("create table: %w", err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	err = conn.Raw(func(dc any) error {
		c := dc.(*stdlib.Conn).Conn()
		i := 0
		_, err := c.CopyFrom(ctx, pgx.Identifier{"offering"},
			[]string{"id", "publisher", "coop", "name", "body", "category", "categories", "areas", "area_names",
				"price", "amount_cents", "currency", "unit", "mode", "langs"},
			pgx.CopyFromFunc(func() ([]any, error) {
				if i == len(docs) {
					return nil, nil
				}
				id, coop := pub(i)
				row := Row(id, coop, &docs[i])
				i++
				return row, nil
			}))
		return err
	})
	if err != nil {
		return fmt.Errorf("copy: %w", err)
	}
	for _, s := range []string{
		"CREATE INDEX offering_tsv ON offering USING gin (tsv)",
		"CREATE INDEX offering_categories ON offering USING gin (categories)",
		"CREATE INDEX offering_areas ON offering USING gin (areas)",
		"CREATE INDEX offering_langs ON offering USING gin (langs)",
		"CREATE INDEX offering_publisher ON offering (publisher)",
		"CREATE INDEX offering_price ON offering (price)",
		"CREATE INDEX offering_mode ON offering (mode)",
		"CREATE INDEX offering_name ON offering (name, id)",
		"VACUUM ANALYZE offering",
	} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

// Row is the table row of offering o published by publisher (coop), in
// the order of Load's columns.
func Row(publisher, coop string, o *schema.Offering) []any {
	body := []string{o.Description, o.Eligibility.Description, o.Cost.Description, coop}
	cats, terms := schema.CategoryTerms(o.Category, o.Categories)
	for _, t := range terms {
		body = append(body, t.NameIT)
		body = append(body, t.Keywords...)
	}
	names := make([]string, 0, len(o.Areas))
	for _, a := range o.Areas {
		m, _ := schema.LookupMunicipality(a)
		names = append(names, m.Name)
		if m.Name != "" {
			body = append(body, m.Name)
		}
	}
	var amount int64
	var currency, unit string
	if o.Cost.Type != schema.CostFree && len(o.Cost.Options) > 0 {
		op := o.Cost.Options[0]
		amount, currency, unit = op.AmountCents, op.Currency, string(op.Unit)
	}
	areas, langs := o.Areas, o.Languages
	if areas == nil {
		areas = []string{}
	}
	if langs == nil {
		langs = []string{}
	}
	return []any{publisher + "/" + o.ID, publisher, coop, o.Name, strings.Join(body, " "),
		o.Category, cats, areas, names,
		string(o.Cost.Type), amount, currency, unit, string(o.Delivery), langs}
}
