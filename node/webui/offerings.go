package webui

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalog"
	"github.com/difronte/difronte/schema"
)

// areaRows is how many municipality inputs the offering form has.
const areaRows = 5

// offeringLanguages are the languages offered as checkboxes; others go in
// a free text input as BCP 47 tags.
func offeringLanguages() []string {
	return []string{"it", "en", "fr", "de", "es", "ro", "sq", "ar", "uk", "zh"}
}

func costUnits() []string {
	return []string{string(schema.PerHour), string(schema.PerVisit), string(schema.PerDay), string(schema.PerWeek), string(schema.PerMonth), string(schema.Once)}
}

func (u *ui) offeringRoutes() {
	o := u.d.Own
	mountKind(u, &kind[catalog.Offering]{
		path: "offerings", key: "offering", writers: []auth.Role{auth.Admin},
		list: func(c context.Context, a auth.Actor, q care.Query) (care.Page[catalog.Offering], error) {
			n, items, err := o.List(c, a, q.Search, q.Archived, q.Offset, q.Limit)
			return care.Page[catalog.Offering]{Total: n, Items: items}, err
		},
		get: o.Get,
		create: func(c context.Context, a auth.Actor, x catalog.Offering) (catalog.Offering, error) {
			return o.Create(c, a, x.Offering)
		},
		update: func(c context.Context, a auth.Actor, id string, x catalog.Offering) (catalog.Offering, error) {
			return o.Update(c, a, id, x.Offering)
		},
		archive:  o.Archive,
		id:       func(x catalog.Offering) string { return x.ID },
		toForm:   offeringToForm,
		fromForm: offeringFromForm,
		code:     schemaCode,
		form:     func(r *http.Request, p *page) []fieldset { return offeringForm(p) },
	})
}

func offeringToForm(x catalog.Offering) url.Values {
	v := url.Values{}
	v.Set("name", x.Name)
	v.Set("description", x.Description)
	v.Set("category", x.Category)
	v.Set("eligibility.description", x.Eligibility.Description)
	if x.Eligibility.MinAge > 0 {
		v.Set("eligibility.min_age", strconv.Itoa(x.Eligibility.MinAge))
	}
	if x.Eligibility.MaxAge > 0 {
		v.Set("eligibility.max_age", strconv.Itoa(x.Eligibility.MaxAge))
	}
	v.Set("cost.type", string(x.Cost.Type))
	v.Set("cost.description", x.Cost.Description)
	if len(x.Cost.Options) > 0 {
		c := x.Cost.Options[0]
		v.Set("cost.option", c.Option)
		v.Set("cost.amount", strings.Replace(strconv.FormatFloat(float64(c.AmountCents)/100, 'f', 2, 64), ".", ",", 1))
		v.Set("cost.unit", string(c.Unit))
	}
	v.Set("delivery", string(x.Delivery))
	for i, a := range x.Areas {
		v.Set("areas."+strconv.Itoa(i), muniValue(a))
	}
	var other []string
	for _, l := range x.Languages {
		if slices.Contains(offeringLanguages(), l) {
			v.Add("languages", l)
		} else {
			other = append(other, l)
		}
	}
	v.Set("languages_other", strings.Join(other, ", "))
	v.Set("schedule.description", x.Schedule.Description)
	v.Set("contact.name", x.Contact.Name)
	v.Set("contact.phone", x.Contact.Phone)
	v.Set("contact.email", x.Contact.Email)
	v.Set("contact.url", x.Contact.URL)
	v.Set("status", string(x.Status))
	return v
}

// amountRE is an amount in euro as people type it: "12", "12,50", "12.5".
var amountRE = regexp.MustCompile(`^\s*(?:€\s*)?([0-9]{1,7})(?:[.,]([0-9]{1,2}))?\s*$`)

func parseCents(s string) (int64, bool) {
	m := amountRE.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	euro, _ := strconv.ParseInt(m[1], 10, 64)
	cents := int64(0)
	if m[2] != "" {
		cents, _ = strconv.ParseInt(m[2], 10, 64)
		if len(m[2]) == 1 {
			cents *= 10
		}
	}
	return euro*100 + cents, true
}

func offeringFromForm(r *http.Request, v url.Values) (catalog.Offering, map[string]string, func(string) string) {
	errs := map[string]string{}
	t := func(k string) string { return strings.TrimSpace(v.Get(k)) }
	x := schema.Offering{
		Name: t("name"), Description: t("description"), Category: v.Get("category"),
		Eligibility: schema.Eligibility{Description: t("eligibility.description"), MinAge: atoi(v, "eligibility.min_age", errs), MaxAge: atoi(v, "eligibility.max_age", errs)},
		Cost:        schema.Cost{Type: schema.CostType(v.Get("cost.type")), Description: t("cost.description")},
		Delivery:    schema.Delivery(v.Get("delivery")),
		Schedule:    schema.Schedule{Description: t("schedule.description")},
		Contact:     schema.Contact{Name: t("contact.name"), Phone: t("contact.phone"), Email: t("contact.email"), URL: t("contact.url")},
		Status:      schema.Status(v.Get("status")),
		Areas:       []string{},
	}
	if x.Cost.Type == schema.CostPaid {
		cents, ok := parseCents(v.Get("cost.amount"))
		if !ok {
			errs["cost.amount"] = "bad_amount"
		}
		x.Cost.Options = []schema.CostOption{{Option: t("cost.option"), AmountCents: cents, Currency: "EUR", Unit: schema.CostUnit(v.Get("cost.unit"))}}
	}
	// Area rows are compacted; rows maps each kept area to its input.
	var rows []int
	for i := range rowsIn(v, "areas", areaRows) {
		a := t("areas." + strconv.Itoa(i))
		if a == "" {
			continue
		}
		x.Areas = append(x.Areas, resolveMunicipality(a))
		rows = append(rows, i)
	}
	x.Languages = append(slices.Clone(v["languages"]), splitList(v.Get("languages_other"))...)
	rename := func(f string) string {
		switch {
		case strings.HasPrefix(f, "cost.options"):
			switch {
			case strings.HasSuffix(f, ".option"):
				return "cost.option"
			case strings.HasSuffix(f, ".unit"):
				return "cost.unit"
			}
			return "cost.amount"
		case strings.HasPrefix(f, "areas["):
			i, _ := strconv.Atoi(strings.TrimSuffix(strings.TrimPrefix(f, "areas["), "]"))
			if i < len(rows) {
				return "areas." + strconv.Itoa(rows[i])
			}
			return "areas.0"
		case f == "areas":
			return "areas.0"
		case strings.HasPrefix(f, "languages"):
			return "languages_other"
		case strings.HasPrefix(f, "schedule."):
			return "schedule.description"
		case strings.HasPrefix(f, "categories"):
			return "category"
		case f == "contact":
			return "contact.phone"
		}
		return f
	}
	return catalog.Offering{Offering: x}, errs, rename
}

// schemaCode turns schema's English field messages into catalogue codes.
// schema speaks to API clients in words; the UI needs codes to translate.
func schemaCode(msg string) string {
	switch {
	case len(msg) > 0 && !strings.ContainsAny(msg, " "):
		return msg // already a code (read errors from the form)
	case strings.HasPrefix(msg, "is required"), strings.HasPrefix(msg, "needs at least"), strings.HasPrefix(msg, "a paid service needs"):
		return "required"
	case strings.Contains(msg, "characters long"):
		return "too_long"
	case strings.Contains(msg, "ISTAT"), strings.HasPrefix(msg, "municipality"):
		return "bad_municipality"
	case strings.Contains(msg, "email"):
		return "bad_email"
	case strings.Contains(msg, "phone"):
		return "bad_phone"
	case strings.Contains(msg, "URL"):
		return "bad_url"
	case strings.Contains(msg, "amount above zero"), strings.Contains(msg, "cents"):
		return "bad_amount"
	case strings.Contains(msg, "language"):
		return "bad_language"
	case strings.Contains(msg, "between"), strings.Contains(msg, "lower than"):
		return "out_of_range"
	case strings.HasPrefix(msg, "must be"), strings.Contains(msg, "not a category"):
		return "bad_choice"
	}
	return "invalid"
}

func offeringForm(p *page) []fieldset {
	cat := p.fld("select", "category", "offering.category", required)
	for _, top := range schema.TopTerms() {
		g := optgroup{Label: p.Category(top.Code)}
		kids := schema.Children(top.Code)
		if len(kids) == 0 {
			kids = []schema.TaxonomyTerm{top}
		}
		for _, k := range kids {
			g.Options = append(g.Options, option{Value: k.Code, Label: p.Category(k.Code), Selected: p.V("category") == k.Code})
		}
		cat.Groups = append(cat.Groups, g)
	}
	if p.V("cost.type") == "" {
		p.Form.Set("cost.type", string(schema.CostFree))
	}
	if p.V("delivery") == "" {
		p.Form.Set("delivery", string(schema.DeliveryIndividual))
	}
	if p.V("status") == "" {
		p.Form.Set("status", string(schema.StatusActive))
	}
	if p.Form["languages"] == nil && p.V("languages_other") == "" && p.V("name") == "" {
		p.Form["languages"] = []string{"it"}
	}
	var areas []field
	for i := range rowsIn(p.Form, "areas", areaRows) {
		areas = append(areas, p.fld("text", "areas."+strconv.Itoa(i), "offering.area_n", muni, func(f *field) { f.Label = p.T("offering.area_n", "N", i+1) }))
	}
	areas[0].Help = p.T("help.municipality")
	return []fieldset{
		set("", p.fld("text", "name", "offering.name", required, auto("off")),
			p.fld("textarea", "description", "offering.description", required),
			cat,
			p.choice("select", "status", "offering.status", "offering_status", []string{string(schema.StatusActive), string(schema.StatusInactive)}, required)),
		set(p.T("offering.eligibility"),
			p.fld("textarea", "eligibility.description", "offering.eligibility_description"),
			p.fld("number", "eligibility.min_age", "offering.min_age", inputmode("numeric")),
			p.fld("number", "eligibility.max_age", "offering.max_age", inputmode("numeric"))),
		set(p.T("offering.cost"),
			p.choice("radios", "cost.type", "offering.cost_type", "cost_type", []string{string(schema.CostFree), string(schema.CostPaid)}),
			p.fld("text", "cost.option", "offering.cost_option", help(p, "help.cost_option")),
			p.fld("text", "cost.amount", "offering.cost_amount", inputmode("decimal"), help(p, "help.amount")),
			p.choice("select", "cost.unit", "offering.cost_unit", "cost_unit", costUnits()),
			p.fld("textarea", "cost.description", "offering.cost_description")),
		set("",
			p.choice("radios", "delivery", "offering.delivery", "delivery", []string{string(schema.DeliveryIndividual), string(schema.DeliveryShared)})),
		set(p.T("offering.areas"), areas...),
		set(p.T("offering.languages"),
			p.choice("checks", "languages", "offering.languages_common", "language", offeringLanguages()),
			p.fld("text", "languages_other", "offering.languages_other", help(p, "help.languages"))),
		set(p.T("offering.schedule"), p.fld("textarea", "schedule.description", "offering.schedule_description")),
		set(p.T("offering.contact"),
			p.fld("text", "contact.name", "offering.contact_name"),
			p.fld("tel", "contact.phone", "offering.contact_phone"),
			p.fld("email", "contact.email", "offering.contact_email"),
			p.fld("url", "contact.url", "offering.contact_url")),
	}
}
