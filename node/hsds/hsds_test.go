package hsds_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/cmd/difronte/demo"
	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/hsds"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/schema"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction(search.BleveWorker))
}

const schemaDir = "../../schema/testdata/hsds-3.0"

func schemas(t *testing.T) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for _, name := range []string{"service", "organization", "taxonomy", "taxonomy_term"} {
		abs, err := filepath.Abs(filepath.Join(schemaDir, name+".json"))
		if err != nil {
			t.Fatal(err)
		}
		s, err := c.Compile(abs)
		if err != nil {
			t.Fatalf("compile %s: %v", name, err)
		}
		out[name] = s
	}
	return out
}

func validate(t *testing.T, s *jsonschema.Schema, what string, raw []byte) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	if err := s.Validate(doc); err != nil {
		t.Fatalf("%s does not validate against HSDS 3.0: %v\n%s", what, err, raw)
	}
}

// world is a replica with three coops and their offerings.
type world struct {
	rep    *replica.Replica
	pubs   []string
	offers map[string]schema.Offering
}

func newWorld(t *testing.T) *world {
	t.Helper()
	ctx := context.Background()
	rep, err := replica.Open(ctx, dssync.MutexWrap(datastore.NewMapDatastore()))
	if err != nil {
		t.Fatal(err)
	}
	w := &world{rep: rep, offers: map[string]schema.Offering{}}
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	offers := demo.Offerings(11, 30)
	for i := range 3 {
		seed := make([]byte, ed25519.SeedSize)
		seed[0] = byte(i + 1)
		k := ed25519.NewKeyFromSeed(seed)
		w.pubs = append(w.pubs, schema.PeerIDFromPublicKey(k.Public().(ed25519.PublicKey)))
		prof, _ := json.Marshal(schema.CoopProfile{Name: fmt.Sprintf("Cooperativa %d", i+1), Kind: schema.KindCommunityCoop, Territory: []string{"015146"}})
		if _, err := rep.Append(ctx, k, schema.KindCoop, "profile", prof, false, now); err != nil {
			t.Fatal(err)
		}
		for _, o := range offers[i*10 : i*10+10] {
			body, _ := json.Marshal(o)
			if _, err := rep.Append(ctx, k, schema.KindOffering, o.ID, body, false, now); err != nil {
				t.Fatal(err)
			}
			w.offers[o.ID] = o
		}
	}
	return w
}

func TestExportValidatesAndRoundTrips(t *testing.T) {
	w := newWorld(t)
	sc := schemas(t)
	dir := t.TempDir()
	st, err := hsds.Export(context.Background(), w.rep, dir)
	if err != nil {
		t.Fatal(err)
	}
	if st.Services != 30 || st.Organizations != 3 || st.TaxonomyTerms == 0 {
		t.Fatalf("export stats %+v", st)
	}
	for file, schemaName := range map[string]string{
		"services.json": "service", "organizations.json": "organization",
		"taxonomies.json": "taxonomy", "taxonomy_terms.json": "taxonomy_term",
	} {
		raw, err := os.ReadFile(filepath.Join(dir, file))
		if err != nil {
			t.Fatal(err)
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil || len(items) == 0 {
			t.Fatalf("%s: %v (%d items)", file, err, len(items))
		}
		for i, it := range items {
			validate(t, sc[schemaName], fmt.Sprintf("%s[%d]", file, i), it)
		}
	}
	// Import the export back: every offering comes back equal.
	f, err := os.Open(filepath.Join(dir, "services.json"))
	if err != nil {
		t.Fatal(err)
	}
	docs, err := hsds.ReadServices(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	var got []schema.Offering
	rep := hsds.Import(context.Background(), docs, func(_ context.Context, o schema.Offering) error {
		got = append(got, o)
		return nil
	})
	if rep.Imported != 30 || rep.Skipped != 0 {
		t.Fatalf("round trip: %+v", rep)
	}
	for _, o := range got {
		want := w.offers[o.ID]
		if !reflect.DeepEqual(o, want) {
			t.Errorf("round trip changed offering %s:\n got %+v\nwant %+v", o.ID, o, want)
		}
	}
}

func TestImportReportsSkipped(t *testing.T) {
	in := `{"contents": [
	  {"id": "5b6c2f7e-1d1a-4f1e-9c6e-2d0b8f2b1a10", "name": "Trasporto sociale", "description": "Accompagnamento alle visite.",
	   "status": "active", "alert": "chiuso ad agosto", "email": "info@example.org",
	   "languages": [{"id": "l", "code": "ita"}],
	   "service_areas": [{"id": "a", "name": "Atlantide"}, {"id": "b", "name": "Palmi"}],
	   "attributes": [{"id": "c", "taxonomy_term": {"id": "d", "code": "trasporto.visite-mediche", "name": "x", "description": "x"}}],
	   "cost_options": [{"id": "e", "currency": "USD", "amount": 5}]},
	  {"id": "5b6c2f7e-1d1a-4f1e-9c6e-2d0b8f2b1a11", "name": "", "status": "active"}
	]}`
	docs, err := hsds.ReadServices(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	saved := 0
	rep := hsds.Import(context.Background(), docs, func(context.Context, schema.Offering) error { saved++; return nil })
	if rep.Imported != 1 || rep.Skipped != 1 || saved != 1 {
		t.Fatalf("report %+v", rep)
	}
	text := strings.Join(rep.Lines, "\n")
	for _, want := range []string{"alert: not imported", "Atlantide", "USD", "skipped: "} {
		if !strings.Contains(text, want) {
			t.Errorf("report lacks %q:\n%s", want, text)
		}
	}
	for _, bad := range []string{"", "  ", "42", `{"contents": 5}`, "[1,2]"} {
		if _, err := hsds.ReadServices(strings.NewReader(bad)); err == nil && bad != `{"contents": 5}` {
			t.Errorf("%q: no error", bad)
		}
	}
}

// apiServer serves the replica of w through the search and HSDS routes.
func apiServer(t *testing.T, w *world) *httptest.Server {
	t.Helper()
	ctx := context.Background()
	cat, err := catalogue.NewFederated(ctx, w.rep)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := search.Open(ctx, search.Config{Replica: w.rep})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { idx.Close() })
	if err := idx.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	searchable := &search.Catalogue{Index: idx, Listings: cat}
	noCoops := catalogue.Coops(func() []catalogue.Coop { return nil })
	srv := httptest.NewServer(api.New(api.Deps{Domains: []httpx.Routes{searchable, noCoops, hsds.API{Catalogue: searchable, Replica: w.rep}}}).Router)
	t.Cleanup(srv.Close)
	return srv
}

func TestAPIAnswersValidate(t *testing.T) {
	srv := apiServer(t, newWorld(t))
	sc := schemas(t)
	get := func(path string, want int) []byte {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("GET %s: %d, want %d: %s", path, resp.StatusCode, want, b.Bytes())
		}
		return b.Bytes()
	}
	type page struct {
		TotalItems int               `json:"total_items"`
		TotalPages int               `json:"total_pages"`
		PageNumber int               `json:"page_number"`
		Size       int               `json:"size"`
		FirstPage  bool              `json:"first_page"`
		LastPage   bool              `json:"last_page"`
		Empty      bool              `json:"empty"`
		Contents   []json.RawMessage `json:"contents"`
	}
	list := func(path, schemaName string) page {
		t.Helper()
		var p page
		if err := json.Unmarshal(get(path, 200), &p); err != nil {
			t.Fatal(err)
		}
		for i, c := range p.Contents {
			validate(t, sc[schemaName], fmt.Sprintf("%s contents[%d]", path, i), c)
		}
		return p
	}
	var root hsds.Info
	json.Unmarshal(get("/hsds/", 200), &root)
	if root.Version != "3.0" {
		t.Fatalf("root %+v", root)
	}
	p := list("/hsds/services?per_page=7&page=2", "service")
	if p.TotalItems != 30 || p.TotalPages != 5 || p.Size != 7 || p.PageNumber != 2 || p.FirstPage || p.LastPage {
		t.Fatalf("services page %+v", p)
	}
	var one struct{ ID string }
	json.Unmarshal(p.Contents[0], &one)
	validate(t, sc["service"], "service", get("/hsds/services/"+one.ID, 200))
	get("/hsds/services/"+schema.DerivedUUID("nope"), 404)
	get("/hsds/services/not-a-uuid", 404)

	orgs := list("/hsds/organizations", "organization")
	if orgs.TotalItems != 3 {
		t.Fatalf("organizations %+v", orgs)
	}
	var org struct{ ID string }
	json.Unmarshal(orgs.Contents[0], &org)
	validate(t, sc["organization"], "organization", get("/hsds/organizations/"+org.ID, 200))
	if p := list("/hsds/services?per_page=100&organization_id="+org.ID, "service"); p.TotalItems != 10 {
		t.Fatalf("services of one organization: %d", p.TotalItems)
	}
	list("/hsds/taxonomies", "taxonomy")
	top := list("/hsds/taxonomy_terms?top_only=true&per_page=100", "taxonomy_term")
	all := list("/hsds/taxonomy_terms?per_page=100", "taxonomy_term")
	if top.TotalItems == 0 || top.TotalItems >= all.TotalItems {
		t.Fatalf("top_only %d of %d", top.TotalItems, all.TotalItems)
	}
	var first struct {
		ID   string
		Code string
	}
	json.Unmarshal(top.Contents[0], &first)
	kids := list("/hsds/taxonomy_terms?per_page=100&parent_id="+first.ID, "taxonomy_term")
	if kids.TotalItems != len(schema.Children(first.Code)) {
		t.Fatalf("children of %s: %d, want %d", first.Code, kids.TotalItems, len(schema.Children(first.Code)))
	}
	// Category filter through the taxonomy term id.
	var svc schema.HSDSServiceDoc
	json.Unmarshal(p.Contents[0], &svc)
	termID := svc.Attributes[0].TaxonomyTermID
	byTerm := list("/hsds/services?per_page=100&taxonomy_term_id="+termID, "service")
	if byTerm.TotalItems == 0 {
		t.Fatal("no services by taxonomy term")
	}
	for _, bad := range []string{"/hsds/services?page=0", "/hsds/services?per_page=1000", "/hsds/services?taxonomy_term_id=x", "/hsds/taxonomy_terms?top_only=maybe"} {
		get(bad, 400)
	}
	if e := list("/hsds/services?page=999", "service"); len(e.Contents) != 0 || !e.LastPage {
		t.Fatalf("page past the end: %+v", e)
	}

	// The catalogue search API: facets and bad input.
	var ans search.Answer
	json.Unmarshal(get("/api/v1/catalogue/search?q=assistenza&per_page=5", 200), &ans)
	if ans.Total == 0 || len(ans.Results) == 0 || len(ans.Facets["category"]) == 0 {
		t.Fatalf("search answer %+v", ans)
	}
	if !slices.ContainsFunc(ans.Facets["category"], func(v search.LabelledValue) bool { return v.Label != "" }) {
		t.Fatal("category facet without labels")
	}
	for _, bad := range []string{
		"?q=" + strings.Repeat("x", 300), "?category=nope", "?municipality=000000", "?price=cheap", "?mode=x",
		"?qualified=maybe", "?page=0", "?page=abc", "?page=99999999999999999999", "?per_page=101", "?unknown=1",
		"?q=a&q=b", "?lang=%3Cscript%3E", "?publisher=../x",
	} {
		get("/api/v1/catalogue/search"+bad, 400)
	}
	for _, odd := range []string{"?q=name:*%20OR%20*", "?q=%22unterminated", "?q=%2B-~*%3F", "?page=1000"} {
		get("/api/v1/catalogue/search"+odd, 200)
	}
}
