package schema

import (
	"strconv"
	"strings"
	"time"
)

// The export side of the HSDS mapping (see hsds.go for its conventions): an
// offering becomes an HSDS service, a coop profile an HSDS organization.

// hsdsUnitDescription maps cost units to HSDS amount_description.
func hsdsUnitDescription(u CostUnit) string {
	if u == Once {
		return "once"
	}
	return "per " + string(u)
}

// hsdsLanguageNames gives the Italian name of common language codes.
func hsdsLanguageNames() map[string]string {
	return map[string]string{
		"it": "Italiano", "en": "Inglese", "fr": "Francese", "de": "Tedesco", "es": "Spagnolo",
		"pt": "Portoghese", "ro": "Rumeno", "sq": "Albanese", "ar": "Arabo", "zh": "Cinese",
		"uk": "Ucraino", "ru": "Russo", "pl": "Polacco", "tl": "Tagalog", "bn": "Bengalese",
		"ur": "Urdu", "hi": "Hindi", "sl": "Sloveno", "ise": "Lingua dei segni italiana",
	}
}

// HSDSService maps an offering of the given publisher (a peer ID) to an HSDS
// service. coopName, when not empty, is embedded as the service's
// organization; updated becomes last_modified (the zero time omits it).
func HSDSService(publisherID, coopName string, o Offering, updated time.Time) HSDSServiceDoc {
	sid := DerivedUUID("service", publisherID, o.ID)
	sub := func(kind string, i int) string {
		return DerivedUUID("service", publisherID, o.ID, kind, strconv.Itoa(i))
	}
	d := HSDSServiceDoc{
		ID:                     sid,
		OrganizationID:         DerivedUUID("organization", publisherID),
		Name:                   o.Name,
		Description:            o.Description,
		URL:                    o.Contact.URL,
		Email:                  o.Contact.Email,
		Status:                 string(o.Status),
		FeesDescription:        o.Cost.Description,
		EligibilityDescription: o.Eligibility.Description,
		MinimumAge:             float64(o.Eligibility.MinAge),
		MaximumAge:             float64(o.Eligibility.MaxAge),
	}
	if !updated.IsZero() {
		d.LastModified = updated.UTC().Format(time.RFC3339Nano)
	}
	if coopName != "" {
		d.Organization = &HSDSOrganizationDoc{ID: d.OrganizationID, Name: coopName, Description: coopName}
	}
	if o.Contact.Phone != "" {
		d.Phones = []HSDSPhone{{ID: sub("phone", 0), ServiceID: sid, Number: o.Contact.Phone, Type: "voice"}}
	}
	if o.Contact.Name != "" {
		d.Contacts = []HSDSContact{{ID: sub("contact", 0), ServiceID: sid, Name: o.Contact.Name}}
	}
	for i, w := range o.Schedule.Weekly {
		days := make([]string, len(w.Days))
		for j, day := range w.Days {
			days[j] = string(day)
		}
		d.Schedules = append(d.Schedules, HSDSSchedule{
			ID: sub("schedule", i), ServiceID: sid, Freq: "WEEKLY", ByDay: strings.Join(days, ","),
			OpensAt: w.Opens, ClosesAt: w.Closes, Description: o.Schedule.Description,
		})
	}
	if len(o.Schedule.Weekly) == 0 && o.Schedule.Description != "" {
		d.Schedules = []HSDSSchedule{{ID: sub("schedule", 0), ServiceID: sid, Description: o.Schedule.Description}}
	}
	for i, code := range o.Areas {
		a := HSDSServiceArea{ID: sub("service_area", i), ServiceID: sid, URI: hsdsISTATURNPrefix + code}
		if m, ok := LookupMunicipality(code); ok {
			a.Name = m.Name
			a.Description = hsdsMunicipalityDescription(m)
		}
		d.ServiceAreas = append(d.ServiceAreas, a)
	}
	names := hsdsLanguageNames()
	for i, tag := range o.Languages {
		name := names[tag]
		if name == "" {
			name = tag
		}
		d.Languages = append(d.Languages, HSDSLanguage{ID: sub("language", i), ServiceID: sid, Name: name, Code: tag})
	}
	for i, opt := range o.Cost.Options {
		d.CostOptions = append(d.CostOptions, HSDSCostOption{
			ID: sub("cost_option", i), ServiceID: sid, Option: opt.Option, Currency: opt.Currency,
			Amount: float64(opt.AmountCents) / 100, AmountDescription: hsdsUnitDescription(opt.Unit),
		})
	}
	attr := func(i int, linkType, value string, term HSDSTaxonomyTerm) HSDSAttribute {
		return HSDSAttribute{
			ID: sub("attribute", i), LinkID: sid, LinkType: linkType, LinkEntity: "service",
			TaxonomyTermID: term.ID, Value: value, TaxonomyTerm: &term,
		}
	}
	cats := append([]string{o.Category}, o.Categories...)
	for i, code := range cats {
		t, ok := Term(code)
		if !ok {
			continue // Validate refuses it; an export of an invalid record just leaves it out
		}
		value := "secondary"
		if i == 0 {
			value = "primary"
		}
		d.Attributes = append(d.Attributes, attr(len(d.Attributes), "service_type", value, hsdsTerm(t)))
	}
	system := hsdsAttributeTerms()
	switch o.Delivery {
	case DeliveryIndividual:
		d.Attributes = append(d.Attributes, attr(len(d.Attributes), "delivery", "", system[0]))
	case DeliveryShared:
		d.Attributes = append(d.Attributes, attr(len(d.Attributes), "delivery", "", system[1]))
	}
	d.Attributes = append(d.Attributes, attr(len(d.Attributes), "identifier", o.ID, system[2]))
	return d
}

// HSDSOrganization maps a coop profile of the given publisher to an HSDS
// organization. The territory becomes attributes naming the municipalities
// (taxonomy "ISTAT"), and the office address a physical location.
func HSDSOrganization(publisherID string, c CoopProfile) HSDSOrganizationDoc {
	oid := DerivedUUID("organization", publisherID)
	sub := func(kind string, i int) string {
		return DerivedUUID("organization", publisherID, kind, strconv.Itoa(i))
	}
	d := HSDSOrganizationDoc{
		ID: oid, Name: c.Name, Description: c.Description,
		Email: c.Contact.Email, Website: c.Contact.URL, LegalStatus: c.Kind.Label(),
	}
	if d.Description == "" {
		// HSDS requires a description; the kind is the least we know.
		d.Description = c.Kind.Label()
	}
	if c.Contact.Phone != "" {
		d.Phones = []HSDSPhone{{ID: sub("phone", 0), OrganizationID: oid, Number: c.Contact.Phone, Type: "voice"}}
	}
	if a := c.Contact.Address; a != (Address{}) {
		m, _ := LookupMunicipality(a.Municipality)
		lid := sub("location", 0)
		d.Locations = []HSDSLocation{{
			ID: lid, LocationType: "physical", OrganizationID: oid, Name: c.Name,
			Addresses: []HSDSAddress{{
				ID: sub("address", 0), LocationID: lid, Address1: a.Street, City: m.Name, Region: m.Region,
				StateProvince: m.Province, PostalCode: a.PostalCode, Country: "IT", AddressType: "physical",
			}},
		}}
	}
	for i, code := range c.Territory {
		m, _ := LookupMunicipality(code)
		term := HSDSTaxonomyTerm{
			ID: DerivedUUID("taxonomy_term", "ISTAT", code), Code: code, Name: m.Name,
			Description: hsdsMunicipalityDescription(m),
			Taxonomy:    "ISTAT", Language: "it",
		}
		d.Attributes = append(d.Attributes, HSDSAttribute{
			ID: sub("attribute", i), LinkID: oid, LinkType: "territory", LinkEntity: "organization",
			TaxonomyTermID: term.ID, TaxonomyTerm: &term,
		})
	}
	return d
}
