package schema

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func init() {
	// entry_test.go registers the same flag; whichever init runs first wins.
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateCatalogueGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

// catalogueOffering is a complete, valid offering: a social coop in Reggio
// Calabria offering home care to older people.
func catalogueOffering() Offering {
	return Offering{
		ID:          "5b0f3c1e-8a4d-4c2b-9e7f-1a2b3c4d5e6f",
		Name:        "Assistenza domiciliare anziani",
		Description: "Operatori qualificati aiutano a casa nelle attività quotidiane: alzarsi, lavarsi, vestirsi, preparare i pasti.\nServizio attivo anche nei festivi.",
		Category:    "anziani.assistenza-domiciliare",
		Categories:  []string{"anziani.igiene-personale", "salute.oss"},
		Eligibility: Eligibility{Description: "Persone di 65 anni e più, o non autosufficienti.", MinAge: 65},
		Cost: Cost{
			Type:        CostPaid,
			Description: "Riduzioni con ISEE sotto 15.000 euro.",
			Options: []CostOption{
				{Option: "Ora feriale", AmountCents: 1850, Currency: "EUR", Unit: PerHour},
				{Option: "Pacchetto mensile (20 ore)", AmountCents: 33000, Currency: "EUR", Unit: PerMonth},
			},
		},
		Delivery:  DeliveryIndividual,
		Areas:     []string{"080063", "080057", "080096"},
		Languages: []string{"it", "en", "ro"},
		Schedule: Schedule{
			Description: "Dal lunedì al sabato, mattina e pomeriggio.",
			Weekly: []WeeklyHours{
				{Days: []Weekday{Monday, Tuesday, Wednesday, Thursday, Friday}, Opens: "08:00", Closes: "13:00"},
				{Days: []Weekday{Monday, Wednesday, Friday, Saturday}, Opens: "15:00", Closes: "19:30"},
			},
		},
		Contact: Contact{
			Name:  "Sportello Cooperativa Stretto Solidale",
			Email: "sportello@stretto-solidale.example",
			Phone: "+39 0965 123456",
			URL:   "https://stretto-solidale.example/servizi/anziani",
		},
		Status: StatusActive,
	}
}

// minimalOffering has only the required fields: a free service.
func minimalOffering() Offering {
	return Offering{
		ID:          "00000000-0000-4000-8000-000000000001",
		Name:        "Telecompagnia",
		Description: "Telefonate settimanali.",
		Category:    "compagnia.telecompagnia",
		Cost:        Cost{Type: CostFree},
		Delivery:    DeliveryShared,
		Areas:       []string{"015146"},
		Languages:   []string{"it"},
		Contact:     Contact{Phone: "02 1234567"},
		Status:      StatusInactive,
	}
}

func fieldsOf(err error) []string {
	var fe FieldErrors
	if !errors.As(err, &fe) {
		return nil
	}
	var out []string
	for _, e := range fe {
		out = append(out, e.Field)
	}
	return out
}

func TestOfferingValidate(t *testing.T) {
	long := func(n int) string { return strings.Repeat("à", n) }
	cases := []struct {
		name   string
		base   func() Offering
		change func(o *Offering)
		want   []string // fields with errors; nil means valid
	}{
		{"complete", catalogueOffering, func(o *Offering) {}, nil},
		{"minimal free", minimalOffering, func(o *Offering) {}, nil},
		{"name at limit in characters", catalogueOffering, func(o *Offering) { o.Name = long(MaxNameLen) }, nil},
		{"description multiline", catalogueOffering, func(o *Offering) { o.Description = "riga 1\nriga 2\tcon tab" }, nil},
		{"closes at midnight", catalogueOffering, func(o *Offering) { o.Schedule.Weekly[0].Closes = "24:00" }, nil},
		{"language with region and script", catalogueOffering, func(o *Offering) { o.Languages = []string{"pt-BR", "zh-Hant-TW", "ise"} }, nil},
		{"schedule description only", catalogueOffering, func(o *Offering) { o.Schedule.Weekly = nil }, nil},
		{"max age only", catalogueOffering, func(o *Offering) { o.Eligibility = Eligibility{MaxAge: 17} }, nil},

		{"zero value", func() Offering { return Offering{} }, func(o *Offering) {},
			[]string{"id", "name", "description", "category", "cost.type", "delivery", "areas", "languages", "contact", "status"}},
		{"id upper case", catalogueOffering, func(o *Offering) { o.ID = strings.ToUpper(o.ID) }, []string{"id"}},
		{"id not uuid", catalogueOffering, func(o *Offering) { o.ID = "off-1" }, []string{"id"}},
		{"name only spaces", catalogueOffering, func(o *Offering) { o.Name = "   " }, []string{"name"}},
		{"name too long", catalogueOffering, func(o *Offering) { o.Name = long(MaxNameLen + 1) }, []string{"name"}},
		{"name with newline", catalogueOffering, func(o *Offering) { o.Name = "a\nb" }, []string{"name"}},
		{"name with bidi override", catalogueOffering, func(o *Offering) { o.Name = "abc\u202edef" }, []string{"name"}},
		{"description with NUL", catalogueOffering, func(o *Offering) { o.Description = "a\x00b" }, []string{"description"}},
		{"description too long", catalogueOffering, func(o *Offering) { o.Description = long(MaxDescriptionLen + 1) }, []string{"description"}},
		{"description invalid utf-8", catalogueOffering, func(o *Offering) { o.Description = "a\xffb" }, []string{"description"}},
		{"unknown category", catalogueOffering, func(o *Offering) { o.Category = "anziani.astronauti" }, []string{"category"}},
		{"duplicate category", catalogueOffering, func(o *Offering) { o.Categories = []string{o.Category} }, []string{"categories[0]"}},
		{"unknown extra category", catalogueOffering, func(o *Offering) { o.Categories = []string{"salute.oss", "x"} }, []string{"categories[1]"}},
		{"too many categories", catalogueOffering, func(o *Offering) {
			o.Categories = []string{"casa", "casa.pulizie", "casa.lavanderia", "casa.commissioni", "pasti", "pasti.consegna"}
		}, []string{"categories"}},
		{"min age above max age", catalogueOffering, func(o *Offering) { o.Eligibility.MaxAge = 30 }, []string{"eligibility.max_age"}},
		{"negative age", catalogueOffering, func(o *Offering) { o.Eligibility.MinAge = -1 }, []string{"eligibility.min_age"}},
		{"paid without options", catalogueOffering, func(o *Offering) { o.Cost.Options = nil }, []string{"cost.options"}},
		{"paid with zero amount", catalogueOffering, func(o *Offering) { o.Cost.Options[1].AmountCents = 0 }, []string{"cost.options[1].amount_cents"}},
		{"negative amount", catalogueOffering, func(o *Offering) { o.Cost.Options[0].AmountCents = -100 }, []string{"cost.options[0].amount_cents"}},
		{"huge amount", catalogueOffering, func(o *Offering) { o.Cost.Options[0].AmountCents = MaxAmountCents + 1 }, []string{"cost.options[0].amount_cents"}},
		{"wrong currency and unit", catalogueOffering, func(o *Offering) {
			o.Cost.Options[0].Currency = "USD"
			o.Cost.Options[0].Unit = "fortnight"
		}, []string{"cost.options[0].currency", "cost.options[0].unit"}},
		{"option without name", catalogueOffering, func(o *Offering) { o.Cost.Options[0].Option = "" }, []string{"cost.options[0].option"}},
		{"free with options", catalogueOffering, func(o *Offering) { o.Cost.Type = CostFree }, []string{"cost.options"}},
		{"bad cost type", catalogueOffering, func(o *Offering) { o.Cost.Type = "gratis" }, []string{"cost.type"}},
		{"bad delivery", catalogueOffering, func(o *Offering) { o.Delivery = "group" }, []string{"delivery"}},
		{"no areas", catalogueOffering, func(o *Offering) { o.Areas = nil }, []string{"areas"}},
		{"unknown area", catalogueOffering, func(o *Offering) { o.Areas = append(o.Areas, "999999") }, []string{"areas[3]"}},
		{"area not six digits", catalogueOffering, func(o *Offering) { o.Areas[0] = "80063" }, []string{"areas[0]"}},
		{"duplicate area", catalogueOffering, func(o *Offering) { o.Areas[2] = o.Areas[0] }, []string{"areas[2]"}},
		{"bad language tags", catalogueOffering, func(o *Offering) { o.Languages = []string{"IT", "english", "it_IT", "it-", "en"} },
			[]string{"languages[0]", "languages[1]", "languages[2]", "languages[3]"}},
		{"duplicate language", catalogueOffering, func(o *Offering) { o.Languages = []string{"it", "it"} }, []string{"languages[1]"}},
		{"bad weekly hours", catalogueOffering, func(o *Offering) {
			o.Schedule.Weekly[0] = WeeklyHours{Days: []Weekday{"MON", Monday, Monday}, Opens: "9:00", Closes: "25:00"}
			o.Schedule.Weekly[1] = WeeklyHours{Opens: "18:00", Closes: "09:00"}
		}, []string{"schedule.weekly[0].days[0]", "schedule.weekly[0].days[2]", "schedule.weekly[0].opens", "schedule.weekly[0].closes",
			"schedule.weekly[1].days", "schedule.weekly[1].closes"}},
		{"no way to contact", catalogueOffering, func(o *Offering) { o.Contact = Contact{Name: "Sportello"} }, []string{"contact"}},
		{"bad email", catalogueOffering, func(o *Offering) { o.Contact.Email = "Mario <mario@example.it>" }, []string{"contact.email"}},
		{"email without dotted domain", catalogueOffering, func(o *Offering) { o.Contact.Email = "mario@localhost" }, []string{"contact.email"}},
		{"bad phone", catalogueOffering, func(o *Offering) { o.Contact.Phone = "chiamaci" }, []string{"contact.phone"}},
		{"url not http", catalogueOffering, func(o *Offering) { o.Contact.URL = "javascript:alert(1)" }, []string{"contact.url"}},
		{"url with credentials", catalogueOffering, func(o *Offering) { o.Contact.URL = "https://user:pw@example.it/" }, []string{"contact.url"}},
		{"bad status", catalogueOffering, func(o *Offering) { o.Status = "defunct" }, []string{"status"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := tc.base()
			tc.change(&o)
			err := o.Validate()
			if tc.want == nil {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate() = nil, want errors on %v", tc.want)
			}
			if got := fieldsOf(err); !slices.Equal(got, tc.want) {
				t.Errorf("error fields = %v, want %v (error: %v)", got, tc.want, err)
			}
			var one *FieldError
			if !errors.As(err, &one) || one.Field != tc.want[0] || one.Msg == "" || one.Code == "" {
				t.Errorf("errors.As(*FieldError) = %+v, want field %q with a code and a message", one, tc.want[0])
			}
		})
	}
}

func TestFieldErrorsShape(t *testing.T) {
	o := catalogueOffering()
	o.Name = ""
	o.Areas = []string{"1", "2"}
	err := o.Validate()
	var fe FieldErrors
	if !errors.As(err, &fe) {
		t.Fatalf("Validate() error %T is not FieldErrors", err)
	}
	want := map[string]string{
		"name":     "is required",
		"areas[0]": `"1" is not an ISTAT municipality code`,
		"areas[1]": `"2" is not an ISTAT municipality code`,
	}
	if got := fe.Fields(); !reflect.DeepEqual(got, want) {
		t.Errorf("Fields() = %v, want %v", got, want)
	}
	wantCodes := map[string]string{"name": CodeRequired, "areas[0]": CodeBadMunicipality, "areas[1]": CodeBadMunicipality}
	if got := fe.Codes(); !reflect.DeepEqual(got, wantCodes) {
		t.Errorf("Codes() = %v, want %v", got, wantCodes)
	}
	if msg := err.Error(); !strings.Contains(msg, "name: is required; areas[0]:") {
		t.Errorf("Error() = %q", msg)
	}
	m := minimalOffering()
	if err := m.Validate(); err != nil {
		t.Fatalf("valid offering: %v", err)
	}
}

func TestOfferingGolden(t *testing.T) {
	o := catalogueOffering()
	got, err := json.MarshalIndent(o, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	got = append(got, '\n')
	path := filepath.Join("testdata", "offering-sample.json")
	if updateCatalogueGolden() {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("offering JSON differs from %s (run with -update if the change is intended):\n%s", path, got)
	}
	// The golden body passes the same strict check an entry's body does.
	if err := ValidateBody(KindOffering, o.ID, want); err != nil {
		t.Fatalf("ValidateBody(golden) = %v", err)
	}
	var back Offering
	if err := decodeStrict(want, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, o) {
		t.Errorf("decoded golden = %+v, want %+v", back, o)
	}
	if err := ValidateBody(KindOffering, "another-key", want); err == nil {
		t.Error("ValidateBody accepted an offering whose id is not the entry key")
	}
}

func TestOfferingBodyStrict(t *testing.T) {
	o := minimalOffering()
	b, _ := json.Marshal(o)
	for _, tc := range []struct {
		name string
		body string
	}{
		{"unknown field", strings.Replace(string(b), `"name"`, `"nome":"x","name"`, 1)},
		{"unknown nested field", strings.Replace(string(b), `"type":"free"`, `"type":"free","iva":22`, 1)},
		{"wrong type", strings.Replace(string(b), `"areas":["015146"]`, `"areas":"015146"`, 1)},
		{"trailing data", string(b) + `{}`},
	} {
		if err := ValidateBody(KindOffering, o.ID, []byte(tc.body)); err == nil {
			t.Errorf("%s: ValidateBody accepted %s", tc.name, tc.body)
		}
	}
	// omitzero keeps a minimal body minimal: no empty eligibility or schedule.
	if s := string(b); strings.Contains(s, "eligibility") || strings.Contains(s, "schedule") || strings.Contains(s, "options") {
		t.Errorf("minimal offering JSON has empty sections: %s", s)
	}
}

func FuzzOfferingBody(f *testing.F) {
	golden, err := os.ReadFile(filepath.Join("testdata", "offering-sample.json"))
	if err != nil {
		f.Fatal(err)
	}
	minimal, _ := json.Marshal(minimalOffering())
	f.Add(golden)
	f.Add(minimal)
	f.Add([]byte(`{}`))
	f.Add([]byte(`{"id":"x","areas":[null],"cost":{"options":[{"amount_cents":1e99}]}}`))
	f.Add([]byte(`{"schedule":{"weekly":[{"days":["MO"],"opens":"24:00","closes":"00:00"}]}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		var o Offering
		if decodeStrict(body, &o) != nil {
			return
		}
		if err := o.Validate(); err != nil {
			if len(fieldsOf(err)) == 0 {
				t.Fatalf("Validate error without fields: %v", err)
			}
			return
		}
		// A valid body re-encodes to a body that decodes to the same value.
		b, err := json.Marshal(o)
		if err != nil {
			t.Fatal(err)
		}
		var back Offering
		if err := decodeStrict(b, &back); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !reflect.DeepEqual(normalizeEmpty(back), normalizeEmpty(o)) {
			t.Fatalf("re-decoded %+v, want %+v", back, o)
		}
	})
}

// normalizeEmpty makes empty and nil slices alike, as JSON does not keep
// the difference.
func normalizeEmpty(o Offering) Offering {
	if len(o.Categories) == 0 {
		o.Categories = nil
	}
	if len(o.Cost.Options) == 0 {
		o.Cost.Options = nil
	}
	if len(o.Schedule.Weekly) == 0 {
		o.Schedule.Weekly = nil
	}
	return o
}

func BenchmarkOfferingValidate(b *testing.B) {
	body, _ := json.Marshal(catalogueOffering())
	b.Run("baseline=json.Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var o Offering
			if err := json.Unmarshal(body, &o); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Validate", func(b *testing.B) {
		o := catalogueOffering()
		b.ReportAllocs()
		for b.Loop() {
			if err := o.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("ValidateBody", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := ValidateBody(KindOffering, "5b0f3c1e-8a4d-4c2b-9e7f-1a2b3c4d5e6f", body); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(len(body)), "body-bytes")
	})
}

// TestFieldErrorCodes pins the code of each check: user interfaces
// translate codes, so a check must keep its code when its words change.
func TestFieldErrorCodes(t *testing.T) {
	cases := []struct {
		name   string
		change func(o *Offering)
		field  string
		code   string
	}{
		{"id", func(o *Offering) { o.ID = "x" }, "id", CodeInvalid},
		{"name missing", func(o *Offering) { o.Name = "" }, "name", CodeRequired},
		{"name only spaces", func(o *Offering) { o.Name = "  " }, "name", CodeRequired},
		{"name too long", func(o *Offering) { o.Name = strings.Repeat("a", MaxNameLen+1) }, "name", CodeTooLong},
		{"name control", func(o *Offering) { o.Name = "a\x01" }, "name", CodeBadCharacters},
		{"description utf-8", func(o *Offering) { o.Description = "a\xff" }, "description", CodeBadCharacters},
		{"category missing", func(o *Offering) { o.Category = "" }, "category", CodeRequired},
		{"category unknown", func(o *Offering) { o.Category = "x" }, "category", CodeBadCategory},
		{"categories unknown", func(o *Offering) { o.Categories = []string{"x"} }, "categories[0]", CodeBadCategory},
		{"categories twice", func(o *Offering) { o.Categories = []string{o.Category} }, "categories[0]", CodeDuplicate},
		{"categories too many", func(o *Offering) { o.Categories = make([]string, MaxCategories+1) }, "categories", CodeTooMany},
		{"min age", func(o *Offering) { o.Eligibility.MinAge = MaxAge + 1 }, "eligibility.min_age", CodeOutOfRange},
		{"max below min", func(o *Offering) { o.Eligibility = Eligibility{MinAge: 70, MaxAge: 60} }, "eligibility.max_age", CodeOutOfRange},
		{"cost type missing", func(o *Offering) { o.Cost.Type = "" }, "cost.type", CodeRequired},
		{"cost type bad", func(o *Offering) { o.Cost.Type = "x" }, "cost.type", CodeBadChoice},
		{"paid no options", func(o *Offering) { o.Cost.Options = nil }, "cost.options", CodeRequired},
		{"free with options", func(o *Offering) { o.Cost.Type = CostFree }, "cost.options", CodeNotAllowed},
		{"too many options", func(o *Offering) { o.Cost.Options = make([]CostOption, MaxCostOptions+1) }, "cost.options", CodeTooMany},
		{"option name", func(o *Offering) { o.Cost.Options[1].Option = "" }, "cost.options[1].option", CodeRequired},
		{"zero amount", func(o *Offering) { o.Cost.Options[1].AmountCents = 0 }, "cost.options[1].amount_cents", CodeBadAmount},
		{"huge amount", func(o *Offering) { o.Cost.Options[1].AmountCents = MaxAmountCents + 1 }, "cost.options[1].amount_cents", CodeOutOfRange},
		{"currency", func(o *Offering) { o.Cost.Options[0].Currency = "USD" }, "cost.options[0].currency", CodeBadChoice},
		{"unit", func(o *Offering) { o.Cost.Options[0].Unit = "x" }, "cost.options[0].unit", CodeBadChoice},
		{"delivery missing", func(o *Offering) { o.Delivery = "" }, "delivery", CodeRequired},
		{"delivery bad", func(o *Offering) { o.Delivery = "x" }, "delivery", CodeBadChoice},
		{"no areas", func(o *Offering) { o.Areas = nil }, "areas", CodeRequired},
		{"too many areas", func(o *Offering) { o.Areas = make([]string, MaxAreas+1) }, "areas", CodeTooMany},
		{"bad area", func(o *Offering) { o.Areas[0] = "x" }, "areas[0]", CodeBadMunicipality},
		{"area twice", func(o *Offering) { o.Areas[1] = o.Areas[0] }, "areas[1]", CodeDuplicate},
		{"no languages", func(o *Offering) { o.Languages = nil }, "languages", CodeRequired},
		{"too many languages", func(o *Offering) { o.Languages = make([]string, MaxLanguages+1) }, "languages", CodeTooMany},
		{"bad language", func(o *Offering) { o.Languages = []string{"Italian"} }, "languages[0]", CodeBadLanguage},
		{"language twice", func(o *Offering) { o.Languages = []string{"it", "it"} }, "languages[1]", CodeDuplicate},
		{"too many periods", func(o *Offering) { o.Schedule.Weekly = make([]WeeklyHours, MaxWeeklyHours+1) }, "schedule.weekly", CodeTooMany},
		{"no days", func(o *Offering) { o.Schedule.Weekly[1].Days = nil }, "schedule.weekly[1].days", CodeRequired},
		{"bad day", func(o *Offering) { o.Schedule.Weekly[0].Days = []Weekday{"XX"} }, "schedule.weekly[0].days[0]", CodeBadChoice},
		{"day twice", func(o *Offering) { o.Schedule.Weekly[0].Days = []Weekday{Monday, Monday} }, "schedule.weekly[0].days[1]", CodeDuplicate},
		{"bad opens", func(o *Offering) { o.Schedule.Weekly[0].Opens = "9" }, "schedule.weekly[0].opens", CodeBadTime},
		{"bad closes", func(o *Offering) { o.Schedule.Weekly[0].Closes = "25:00" }, "schedule.weekly[0].closes", CodeBadTime},
		{"closes before opens", func(o *Offering) { o.Schedule.Weekly[0].Opens, o.Schedule.Weekly[0].Closes = "18:00", "09:00" }, "schedule.weekly[0].closes", CodeTimeOrder},
		{"no contact", func(o *Offering) { o.Contact = Contact{} }, "contact", CodeContactNeeded},
		{"email", func(o *Offering) { o.Contact.Email = "x" }, "contact.email", CodeBadEmail},
		{"phone", func(o *Offering) { o.Contact.Phone = "x" }, "contact.phone", CodeBadPhone},
		{"url", func(o *Offering) { o.Contact.URL = "x" }, "contact.url", CodeBadURL},
		{"status missing", func(o *Offering) { o.Status = "" }, "status", CodeRequired},
		{"status bad", func(o *Offering) { o.Status = "x" }, "status", CodeBadChoice},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := catalogueOffering()
			tc.change(&o)
			var fe FieldErrors
			if !errors.As(o.Validate(), &fe) {
				t.Fatal("valid")
			}
			if got := fe.Codes()[tc.field]; got != tc.code {
				t.Errorf("code of %s = %q, want %q (errors: %v)", tc.field, got, tc.code, fe)
			}
		})
	}
	c := catalogueCoop()
	c.Kind, c.Contact.Address.PostalCode = "", "1"
	var fe FieldErrors
	if !errors.As(c.Validate(), &fe) {
		t.Fatal("coop valid")
	}
	if got := fe.Codes(); got["kind"] != CodeRequired || got["contact.address.postal_code"] != CodeBadPostalCode {
		t.Errorf("coop codes = %v", got)
	}
}
