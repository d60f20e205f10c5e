package schema

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const hsdsDir = "testdata/hsds-3.0"

// The publisher of the test documents: an Ed25519 peer ID.
const hsdsTestPublisher = "12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN"

// hsdsSchemas compiles the official HSDS 3.0 schemas from the local copy,
// with format assertions on (uuid, email, uri, date-time).
func hsdsSchemas(t testing.TB) map[string]*jsonschema.Schema {
	t.Helper()
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	out := map[string]*jsonschema.Schema{}
	for _, name := range []string{"service", "organization", "taxonomy_term"} {
		abs, err := filepath.Abs(filepath.Join(hsdsDir, name+".json"))
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

// validateHSDS checks v against the named schema, and that every field v
// has is a property of the HSDS object it sits in: the schemas allow
// additional properties, so a misspelt field would otherwise pass.
func validateHSDS(t *testing.T, schemas map[string]*jsonschema.Schema, name string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if err := schemas[name].Validate(doc); err != nil {
		t.Errorf("%s does not validate against HSDS 3.0: %v\n%s", name, err, b)
	}
	checkHSDSFields(t, name, name+".json", doc)
}

func checkHSDSFields(t *testing.T, path, schemaFile string, v any) {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join(hsdsDir, schemaFile))
	if err != nil {
		t.Fatal(err)
	}
	var schema struct {
		Properties map[string]struct {
			Ref   string `json:"$ref"`
			Items struct {
				Ref string `json:"$ref"`
			} `json:"items"`
		} `json:"properties"`
	}
	if err := json.Unmarshal(raw, &schema); err != nil {
		t.Fatal(err)
	}
	obj, ok := v.(map[string]any)
	if !ok {
		t.Errorf("%s: not an object", path)
		return
	}
	for k, val := range obj {
		p, ok := schema.Properties[k]
		switch {
		case !ok:
			t.Errorf("%s.%s: not a field of HSDS %s", path, k, schemaFile)
		case p.Ref != "":
			checkHSDSFields(t, path+"."+k, p.Ref, val)
		case p.Items.Ref != "":
			for i, item := range val.([]any) {
				checkHSDSFields(t, path+"."+k+"["+strconv.Itoa(i)+"]", p.Items.Ref, item)
			}
		}
	}
}

var hsdsTestTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.FixedZone("CET", 3600))

func TestHSDSDocumentsValidate(t *testing.T) {
	schemas := hsdsSchemas(t)
	for _, o := range []Offering{catalogueOffering(), minimalOffering()} {
		d := HSDSService(hsdsTestPublisher, "Cooperativa Stretto Solidale", o, hsdsTestTime)
		validateHSDS(t, schemas, "service", d)
	}
	validateHSDS(t, schemas, "service", HSDSService(hsdsTestPublisher, "", minimalOffering(), time.Time{}))

	validateHSDS(t, schemas, "organization", HSDSOrganization(hsdsTestPublisher, catalogueCoop()))
	minimalCoop := CoopProfile{Name: "Comune di Milano", Kind: KindAuthority, Territory: []string{"015146"}, Contact: CoopContact{URL: "https://comune.milano.example"}}
	validateHSDS(t, schemas, "organization", HSDSOrganization(hsdsTestPublisher, minimalCoop))

	terms := HSDSTaxonomyTerms()
	if len(terms) != len(Taxonomy())+3 {
		t.Errorf("%d HSDS terms, want %d", len(terms), len(Taxonomy())+3)
	}
	ids := map[string]bool{}
	for _, term := range terms {
		validateHSDS(t, schemas, "taxonomy_term", term)
		if ids[term.ID] {
			t.Errorf("term id %s repeated", term.ID)
		}
		ids[term.ID] = true
	}
	for _, term := range terms {
		if term.ParentID != "" && !ids[term.ParentID] {
			t.Errorf("term %s: parent_id %s is not a term", term.Code, term.ParentID)
		}
	}
}

// The official example documents validate with the same compiled schemas,
// so a failure above is ours and not a quirk of the validator.
func TestHSDSSchemasAcceptOfficialExamples(t *testing.T) {
	schemas := hsdsSchemas(t)
	for file, name := range map[string]string{
		"service_full.json": "service", "organization_full.json": "organization", "taxonomy_term.json": "taxonomy_term",
	} {
		f, err := os.Open(filepath.Join(hsdsDir, "examples", file))
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := schemas[name].Validate(doc); err != nil {
			t.Errorf("official example %s: %v", file, err)
		}
	}
	// And they refuse what HSDS forbids, including in nested objects.
	for _, bad := range []map[string]any{
		{"id": "not-a-uuid", "name": "x", "status": "active"},
		{"id": "ac148810-d857-441c-9679-408f346de14b", "name": "x", "status": "open"},
		{"id": "ac148810-d857-441c-9679-408f346de14b", "name": "x", "status": "active", "email": "no email"},
		{"id": "ac148810-d857-441c-9679-408f346de14b", "name": "x", "status": "active", "phones": []any{map[string]any{"id": "ac148810-d857-441c-9679-408f346de14b"}}},
	} {
		if err := schemas["service"].Validate(bad); err == nil {
			t.Errorf("HSDS service schema accepted %v", bad)
		}
	}
}

func TestHSDSServiceMapping(t *testing.T) {
	o := catalogueOffering()
	d := HSDSService(hsdsTestPublisher, "Cooperativa Stretto Solidale", o, hsdsTestTime)
	if d.ID != DerivedUUID("service", hsdsTestPublisher, o.ID) || d.ID == o.ID {
		t.Errorf("service id %s is not derived from publisher and offering id", d.ID)
	}
	if other := HSDSService("12D3KooWother", "", o, hsdsTestTime); other.ID == d.ID || other.CostOptions[0].ID == d.CostOptions[0].ID {
		t.Error("two publishers with the same offering id get the same HSDS ids")
	}
	if again := HSDSService(hsdsTestPublisher, "Cooperativa Stretto Solidale", o, hsdsTestTime); !reflect.DeepEqual(again, d) {
		t.Error("mapping is not deterministic")
	}
	if d.LastModified != "2026-03-14T14:09:26Z" {
		t.Errorf("last_modified = %q", d.LastModified)
	}
	if d.CostOptions[0].Amount != 18.5 || d.CostOptions[0].AmountDescription != "per hour" || d.CostOptions[1].AmountDescription != "per month" {
		t.Errorf("cost options = %+v", d.CostOptions)
	}
	if d.ServiceAreas[0].Name != "Reggio di Calabria" || d.ServiceAreas[0].URI != "urn:istat:comune:080063" {
		t.Errorf("service area = %+v", d.ServiceAreas[0])
	}
	if d.Schedules[0].ByDay != "MO,TU,WE,TH,FR" || d.Schedules[0].Freq != "WEEKLY" || d.Schedules[1].OpensAt != "15:00" {
		t.Errorf("schedules = %+v", d.Schedules)
	}
	if d.Languages[2].Name != "Rumeno" || d.Languages[2].Code != "ro" {
		t.Errorf("languages = %+v", d.Languages)
	}
	var primary []string
	for _, a := range d.Attributes {
		if a.Value == "primary" {
			primary = append(primary, a.TaxonomyTerm.Code)
		}
		if a.TaxonomyTermID != a.TaxonomyTerm.ID || a.LinkID != d.ID {
			t.Errorf("attribute %+v does not link the service to its term", a)
		}
	}
	if !slices.Equal(primary, []string{"anziani.assistenza-domiciliare"}) {
		t.Errorf("primary category attributes = %v", primary)
	}
	seen := map[string]bool{d.ID: true}
	check := func(id string) {
		if !IsUUID(id) || seen[id] {
			t.Errorf("id %q is not a fresh UUID", id)
		}
		seen[id] = true
	}
	for _, x := range d.Schedules {
		check(x.ID)
	}
	for _, x := range d.ServiceAreas {
		check(x.ID)
	}
	for _, x := range d.CostOptions {
		check(x.ID)
	}
	for _, x := range d.Attributes {
		check(x.ID)
	}
}

func TestDerivedUUID(t *testing.T) {
	a := DerivedUUID("service", "p", "k")
	if !IsUUID(a) || a[14] != '5' || !strings.ContainsRune("89ab", rune(a[19])) {
		t.Errorf("DerivedUUID = %s, want a version-5 RFC 4122 UUID", a)
	}
	if a != DerivedUUID("service", "p", "k") {
		t.Error("not deterministic")
	}
	if DerivedUUID("ab", "c") == DerivedUUID("a", "bc") || DerivedUUID("a") == DerivedUUID("a", "") {
		t.Error("part boundaries are ambiguous")
	}
}

func TestHSDSRoundTrip(t *testing.T) {
	shared := catalogueOffering()
	shared.Delivery = DeliveryShared
	shared.Cost = Cost{Type: CostFree, Description: "Gratuito per i residenti."}
	shared.Schedule.Weekly = nil
	shared.Eligibility = Eligibility{}
	shared.Contact = Contact{URL: "https://x.example/a?b=c"}
	shared.Categories = nil
	for _, o := range []Offering{catalogueOffering(), minimalOffering(), shared} {
		d := HSDSService(hsdsTestPublisher, "Coop", o, hsdsTestTime)
		b, err := json.Marshal(d)
		if err != nil {
			t.Fatal(err)
		}
		var back HSDSServiceDoc
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatal(err)
		}
		got, warnings, err := OfferingFromHSDS(back)
		if err != nil {
			t.Fatalf("%s: import: %v", o.Name, err)
		}
		if len(warnings) != 0 {
			t.Errorf("%s: warnings on our own export: %v", o.Name, warnings)
		}
		if !reflect.DeepEqual(got, o) {
			gb, _ := json.Marshal(got)
			ob, _ := json.Marshal(o)
			t.Errorf("round trip changed the offering:\n got %s\nwant %s", gb, ob)
		}
	}
}

func TestOfferingFromForeignHSDS(t *testing.T) {
	// The specification's own example: a UK counselling service. It maps
	// to no Difronte category, area or currency, so the import fails, with
	// warnings naming what was skipped.
	raw, err := os.ReadFile(filepath.Join(hsdsDir, "examples", "service_full.json"))
	if err != nil {
		t.Fatal(err)
	}
	var doc HSDSServiceDoc
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	_, warnings, err := OfferingFromHSDS(doc)
	if err == nil {
		t.Fatal("imported a service without category or Italian area")
	}
	fields := fieldsOf(err)
	for _, f := range []string{"category", "areas"} {
		if !slices.Contains(fields, f) {
			t.Errorf("import error fields %v lack %q", fields, f)
		}
	}
	joined := strings.Join(warnings, "\n")
	for _, w := range []string{"alternate_name: not imported", "service_at_locations: not imported", "currency", "service_areas[0]"} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings lack %q:\n%s", w, joined)
		}
	}

	// A foreign Italian feed: our categories by code, areas by name,
	// three-letter language codes, Italian units, seconds in times.
	foreign := `{
		"id": "AC148810-D857-441C-9679-408F346DE14B", "name": "Pasti a domicilio", "description": "Consegna pasti caldi.",
		"status": "temporarily closed", "email": "pasti@comune.example", "alternate_name": "Pasti",
		"attributes": [{"id": "ae58cc39-8b70-4ab1-8aea-786882e5ac8e", "taxonomy_term": {"id": "3f7b145d-84af-42d7-8fae-eaca714b02b2", "code": "pasti.consegna", "name": "Consegna pasti", "description": ""}},
		               {"id": "ae58cc39-8b70-4ab1-8aea-786882e5ac8f", "taxonomy_term": {"id": "3f7b145d-84af-42d7-8fae-eaca714b02b3", "code": "X1", "name": "Other", "description": "", "taxonomy": "OpenEligibility"}}],
		"service_areas": [{"id": "381c64f1-a724-4884-9c21-ac96c21cca3e", "name": "Città di Castello"}, {"id": "381c64f1-a724-4884-9c21-ac96c21cca3f", "name": "Atlantide"}],
		"languages": [{"id": "2989d3ed-c547-48f8-8f9d-432d81c7892e", "code": "ita"}],
		"cost_options": [{"id": "1fdf4d39-3d80-484d-9f92-a8ffa08621e7", "option": "Pasto", "amount": 6.9, "amount_description": "a visita"}],
		"schedules": [{"id": "48102e86-bb50-41c4-8f1e-e269368c41d1", "freq": "WEEKLY", "byday": "MO,WE", "opens_at": "11:30:00", "closes_at": "13:00:00"},
		              {"id": "48102e86-bb50-41c4-8f1e-e269368c41d2", "freq": "MONTHLY", "byday": "1MO"}]
	}`
	if err := json.Unmarshal([]byte(foreign), &doc); err != nil {
		t.Fatal(err)
	}
	o, warnings, err := OfferingFromHSDS(doc)
	if err != nil {
		t.Fatalf("import: %v (warnings %v)", err, warnings)
	}
	want := Offering{
		ID: "ac148810-d857-441c-9679-408f346de14b", Name: "Pasti a domicilio", Description: "Consegna pasti caldi.",
		Category: "pasti.consegna",
		Cost:     Cost{Type: CostPaid, Options: []CostOption{{Option: "Pasto", AmountCents: 690, Currency: "EUR", Unit: PerVisit}}},
		Delivery: DeliveryIndividual, Areas: []string{"054013"}, Languages: []string{"it"},
		Schedule: Schedule{Weekly: []WeeklyHours{{Days: []Weekday{Monday, Wednesday}, Opens: "11:30", Closes: "13:00"}}},
		Contact:  Contact{Email: "pasti@comune.example"}, Status: StatusInactive,
	}
	if !reflect.DeepEqual(o, want) {
		t.Errorf("imported\n%+v\nwant\n%+v", o, want)
	}
	joined = strings.Join(warnings, "\n")
	for _, w := range []string{"alternate_name", `status: "temporarily closed"`, "attributes[1]", "service_areas[0]: matched", "service_areas[1]", "cost_options[0]: no currency", "schedules[1]", "delivery"} {
		if !strings.Contains(joined, w) {
			t.Errorf("warnings lack %q:\n%s", w, joined)
		}
	}
}

func FuzzOfferingFromHSDS(f *testing.F) {
	own, _ := json.Marshal(HSDSService(hsdsTestPublisher, "Coop", catalogueOffering(), hsdsTestTime))
	official, err := os.ReadFile(filepath.Join(hsdsDir, "examples", "service_full.json"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(own)
	f.Add(official)
	f.Add([]byte(`{"cost_options":[{"amount":1e308,"currency":"eur","amount_description":"per hour"}],"minimum_age":-1e9}`))
	f.Add([]byte(`{"schedules":[{"byday":",,","opens_at":"99:99:00"}],"service_areas":[{"uri":"urn:istat:comune:"}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var doc HSDSServiceDoc
		if json.Unmarshal(b, &doc) != nil {
			return
		}
		o, _, err := OfferingFromHSDS(doc)
		if err == nil {
			if verr := o.Validate(); verr != nil {
				t.Fatalf("import returned no error but the offering is invalid: %v", verr)
			}
		}
	})
}

func BenchmarkHSDSService(b *testing.B) {
	o := catalogueOffering()
	b.Run("baseline=json.Marshal(offering)", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("HSDSService+json.Marshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := json.Marshal(HSDSService(hsdsTestPublisher, "Coop", o, hsdsTestTime)); err != nil {
				b.Fatal(err)
			}
		}
	})
}
