package schema

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// The import side of the HSDS mapping (see hsds.go for its conventions): an
// HSDS service becomes an offering, with a warning for every part that does
// not fit.

// parseHSDSUnit reads an amount_description back into a unit, accepting the
// English phrases this mapping writes and common Italian ones.
func parseHSDSUnit(s string) (CostUnit, bool) {
	s = strings.ToLower(strings.TrimSpace(s))
	switch s {
	case "per hour", "all'ora", "l'ora", "per ora", "orario", "/ora", "ora":
		return PerHour, true
	case "per visit", "a visita", "per visita", "ad accesso", "per accesso", "visita", "accesso":
		return PerVisit, true
	case "per day", "al giorno", "giornaliero", "per giorno", "giorno":
		return PerDay, true
	case "per week", "a settimana", "alla settimana", "settimanale", "settimana":
		return PerWeek, true
	case "per month", "al mese", "mensile", "per mese", "mese":
		return PerMonth, true
	case "once", "una tantum", "una volta":
		return Once, true
	}
	return "", false
}

// hsdsLanguageAliases maps ISO 639-2/3 codes that have a two-letter form.
func hsdsLanguageAliases() map[string]string {
	return map[string]string{
		"ita": "it", "eng": "en", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de", "spa": "es",
		"por": "pt", "ron": "ro", "rum": "ro", "sqi": "sq", "alb": "sq", "ara": "ar", "zho": "zh",
		"chi": "zh", "ukr": "uk", "rus": "ru", "pol": "pl", "tgl": "tl", "ben": "bn", "urd": "ur",
		"hin": "hi", "slv": "sl",
	}
}

// OfferingFromHSDS builds an offering from an HSDS service, for a coop that
// imports its existing HSDS feed. It returns warnings for every part of the
// document it could not carry over (fields the catalogue has no place for,
// unknown categories, unknown units or currencies, schedules that are not
// weekly), and an error if the result does not validate. The offering's ID
// is the one carried by the offering-id attribute of a Difronte export, or
// else the service id.
func OfferingFromHSDS(doc HSDSServiceDoc) (Offering, []string, error) {
	im := &hsdsImport{}
	for _, f := range doc.Unmapped {
		im.warnf("%s: not imported, the catalogue has no such field", f)
	}
	im.o = Offering{
		ID:          strings.ToLower(doc.ID),
		Name:        doc.Name,
		Description: doc.Description,
		Cost:        Cost{Type: CostFree, Description: doc.FeesDescription},
		Contact:     Contact{Email: doc.Email, URL: doc.URL},
		Eligibility: Eligibility{Description: doc.EligibilityDescription},
	}
	im.o.Eligibility.MinAge = hsdsAge(doc.MinimumAge, "minimum_age", im.warnf)
	im.o.Eligibility.MaxAge = hsdsAge(doc.MaximumAge, "maximum_age", im.warnf)
	im.status(doc.Status)
	im.attributes(doc.Attributes)
	im.areas(doc.ServiceAreas)
	im.languages(doc.Languages)
	im.costOptions(doc.CostOptions)
	im.schedules(doc.Schedules)
	im.contact(doc.Phones, doc.Contacts)

	o := im.o
	if err := o.Validate(); err != nil {
		return o, im.warn, fmt.Errorf("import HSDS service %s: %w", doc.ID, err)
	}
	return o, im.warn, nil
}

// hsdsImport is an offering being read from an HSDS service, with the
// warnings about what did not fit.
type hsdsImport struct {
	o    Offering
	warn []string
}

func (im *hsdsImport) warnf(format string, args ...any) {
	im.warn = append(im.warn, fmt.Sprintf(format, args...))
}

func (im *hsdsImport) status(status string) {
	switch status {
	case "active", "inactive":
		im.o.Status = Status(status)
	case "defunct", "temporarily closed":
		im.o.Status = StatusInactive
		im.warnf("status: %q imported as inactive", status)
	default:
		im.o.Status = Status(status) // Validate says what is wrong
	}
}

// attributes reads the categories, the delivery mode and the original
// offering id.
func (im *hsdsImport) attributes(attrs []HSDSAttribute) {
	o := &im.o
	primary := ""
	var others []string
	for i, a := range attrs {
		t := a.TaxonomyTerm
		if t == nil {
			im.warnf("attributes[%d]: no taxonomy_term, skipped", i)
			continue
		}
		switch {
		case t.Taxonomy == HSDSAttributeTaxonomy && t.Code == hsdsTermDeliveryIndividual:
			o.Delivery = DeliveryIndividual
		case t.Taxonomy == HSDSAttributeTaxonomy && t.Code == hsdsTermDeliveryShared:
			o.Delivery = DeliveryShared
		case t.Taxonomy == HSDSAttributeTaxonomy && t.Code == hsdsTermOfferingID:
			if IsUUID(a.Value) {
				o.ID = a.Value
			} else {
				im.warnf("attributes[%d]: offering id %q is not a UUID, using the service id", i, a.Value)
			}
		case KnownTerm(t.Code) && (t.Taxonomy == HSDSServiceTaxonomy || t.Taxonomy == ""):
			if a.Value == "primary" && primary == "" {
				primary = t.Code
			} else if !slices.Contains(others, t.Code) {
				others = append(others, t.Code)
			}
		default:
			im.warnf("attributes[%d]: taxonomy term %q (%s) is not in the Difronte taxonomy, skipped", i, t.Code, t.Taxonomy)
		}
	}
	if primary == "" && len(others) > 0 {
		primary, others = others[0], others[1:]
	}
	others = slices.DeleteFunc(others, func(c string) bool { return c == primary })
	o.Category = primary
	if len(others) > 0 {
		o.Categories = others
	}
	if o.Delivery == "" {
		o.Delivery = DeliveryIndividual
		im.warnf("delivery: not given, imported as individual")
	}
}

func (im *hsdsImport) areas(areas []HSDSServiceArea) {
	for i, a := range areas {
		if code, ok := strings.CutPrefix(a.URI, hsdsISTATURNPrefix); ok && ValidMunicipality(code) {
			im.o.Areas = append(im.o.Areas, code)
			continue
		}
		if code, ok := municipalityByExactName(a.Name); ok {
			im.o.Areas = append(im.o.Areas, code)
			im.warnf("service_areas[%d]: matched municipality %s by its name %q", i, code, a.Name)
			continue
		}
		im.warnf("service_areas[%d]: %q is not an Italian municipality, skipped", i, a.Name)
	}
}

func (im *hsdsImport) languages(langs []HSDSLanguage) {
	aliases := hsdsLanguageAliases()
	for i, l := range langs {
		code := l.Code
		if c, ok := aliases[strings.ToLower(code)]; ok {
			code = c
		}
		if !validLanguageTag(code) {
			im.warnf("languages[%d]: %q is not a language code, skipped", i, l.Code)
			continue
		}
		if !slices.Contains(im.o.Languages, code) {
			im.o.Languages = append(im.o.Languages, code)
		}
	}
}

func (im *hsdsImport) costOptions(opts []HSDSCostOption) {
	for i, c := range opts {
		cur := strings.ToUpper(c.Currency)
		switch {
		case cur == "":
			cur = "EUR"
			im.warnf("cost_options[%d]: no currency, taken as EUR", i)
		case cur != "EUR":
			im.warnf("cost_options[%d]: currency %q is not EUR, skipped", i, c.Currency)
			continue
		}
		if c.Amount <= 0 || math.IsNaN(c.Amount) || c.Amount*100 > MaxAmountCents {
			im.warnf("cost_options[%d]: amount %v out of range, skipped", i, c.Amount)
			continue
		}
		unit, ok := parseHSDSUnit(c.AmountDescription)
		if !ok {
			im.warnf("cost_options[%d]: unit %q not understood, skipped", i, c.AmountDescription)
			continue
		}
		im.o.Cost.Type = CostPaid
		im.o.Cost.Options = append(im.o.Cost.Options, CostOption{
			Option: c.Option, AmountCents: int64(math.Round(c.Amount * 100)), Currency: cur, Unit: unit,
		})
	}
}

func (im *hsdsImport) schedules(schedules []HSDSSchedule) {
	sch := &im.o.Schedule
	for i, s := range schedules {
		if sch.Description == "" {
			sch.Description = s.Description
		}
		if s.ByDay == "" && s.Freq == "" && s.OpensAt == "" && s.ClosesAt == "" {
			continue // a description-only schedule
		}
		w, ok := hsdsWeekly(s)
		if !ok {
			im.warnf("schedules[%d]: only weekly opening hours are imported, skipped", i)
			continue
		}
		sch.Weekly = append(sch.Weekly, w)
	}
}

// contact takes the first phone and the first contact; the service's own
// email and phone win over the contact's.
func (im *hsdsImport) contact(phones []HSDSPhone, contacts []HSDSContact) {
	k := &im.o.Contact
	if len(phones) > 0 {
		k.Phone = phones[0].Number
		if len(phones) > 1 {
			im.warnf("phones: only the first of %d numbers imported", len(phones))
		}
	}
	if len(contacts) > 0 {
		c := contacts[0]
		k.Name = c.Name
		if k.Email == "" {
			k.Email = c.Email
		}
		if k.Phone == "" && len(c.Phones) > 0 {
			k.Phone = c.Phones[0].Number
		}
		if len(contacts) > 1 {
			im.warnf("contacts: only the first of %d contacts imported", len(contacts))
		}
	}
}

// hsdsAge reads an HSDS age: a whole number of years within range.
func hsdsAge(v float64, field string, warnf func(string, ...any)) int {
	if v == 0 {
		return 0
	}
	if v < 0 || v > MaxAge || math.IsNaN(v) {
		warnf("%s: %v out of range, skipped", field, v)
		return 0
	}
	if v != math.Trunc(v) {
		warnf("%s: %v rounded down to whole years", field, v)
	}
	return int(v)
}

// hsdsWeekly reads a WEEKLY schedule with plain days and HH:MM times.
func hsdsWeekly(s HSDSSchedule) (WeeklyHours, bool) {
	if (s.Freq != "WEEKLY" && s.Freq != "") || s.Interval > 1 || s.ByDay == "" {
		return WeeklyHours{}, false
	}
	var w WeeklyHours
	for _, p := range strings.Split(s.ByDay, ",") {
		day := Weekday(strings.ToUpper(strings.TrimSpace(p)))
		if !day.valid() {
			return WeeklyHours{}, false
		}
		w.Days = append(w.Days, day)
	}
	var ok1, ok2 bool
	w.Opens, ok1 = hsdsClock(s.OpensAt)
	w.Closes, ok2 = hsdsClock(s.ClosesAt)
	return w, ok1 && ok2
}

// hsdsClock accepts "HH:MM" and "HH:MM:00", the forms HSDS feeds use.
func hsdsClock(s string) (string, bool) {
	if len(s) == 8 && strings.HasSuffix(s, ":00") {
		s = s[:5]
	}
	_, ok := parseHHMM(s)
	return s, ok
}

// municipalityByExactName finds the municipality whose folded name equals
// the folded name given, if exactly one has it.
func municipalityByExactName(name string) (string, bool) {
	key := foldName(name)
	if key == "" {
		return "", false
	}
	var found []Municipality
	for _, m := range SearchMunicipalities(name, 50) {
		if foldName(m.Name) == key {
			found = append(found, m)
		}
	}
	if len(found) != 1 {
		return "", false
	}
	return found[0].Code, true
}
