package webui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
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
	mountKind(u, &kind[catalogue.Offering]{
		path: "offerings", key: "offering", writers: []auth.Role{auth.Admin},
		list: func(c context.Context, a auth.Actor, q care.Query) (care.Page[catalogue.Offering], error) {
			n, items, err := o.List(c, a, q.Search, q.Archived, q.Offset, q.Limit)
			return care.Page[catalogue.Offering]{Total: n, Items: items}, err
		},
		get: o.Get,
		create: func(c context.Context, a auth.Actor, x catalogue.Offering) (catalogue.Offering, error) {
			return o.Create(c, a, x.Offering)
		},
		update: func(c context.Context, a auth.Actor, id string, x catalogue.Offering) (catalogue.Offering, error) {
			return o.Update(c, a, id, x.Offering)
		},
		archive:  o.Archive,
		id:       func(x catalogue.Offering) string { return x.ID },
		toForm:   offeringToForm,
		fromForm: offeringFromForm,
		code:     serviceCode,
		form:     func(r *http.Request, p *page) []fieldset { return offeringForm(p) },
	})
}

func offeringToForm(x catalogue.Offering) url.Values {
	v := url.Values{}
	v.Set("name", x.Name)
	v.Set("description", x.Description)
	v.Set("category", x.Category)
	for i, c := range x.Categories {
		v.Set("categories."+strconv.Itoa(i), c)
	}
	v.Set("eligibility.description", x.Eligibility.Description)
	if x.Eligibility.MinAge > 0 {
		v.Set("eligibility.min_age", strconv.Itoa(x.Eligibility.MinAge))
	}
	if x.Eligibility.MaxAge > 0 {
		v.Set("eligibility.max_age", strconv.Itoa(x.Eligibility.MaxAge))
	}
	v.Set("cost.type", string(x.Cost.Type))
	v.Set("cost.description", x.Cost.Description)
	for i, c := range x.Cost.Options {
		v.Set(rowName("cost.options", i, "option"), c.Option)
		v.Set(rowName("cost.options", i, "amount"), formatCents(c.AmountCents))
		v.Set(rowName("cost.options", i, "unit"), string(c.Unit))
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
	for i, w := range x.Schedule.Weekly {
		for _, d := range w.Days {
			v.Add(rowName("schedule.weekly", i, "days"), string(d))
		}
		v.Set(rowName("schedule.weekly", i, "opens"), w.Opens)
		v.Set(rowName("schedule.weekly", i, "closes"), w.Closes)
	}
	v.Set("contact.name", x.Contact.Name)
	v.Set("contact.phone", x.Contact.Phone)
	v.Set("contact.email", x.Contact.Email)
	v.Set("contact.url", x.Contact.URL)
	v.Set("status", string(x.Status))
	return v
}

// formatCents writes an amount the way parseCents reads it back, with the
// Italian decimal comma.
func formatCents(c int64) string {
	return strconv.FormatInt(c/100, 10) + "," + fmt.Sprintf("%02d", c%100)
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

// timeRE is a time of day as people type it: "9", "9:30", "09.30".
var timeRE = regexp.MustCompile(`^([0-9]{1,2})(?:[:.]([0-9]{2}))?$`)

// normalTime writes a typed time as HH:MM; anything else is left for the
// schema's check to refuse.
func normalTime(s string) string {
	m := timeRE.FindStringSubmatch(s)
	if m == nil {
		return s
	}
	if m[2] == "" {
		m[2] = "00"
	}
	if len(m[1]) == 1 {
		m[1] = "0" + m[1]
	}
	return m[1] + ":" + m[2]
}

// placeholderID stands in for the id while the form checks a new offering:
// the service assigns the real one.
const placeholderID = "00000000-0000-4000-8000-000000000000"

func offeringFromForm(r *http.Request, v url.Values) (catalogue.Offering, map[string]string, func(string) string) {
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
	// Repeated rows are compacted (an empty row is ignored); each rows
	// slice maps a kept item to the form row it came from, so that the
	// schema's errors on item i land on that row's inputs.
	var rows formRows
	for i := range rowsIn(v, "categories", 0) {
		if c := t("categories." + strconv.Itoa(i)); c != "" {
			x.Categories = append(x.Categories, c)
			rows.cats = append(rows.cats, i)
		}
	}
	// Price rows count only for a paid service: a free one has none.
	if x.Cost.Type == schema.CostPaid {
		for i := range rowsIn(v, "cost.options", 0) {
			n := func(f string) string { return rowName("cost.options", i, f) }
			name, amount := t(n("option")), t(n("amount"))
			if name == "" && amount == "" {
				continue
			}
			o := schema.CostOption{Option: name, Currency: "EUR", Unit: schema.CostUnit(v.Get(n("unit")))}
			if amount != "" {
				cents, ok := parseCents(amount)
				if !ok {
					errs[n("amount")] = schema.CodeBadAmount
				}
				o.AmountCents = cents
			}
			x.Cost.Options = append(x.Cost.Options, o)
			rows.prices = append(rows.prices, i)
		}
	}
	for i := range rowsIn(v, "schedule.weekly", 0) {
		n := func(f string) string { return rowName("schedule.weekly", i, f) }
		days, opens, closes := v[n("days")], t(n("opens")), t(n("closes"))
		if len(days) == 0 && opens == "" && closes == "" {
			continue
		}
		w := schema.WeeklyHours{Days: []schema.Weekday{}, Opens: normalTime(opens), Closes: normalTime(closes)}
		for _, d := range days {
			w.Days = append(w.Days, schema.Weekday(d))
		}
		x.Schedule.Weekly = append(x.Schedule.Weekly, w)
		rows.weeks = append(rows.weeks, i)
	}
	for i := range rowsIn(v, "areas", areaRows) {
		a := t("areas." + strconv.Itoa(i))
		if a == "" {
			continue
		}
		x.Areas = append(x.Areas, resolveMunicipality(a))
		rows.areas = append(rows.areas, i)
	}
	x.Languages = append(slices.Clone(v["languages"]), splitList(v.Get("languages_other"))...)

	// The form checks the offering with the schema itself, so that every
	// error arrives with its code and all errors show at once (reading
	// errors above first: they say more than the schema can).
	check := x
	if check.ID == "" {
		check.ID = placeholderID
	}
	if check.Status == "" {
		check.Status = schema.StatusActive
	}
	var fe schema.FieldErrors
	if errors.As(check.Validate(), &fe) {
		for _, e := range fe {
			if f := rows.field(e.Field); errs[f] == "" {
				errs[f] = e.Code
			}
		}
	}
	return catalogue.Offering{Offering: x}, errs, rows.field
}

// formRows remembers, for each kept item of a repeated group, the form row
// it came from.
type formRows struct {
	cats, prices, weeks, areas []int
}

// item splits "prefix[i]rest" into the form row of item i and rest without
// its leading dot.
func item(f, prefix string, rows []int) (row int, rest string, ok bool) {
	tail, ok := strings.CutPrefix(f, prefix+"[")
	if !ok {
		return 0, "", false
	}
	num, rest, ok := strings.Cut(tail, "]")
	i, err := strconv.Atoi(num)
	if !ok || err != nil {
		return 0, "", false
	}
	if i < len(rows) {
		row = rows[i]
	}
	return row, strings.TrimPrefix(rest, "."), true
}

// field renames a schema JSON path to the form input that holds it.
func (fr formRows) field(f string) string {
	first := func(rows []int) int {
		if len(rows) > 0 {
			return rows[0]
		}
		return 0
	}
	if row, rest, ok := item(f, "cost.options", fr.prices); ok {
		switch rest {
		case "option", "unit":
			return rowName("cost.options", row, rest)
		}
		return rowName("cost.options", row, "amount") // amount_cents, currency
	}
	if row, rest, ok := item(f, "schedule.weekly", fr.weeks); ok {
		switch rest {
		case "opens", "closes":
			return rowName("schedule.weekly", row, rest)
		}
		return rowName("schedule.weekly", row, "days") // days, days[j]
	}
	if row, _, ok := item(f, "categories", fr.cats); ok {
		return "categories." + strconv.Itoa(row)
	}
	if row, _, ok := item(f, "areas", fr.areas); ok {
		return "areas." + strconv.Itoa(row)
	}
	switch {
	case f == "cost.options":
		return rowName("cost.options", first(fr.prices), "option")
	case f == "schedule.weekly":
		return rowName("schedule.weekly", first(fr.weeks), "days")
	case f == "categories":
		return "categories." + strconv.Itoa(first(fr.cats))
	case f == "areas":
		return "areas." + strconv.Itoa(first(fr.areas))
	case strings.HasPrefix(f, "languages["):
		return "languages_other"
	case f == "contact":
		return "contact.phone"
	}
	return f
}

// serviceCode keeps an error code from the service. The form checks with
// the schema first and so gets codes; a message reaching here (the service
// changed underneath) shows as a generic error rather than being guessed.
func serviceCode(c string) string {
	if c == "" || strings.ContainsAny(c, " \"") {
		return schema.CodeInvalid
	}
	return c
}

// weekdays are the day codes of the weekly hours' checkboxes, in order.
func weekdays() []string {
	return []string{string(schema.Monday), string(schema.Tuesday), string(schema.Wednesday), string(schema.Thursday),
		string(schema.Friday), string(schema.Saturday), string(schema.Sunday)}
}

// Empty rows the offering form adds after the filled ones, to add items
// without JavaScript.
const (
	emptyPriceRows    = 2
	emptyWeeklyRows   = 1
	emptyCategoryRows = 1
)

// shownRows is how many rows of a group the form shows: every row up to
// the last filled one, then extra empty ones, within limit (or all the
// filled rows, if a record already holds more).
func shownRows(v url.Values, prefix string, extra, limit int, filled func(i int) bool) int {
	last := 0
	for i := range rowsIn(v, prefix, 0) {
		if filled(i) {
			last = i + 1
		}
	}
	return max(last, min(last+extra, limit))
}

// categoryGroups lists the taxonomy as option groups, selected marking
// the chosen code.
func categoryGroups(p *page, selected string) []optgroup {
	var out []optgroup
	for _, top := range schema.TopTerms() {
		g := optgroup{Label: p.Category(top.Code)}
		kids := schema.Children(top.Code)
		if len(kids) == 0 {
			kids = []schema.TaxonomyTerm{top}
		}
		for _, k := range kids {
			g.Options = append(g.Options, option{Value: k.Code, Label: p.Category(k.Code), Selected: selected == k.Code})
		}
		out = append(out, g)
	}
	return out
}

func offeringForm(p *page) []fieldset {
	cat := p.fld("select", "category", "offering.category", required)
	cat.Groups = categoryGroups(p, p.V("category"))
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
	filled := func(names ...string) func(int) bool {
		return func(i int) bool {
			for _, n := range names {
				prefix, f, _ := strings.Cut(n, "*")
				for _, x := range p.Form[prefix+strconv.Itoa(i)+f] {
					if strings.TrimSpace(x) != "" {
						return true
					}
				}
			}
			return false
		}
	}

	var cats []field
	for i := range shownRows(p.Form, "categories", emptyCategoryRows, schema.MaxCategories, filled("categories.*")) {
		name := "categories." + strconv.Itoa(i)
		f := p.fld("select", name, "offering.category_n", func(f *field) { f.Label = p.T("offering.category_n", "N", i+1) })
		f.Empty = p.T("offering.category_none")
		f.Groups = categoryGroups(p, p.V(name))
		cats = append(cats, f)
	}
	cats[0].Help = p.T("offering.categories_help")

	var areas []field
	for i := range rowsIn(p.Form, "areas", areaRows) {
		areas = append(areas, p.fld("text", "areas."+strconv.Itoa(i), "offering.area_n", muni, func(f *field) { f.Label = p.T("offering.area_n", "N", i+1) }))
	}
	areas[0].Help = p.T("help.municipality")

	sets := []fieldset{
		set("", p.fld("text", "name", "offering.name", required, auto("off")),
			p.fld("textarea", "description", "offering.description", required),
			cat,
			p.choice("select", "status", "offering.status", "offering_status", []string{string(schema.StatusActive), string(schema.StatusInactive)}, required)),
		set(p.T("offering.categories"), cats...),
		set(p.T("offering.eligibility"),
			p.fld("textarea", "eligibility.description", "offering.eligibility_description"),
			p.fld("number", "eligibility.min_age", "offering.min_age", inputmode("numeric")),
			p.fld("number", "eligibility.max_age", "offering.max_age", inputmode("numeric"))),
		set(p.T("offering.cost"),
			p.choice("radios", "cost.type", "offering.cost_type", "cost_type", []string{string(schema.CostFree), string(schema.CostPaid)}),
			p.fld("textarea", "cost.description", "offering.cost_description")),
	}
	prices := shownRows(p.Form, "cost.options", emptyPriceRows, schema.MaxCostOptions, filled("cost.options.*.option", "cost.options.*.amount"))
	for i := range prices {
		n := func(f string) string { return rowName("cost.options", i, f) }
		opt := p.fld("text", n("option"), "offering.cost_option", auto("off"))
		amount := p.fld("text", n("amount"), "offering.cost_amount", inputmode("decimal"))
		if i == 0 {
			opt.Help, amount.Help = p.T("help.cost_option"), p.T("help.amount")
		}
		sets = append(sets, set(p.T("offering.price_n", "N", i+1), opt, amount,
			p.choice("select", n("unit"), "offering.cost_unit", "cost_unit", costUnits())))
	}
	sets = append(sets,
		set("", p.choice("radios", "delivery", "offering.delivery", "delivery", []string{string(schema.DeliveryIndividual), string(schema.DeliveryShared)})),
		set(p.T("offering.areas"), areas...),
		set(p.T("offering.languages"),
			p.choice("checks", "languages", "offering.languages_common", "language", offeringLanguages()),
			p.fld("text", "languages_other", "offering.languages_other", help(p, "help.languages"))),
		set(p.T("offering.schedule"), p.fld("textarea", "schedule.description", "offering.schedule_description")))
	weeks := shownRows(p.Form, "schedule.weekly", emptyWeeklyRows, schema.MaxWeeklyHours, filled("schedule.weekly.*.days", "schedule.weekly.*.opens", "schedule.weekly.*.closes"))
	for i := range weeks {
		n := func(f string) string { return rowName("schedule.weekly", i, f) }
		opens := p.fld("text", n("opens"), "offering.opens", auto("off"))
		closes := p.fld("text", n("closes"), "offering.closes", auto("off"))
		if i == 0 {
			opens.Help, closes.Help = p.T("offering.time_help"), p.T("offering.closes_help")
		}
		sets = append(sets, set(p.T("offering.weekly_n", "N", i+1),
			p.choice("checks", n("days"), "offering.weekly_days", "offering_day", weekdays()), opens, closes))
	}
	return append(sets, set(p.T("offering.contact"),
		p.fld("text", "contact.name", "offering.contact_name"),
		p.fld("tel", "contact.phone", "offering.contact_phone"),
		p.fld("email", "contact.email", "offering.contact_email"),
		p.fld("url", "contact.url", "offering.contact_url")))
}
