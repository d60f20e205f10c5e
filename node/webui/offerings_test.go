package webui

import (
	"context"
	"html"
	"net/http"
	"net/url"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/web"
)

// richOffering has everything the offering form must carry through an
// edit: several prices, weekly hours, further categories, ages.
func richOffering() schema.Offering {
	return schema.Offering{
		Name: "Assistenza domiciliare", Description: "Igiene, pasti e compagnia.\nAnche nei festivi.",
		Category: "anziani.assistenza-domiciliare", Categories: []string{"compagnia.telecompagnia", "pasti.consegna"},
		Eligibility: schema.Eligibility{Description: "Over 65 del comune.", MinAge: 65, MaxAge: 120},
		Cost: schema.Cost{Type: schema.CostPaid, Description: "Riduzioni con ISEE.", Options: []schema.CostOption{
			{Option: "Ora feriale", AmountCents: 1850, Currency: "EUR", Unit: schema.PerHour},
			{Option: "Ora festiva", AmountCents: 2205, Currency: "EUR", Unit: schema.PerHour},
			{Option: "Pacchetto 10 visite", AmountCents: 15000, Currency: "EUR", Unit: schema.Once},
		}},
		Delivery: schema.DeliveryShared, Areas: []string{"080063", "080096"}, Languages: []string{"it", "ro", "pt-BR"},
		Schedule: schema.Schedule{Description: "Su appuntamento.", Weekly: []schema.WeeklyHours{
			{Days: []schema.Weekday{schema.Monday, schema.Wednesday, schema.Friday}, Opens: "08:30", Closes: "12:30"},
			{Days: []schema.Weekday{schema.Saturday}, Opens: "15:00", Closes: "24:00"},
		}},
		Contact: schema.Contact{Name: "Sportello", Phone: "+39 0965 123456", Email: "info@coop.example", URL: "https://coop.example/"},
		Status:  schema.StatusInactive,
	}
}

var (
	postFormRE = regexp.MustCompile(`(?s)<form method="post" action="[^"]*" novalidate class="form">(.*?)</form>`)
	inputRE    = regexp.MustCompile(`<input ([^>]*)>`)
	attrRE     = regexp.MustCompile(`([a-z-]+)(?:="([^"]*)")?`)
	selectRE   = regexp.MustCompile(`(?s)<select ([^>]*)>(.*?)</select>`)
	optionRE   = regexp.MustCompile(`<option value="([^"]*)"( selected)?>`)
	textareaRE = regexp.MustCompile(`(?s)<textarea ([^>]*)>(.*?)</textarea>`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range attrRE.FindAllStringSubmatch(s, -1) {
		m[a[1]] = html.UnescapeString(a[2])
	}
	return m
}

// submitted is what a browser sends for the page's form left as it is:
// inputs, checked boxes, each select's selected (or first) option,
// textareas.
func submitted(t *testing.T, page string) url.Values {
	t.Helper()
	m := postFormRE.FindStringSubmatch(page)
	if m == nil {
		t.Fatal("no form on the page")
	}
	v := url.Values{}
	for _, in := range inputRE.FindAllStringSubmatch(m[1], -1) {
		a := attrs(in[1])
		if typ := a["type"]; typ == "checkbox" || typ == "radio" {
			if _, on := a["checked"]; !on {
				continue
			}
		}
		v.Add(a["name"], a["value"])
	}
	for _, sel := range selectRE.FindAllStringSubmatch(m[1], -1) {
		opts := optionRE.FindAllStringSubmatch(sel[2], -1)
		if len(opts) == 0 {
			continue
		}
		chosen := opts[0][1]
		for _, o := range opts {
			if o[2] != "" {
				chosen = o[1]
			}
		}
		v.Add(attrs(sel[1])["name"], html.UnescapeString(chosen))
	}
	for _, ta := range textareaRE.FindAllStringSubmatch(m[1], -1) {
		// A textarea drops one leading newline; the template writes none.
		v.Add(attrs(ta[1])["name"], html.UnescapeString(ta[2]))
	}
	return v
}

// TestOfferingEditKeepsEverything: an offering with three prices, two
// weekly periods and further categories goes through the edit form
// unchanged, and then with a price and a period added in the empty rows.
func TestOfferingEditKeepsEverything(t *testing.T) {
	e := newEnv(t)
	ctx, sys := context.Background(), auth.Actor{Username: "setup", Role: auth.Admin}
	want := richOffering()
	o, err := e.own.Create(ctx, sys, want)
	if err != nil {
		t.Fatal(err)
	}
	want.ID = o.ID
	c := e.login("admin")
	edit := "/offerings/" + o.ID + "/edit"

	res, body := e.get(c, edit)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("edit form: %d", res.StatusCode)
	}
	checkPage(t, edit, body)
	// Every price plus two empty rows, every period plus one.
	for _, id := range []string{"f-cost-options-2-amount", "f-cost-options-4-option", "f-schedule-weekly-2-opens", "f-categories-2"} {
		if !strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("edit form lacks %s", id)
		}
	}
	for _, id := range []string{"f-cost-options-5-option", "f-schedule-weekly-3-opens", "f-categories-3"} {
		if strings.Contains(body, `id="`+id+`"`) {
			t.Errorf("edit form has a surplus row %s", id)
		}
	}
	form := submitted(t, body)
	res, _ = e.post(c, edit, form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save unchanged: %d", res.StatusCode)
	}
	got, err := e.own.Get(ctx, sys, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.Offering, want) {
		t.Errorf("an unchanged save lost data:\n got %+v\nwant %+v", got.Offering, want)
	}

	// Fill the empty rows: a fourth price (row 4, leaving row 3 empty) and
	// a third period, typed loosely.
	form.Set("cost.options.4.option", "Notturno")
	form.Set("cost.options.4.amount", "30")
	form.Set("cost.options.4.unit", "visit")
	form["schedule.weekly.2.days"] = []string{"SU"}
	form.Set("schedule.weekly.2.opens", "9")
	form.Set("schedule.weekly.2.closes", "12.30")
	res, _ = e.post(c, edit, form)
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("save with new rows: %d", res.StatusCode)
	}
	got, _ = e.own.Get(ctx, sys, o.ID)
	want.Cost.Options = append(want.Cost.Options, schema.CostOption{Option: "Notturno", AmountCents: 3000, Currency: "EUR", Unit: schema.PerVisit})
	want.Schedule.Weekly = append(want.Schedule.Weekly, schema.WeeklyHours{Days: []schema.Weekday{schema.Sunday}, Opens: "09:00", Closes: "12:30"})
	if !reflect.DeepEqual(got.Offering, want) {
		t.Errorf("new rows not saved:\n got %+v\nwant %+v", got.Offering, want)
	}
	_, body = e.get(c, "/offerings/"+o.ID)
	checkPage(t, "/offerings/"+o.ID, body)
	for _, s := range []string{"Ora festiva", "22,05", "Notturno", "lunedì, mercoledì, venerdì 08:30–12:30", "sabato 15:00–24:00", "domenica 09:00–12:30"} {
		if !strings.Contains(body, s) {
			t.Errorf("offering page lacks %q", s)
		}
	}
}

// TestOfferingRowErrors: the schema's errors on the second price, on a
// period and on a further category mark those rows' inputs (aria-invalid,
// the message linked by aria-describedby, a summary link), and only them.
func TestOfferingRowErrors(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin")
	o, err := e.own.Create(context.Background(), auth.Actor{Username: "setup", Role: auth.Admin}, richOffering())
	if err != nil {
		t.Fatal(err)
	}
	edit := "/offerings/" + o.ID + "/edit"
	_, body := e.get(c, edit)
	base := submitted(t, body)
	cat, err := loadCatalogues(web.Locales())
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name    string
		change  func(v url.Values)
		invalid []string // ids of the inputs marked
		clean   []string // ids that must stay unmarked
		code    string   // the message shown
	}{
		{"second price without amount", func(v url.Values) { v.Set("cost.options.1.amount", "") },
			[]string{"f-cost-options-1-amount"}, []string{"f-cost-options-0-amount", "f-cost-options-2-amount", "f-cost-options-1-option"}, "bad_amount"},
		{"second price unreadable", func(v url.Values) { v.Set("cost.options.1.amount", "tanto") },
			[]string{"f-cost-options-1-amount"}, []string{"f-cost-options-0-amount"}, "bad_amount"},
		{"a price after an empty row", func(v url.Values) {
			v.Set("cost.options.1.option", "")
			v.Set("cost.options.1.amount", "")
			v.Set("cost.options.2.option", "")
		}, []string{"f-cost-options-2-option"}, []string{"f-cost-options-1-option", "f-cost-options-0-option"}, "required"},
		{"period closing before it opens", func(v url.Values) { v.Set("schedule.weekly.1.closes", "14:00") },
			[]string{"f-schedule-weekly-1-closes"}, []string{"f-schedule-weekly-0-closes", "f-schedule-weekly-1-opens"}, "time_order"},
		{"period without days", func(v url.Values) { delete(v, "schedule.weekly.0.days") },
			[]string{"f-schedule-weekly-0-days-0"}, []string{"f-schedule-weekly-1-days-0"}, "required"},
		{"bad opening time", func(v url.Values) { v.Set("schedule.weekly.0.opens", "otto") },
			[]string{"f-schedule-weekly-0-opens"}, nil, "bad_time"},
		{"category twice", func(v url.Values) { v.Set("categories.1", "compagnia.telecompagnia") },
			[]string{"f-categories-1"}, []string{"f-categories-0"}, "listed_twice"},
		{"age out of range", func(v url.Values) { v.Set("eligibility.min_age", "200") },
			[]string{"f-eligibility-min_age"}, nil, "out_of_range"},
		{"no way to contact", func(v url.Values) {
			v.Set("contact.phone", "")
			v.Set("contact.email", "")
			v.Set("contact.url", "")
		}, []string{"f-contact-phone"}, nil, "contact_needed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			v := url.Values{}
			for k, vs := range base {
				v[k] = append([]string(nil), vs...)
			}
			tc.change(v)
			res, body := e.post(c, edit, v)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d", res.StatusCode)
			}
			checkPage(t, edit, body)
			msg := html.EscapeString(cat.translate("it", "err."+tc.code))
			for _, id := range tc.invalid {
				tag := inputTag(body, id)
				if !strings.Contains(tag, `aria-invalid="true"`) {
					t.Errorf("%s not marked invalid: %s", id, tag)
				}
				// The field's (or its group's) error id, described and shown.
				eid := "e" + strings.TrimSuffix(id, "-0")[1:]
				if !strings.Contains(body, `<p class="error" id="`+eid+`">`+msg+`</p>`) {
					t.Errorf("no %q message with id %s", msg, eid)
				}
				if !strings.Contains(body, eid) || !strings.Contains(body, `href="#`+id+`"`) {
					t.Errorf("error summary does not link %s", id)
				}
			}
			for _, id := range tc.clean {
				if tag := inputTag(body, id); tag == "" || strings.Contains(tag, "aria-invalid") {
					t.Errorf("%s wrongly marked (or missing): %s", id, tag)
				}
			}
			// Nothing the user typed is lost on the error page.
			if !strings.Contains(body, `value="Pacchetto 10 visite"`) && v.Get("cost.options.2.option") != "" {
				t.Errorf("the third price was not kept on the error page")
			}
		})
	}
}

// inputTag returns the opening tag of the input, select or textarea with
// the id.
func inputTag(body, id string) string {
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		return ""
	}
	start := strings.LastIndex(body[:i], "<")
	end := strings.Index(body[i:], ">")
	return body[start : i+end+1]
}

func TestOfferingRowNames(t *testing.T) {
	fr := formRows{cats: []int{0, 2}, prices: []int{0, 3, 4}, weeks: []int{1}, areas: []int{2}}
	for in, want := range map[string]string{
		"cost.options[1].amount_cents": "cost.options.3.amount",
		"cost.options[2].currency":     "cost.options.4.amount",
		"cost.options[2].option":       "cost.options.4.option",
		"cost.options[0].unit":         "cost.options.0.unit",
		"cost.options":                 "cost.options.0.option",
		"cost.type":                    "cost.type",
		"schedule.weekly[0].days[2]":   "schedule.weekly.1.days",
		"schedule.weekly[0].days":      "schedule.weekly.1.days",
		"schedule.weekly[0].closes":    "schedule.weekly.1.closes",
		"schedule.weekly":              "schedule.weekly.1.days",
		"categories[1]":                "categories.2",
		"categories":                   "categories.0",
		"areas[0]":                     "areas.2",
		"areas":                        "areas.2",
		"languages":                    "languages",
		"languages[3]":                 "languages_other",
		"contact":                      "contact.phone",
		"contact.email":                "contact.email",
		"eligibility.max_age":          "eligibility.max_age",
	} {
		if got := fr.field(in); got != want {
			t.Errorf("field(%q) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[string]string{"9": "09:00", "9:30": "09:30", "09.05": "09:05", "24:00": "24:00", "otto": "otto", "930": "930"} {
		if got := normalTime(in); got != want {
			t.Errorf("normalTime(%q) = %q, want %q", in, got, want)
		}
	}
	for _, c := range []int64{1, 5, 10, 705, 1850, 100_000_000} {
		if got, ok := parseCents(formatCents(c)); !ok || got != c {
			t.Errorf("parseCents(formatCents(%d)) = %d %v", c, got, ok)
		}
	}
	for in, want := range map[string]string{"required": "required", "bad_time": "bad_time", "is required": "invalid", "": "invalid"} {
		if got := serviceCode(in); got != want {
			t.Errorf("serviceCode(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestSchemaCodesTranslated: every code the schema gives a field error
// has a message in every catalogue.
func TestSchemaCodesTranslated(t *testing.T) {
	cat, err := loadCatalogues(web.Locales())
	if err != nil {
		t.Fatal(err)
	}
	codes := []string{schema.CodeRequired, schema.CodeTooLong, schema.CodeTooMany, schema.CodeBadCharacters, schema.CodeInvalid,
		schema.CodeBadMunicipality, schema.CodeBadEmail, schema.CodeBadURL, schema.CodeBadPhone, schema.CodeBadLanguage,
		schema.CodeBadCategory, schema.CodeDuplicate, schema.CodeOutOfRange, schema.CodeBadAmount, schema.CodeBadTime,
		schema.CodeTimeOrder, schema.CodeBadChoice, schema.CodeNotAllowed, schema.CodeContactNeeded, schema.CodeBadPostalCode}
	for _, l := range cat.langs {
		for _, c := range codes {
			if !cat.has(l, "err."+c) {
				t.Errorf("%s: no message for err.%s", l, c)
			}
		}
		for _, d := range weekdays() {
			if !cat.has(l, "offering_day."+d) {
				t.Errorf("%s: no name for day %s", l, d)
			}
		}
	}
}

// TestNavShowsRunningSections: a UI without the call and escalation
// services links neither the agenda nor cases, dashboard and inbox.
func TestNavShowsRunningSections(t *testing.T) {
	e := newEnv(t)
	for _, role := range []auth.Role{auth.Admin, auth.Caregiver} {
		_, body := e.get(e.login(string(role)), "/")
		for _, href := range []string{"/agenda", "/calls", "/cases", "/dashboard", "/inbox"} {
			if strings.Contains(body, `href="`+href+`"`) {
				t.Errorf("%s sees a link to %s on a node without the service", role, href)
			}
		}
	}
	without := &ui{}
	with := &ui{d: Deps{Calls: new(calls.Service), Escalation: new(escalation.Service)}}
	for _, s := range []string{"agenda", "calls", "cases", "dashboard", "inbox"} {
		if without.runs(s) || !with.runs(s) {
			t.Errorf("runs(%q): without services %v, with %v", s, without.runs(s), with.runs(s))
		}
	}
}
