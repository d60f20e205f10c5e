package hsds

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

// Version is the HSDS version the API and exports follow.
const Version = "3.0"

// Info is the answer of the API root.
type Info struct {
	Version    string `json:"version"`
	Profile    string `json:"profile"`
	OpenAPIURL string `json:"openapi_url"`
}

// RootInfo describes the node's HSDS API.
func RootInfo() Info {
	return Info{
		Version:    Version,
		Profile:    "https://docs.openreferral.org/en/latest/hsds/",
		OpenAPIURL: "https://raw.githubusercontent.com/openreferral/specification/3.0/schema/openapi.json",
	}
}

// Taxonomy is an HSDS taxonomy.
type Taxonomy struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	Version     string `json:"version,omitempty"`
}

// Taxonomies are the two taxonomies the mapping uses.
func Taxonomies() []Taxonomy {
	return []Taxonomy{
		{ID: schema.DerivedUUID("taxonomy", schema.HSDSServiceTaxonomy), Name: schema.HSDSServiceTaxonomy,
			Description: "Categorie dei servizi di assistenza domiciliare del catalogo federato Difronte.", Version: "1"},
		{ID: schema.DerivedUUID("taxonomy", schema.HSDSAttributeTaxonomy), Name: schema.HSDSAttributeTaxonomy,
			Description: "Attributi dei servizi del catalogo Difronte: modalità di erogazione e identificativo dell'offerta.", Version: "1"},
	}
}

// TaxonomyTerms returns the terms, those whose parent has parentID when it
// is not empty, only top-level terms when topOnly.
func TaxonomyTerms(parentID string, topOnly bool) []schema.HSDSTaxonomyTerm {
	var out []schema.HSDSTaxonomyTerm
	for _, t := range schema.HSDSTaxonomyTerms() {
		if parentID != "" && t.ParentID != parentID {
			continue
		}
		if topOnly && t.ParentID != "" {
			continue
		}
		out = append(out, t)
	}
	return out
}

// TermCode returns the taxonomy code of a service taxonomy term id.
func TermCode(id string) (string, bool) {
	for _, t := range schema.HSDSTaxonomyTerms() {
		if t.ID == id && t.Taxonomy == schema.HSDSServiceTaxonomy {
			return t.Code, true
		}
	}
	return "", false
}

// Page is the HSDS paging envelope.
type Page[T any] struct {
	TotalItems int  `json:"total_items"`
	TotalPages int  `json:"total_pages"`
	PageNumber int  `json:"page_number"`
	Size       int  `json:"size"`
	FirstPage  bool `json:"first_page"`
	LastPage   bool `json:"last_page"`
	Empty      bool `json:"empty"`
	Contents   []T  `json:"contents"`
}

// NewPage wraps one page of contents.
func NewPage[T any](total, page, perPage int, contents []T) Page[T] {
	if contents == nil {
		contents = []T{}
	}
	pages := (total + perPage - 1) / perPage
	return Page[T]{
		TotalItems: total, TotalPages: pages, PageNumber: page, Size: len(contents),
		FirstPage: page == 1, LastPage: page >= pages, Empty: total == 0, Contents: contents,
	}
}

// Paginate returns one page of a slice.
func Paginate[T any](all []T, page, perPage int) Page[T] {
	from := min(len(all), (page-1)*perPage)
	to := min(len(all), from+perPage)
	return NewPage(len(all), page, perPage, all[from:to])
}

// CoopProfile returns a publisher's coop profile from the replica.
func CoopProfile(ctx context.Context, rep *replica.Replica, publisher string) (schema.CoopProfile, bool) {
	e, err := rep.Get(ctx, publisher, schema.KindCoop, "profile")
	if err != nil || e.Tombstone {
		return schema.CoopProfile{}, false
	}
	var p schema.CoopProfile
	if json.Unmarshal(e.Body, &p) != nil {
		return schema.CoopProfile{}, false
	}
	return p, true
}

// Organizations returns the HSDS organization of every publisher with a
// coop profile, sorted by name.
func Organizations(ctx context.Context, rep *replica.Replica) ([]schema.HSDSOrganizationDoc, error) {
	var out []schema.HSDSOrganizationDoc
	err := rep.Current(ctx, schema.KindCoop, func(e *schema.Entry) error {
		var p schema.CoopProfile
		if json.Unmarshal(e.Body, &p) == nil {
			out = append(out, schema.HSDSOrganization(e.Publisher, p))
		}
		return nil
	})
	slices.SortFunc(out, func(a, b schema.HSDSOrganizationDoc) int { return strings.Compare(a.Name+a.ID, b.Name+b.ID) })
	return out, err
}

// ExportStats counts what an export wrote.
type ExportStats struct {
	Services, Organizations, TaxonomyTerms int
}

// Export writes the replica's catalogue as HSDS JSON files into dir:
// services.json (full services with their organization), organizations.json,
// taxonomies.json and taxonomy_terms.json, each an array of documents.
func Export(ctx context.Context, rep *replica.Replica, dir string) (ExportStats, error) {
	var st ExportStats
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return st, fmt.Errorf("export HSDS: %w", err)
	}
	orgs, err := Organizations(ctx, rep)
	if err != nil {
		return st, fmt.Errorf("export HSDS organizations: %w", err)
	}
	names := map[string]string{}
	_ = rep.Current(ctx, schema.KindCoop, func(e *schema.Entry) error {
		var p schema.CoopProfile
		if json.Unmarshal(e.Body, &p) == nil {
			names[e.Publisher] = p.Name
		}
		return nil
	})
	var services []schema.HSDSServiceDoc
	err = rep.Current(ctx, schema.KindOffering, func(e *schema.Entry) error {
		var o schema.Offering
		if json.Unmarshal(e.Body, &o) != nil {
			return nil
		}
		services = append(services, schema.HSDSService(e.Publisher, names[e.Publisher], o, e.IssuedAt))
		return nil
	})
	if err != nil {
		return st, fmt.Errorf("export HSDS services: %w", err)
	}
	slices.SortFunc(services, func(a, b schema.HSDSServiceDoc) int { return strings.Compare(a.ID, b.ID) })
	terms := TaxonomyTerms("", false)
	files := []struct {
		name string
		v    any
	}{
		{"services.json", services}, {"organizations.json", orgs},
		{"taxonomies.json", Taxonomies()}, {"taxonomy_terms.json", terms},
	}
	for _, f := range files {
		if err := writeJSON(filepath.Join(dir, f.name), f.v); err != nil {
			return st, err
		}
	}
	return ExportStats{Services: len(services), Organizations: len(orgs), TaxonomyTerms: len(terms)}, nil
}

func writeJSON(path string, v any) error {
	tmp := path + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return fmt.Errorf("export HSDS: %w", err)
	}
	enc := json.NewEncoder(f)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		f.Close()
		return fmt.Errorf("export HSDS %s: %w", filepath.Base(path), err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("export HSDS %s: %w", filepath.Base(path), err)
	}
	return os.Rename(tmp, path)
}

// MaxImportBytes bounds the file an import reads.
const MaxImportBytes = 256 << 20

// ReadServices decodes an HSDS file holding one service, an array of
// services, or an API page ({"contents": [...]}).
func ReadServices(r io.Reader) ([]schema.HSDSServiceDoc, error) {
	b, err := io.ReadAll(io.LimitReader(r, MaxImportBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read HSDS file: %w", err)
	}
	if len(b) > MaxImportBytes {
		return nil, fmt.Errorf("HSDS file larger than %d MB", MaxImportBytes>>20)
	}
	b = bytes.TrimSpace(b)
	switch {
	case len(b) == 0:
		return nil, errors.New("HSDS file is empty")
	case b[0] == '[':
		var docs []schema.HSDSServiceDoc
		if err := json.Unmarshal(b, &docs); err != nil {
			return nil, fmt.Errorf("decode HSDS services: %w", err)
		}
		return docs, nil
	case b[0] == '{':
		var page struct {
			Contents []schema.HSDSServiceDoc `json:"contents"`
		}
		if json.Unmarshal(b, &page) == nil && page.Contents != nil {
			return page.Contents, nil
		}
		var doc schema.HSDSServiceDoc
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, fmt.Errorf("decode HSDS service: %w", err)
		}
		return []schema.HSDSServiceDoc{doc}, nil
	}
	return nil, errors.New("HSDS file is neither a JSON object nor an array")
}

// ImportReport says what an import did with each service.
type ImportReport struct {
	Imported int
	Skipped  int
	Lines    []string // one line per warning or skipped service
}

// Import converts services to offerings and hands each valid one to save,
// reporting fields left out and services refused.
func Import(ctx context.Context, docs []schema.HSDSServiceDoc, save func(context.Context, schema.Offering) error) ImportReport {
	var rep ImportReport
	for i, d := range docs {
		label := fmt.Sprintf("service %d (%s %q)", i+1, d.ID, d.Name)
		o, warns, err := schema.OfferingFromHSDS(d)
		for _, w := range warns {
			rep.Lines = append(rep.Lines, label+": "+w)
		}
		if err == nil {
			err = save(ctx, o)
		}
		if err != nil {
			rep.Skipped++
			rep.Lines = append(rep.Lines, label+": skipped: "+err.Error())
			continue
		}
		rep.Imported++
	}
	return rep
}
