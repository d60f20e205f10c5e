package schema

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// This file maps the catalogue to Open Referral HSDS 3.0, so that any HSDS
// consumer (a municipal portal, a regional directory) can read a node's
// catalogue, and a coop that already has an HSDS feed can import it.
//
// Conventions of the mapping, beyond the obvious field-to-field copies:
//   - Every id is a deterministic UUID (DerivedUUID) from the publisher and
//     the record key, so two exports of the same catalogue have the same ids
//     and two publishers never collide.
//   - Categories, the delivery mode and the offering's own id travel as
//     attributes whose taxonomy_term carries the code (taxonomies
//     HSDSServiceTaxonomy and HSDSAttributeTaxonomy).
//   - Areas are service_areas named after the municipality, with the ISTAT
//     code in uri as "urn:istat:comune:<code>".
//   - Cost amounts are euro (HSDS amount) with the unit in amount_description
//     ("per hour", "per visit", ...).
//   - Weekly hours are WEEKLY schedules with byday and opens_at/closes_at as
//     HH:MM in Italian local time (HSDS has no time zone that follows DST).

// The taxonomies the mapping uses.
const (
	HSDSServiceTaxonomy   = "difronte-servizi"   // the service categories of Taxonomy()
	HSDSAttributeTaxonomy = "difronte-attributi" // delivery mode and offering id
	hsdsISTATURNPrefix    = "urn:istat:comune:"
)

// Codes of the attribute terms in HSDSAttributeTaxonomy.
const (
	hsdsTermDeliveryIndividual = "delivery.individual"
	hsdsTermDeliveryShared     = "delivery.shared"
	hsdsTermOfferingID         = "offering-id"
)

// hsdsNamespace is the name-space UUID of DerivedUUID, chosen at random once.
// Changing it would change every exported id.
const hsdsNamespace = "\x39\x74\x2d\x94\x51\xb0\x4a\x02\x88\x4c\xb4\x32\xa6\xae\xc8\x24"

// DerivedUUID returns a name-based UUID (version 5 layout: SHA-1 over a
// fixed Difronte name space and the parts) for the given parts, e.g.
// DerivedUUID("service", publisherID, offeringID). The same parts always give
// the same UUID; each part is length-prefixed, so ("ab", "c") and ("a", "bc")
// differ.
func DerivedUUID(parts ...string) string {
	h := sha1.New()
	h.Write([]byte(hsdsNamespace))
	var n [binary.MaxVarintLen64]byte
	for _, p := range parts {
		h.Write(n[:binary.PutUvarint(n[:], uint64(len(p)))])
		h.Write([]byte(p))
	}
	var sum [sha1.Size]byte
	h.Sum(sum[:0])
	u := sum[:16]
	u[6] = u[6]&0x0f | 0x50 // version 5
	u[8] = u[8]&0x3f | 0x80 // RFC 4122 variant
	var b [36]byte
	hex.Encode(b[0:8], u[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], u[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], u[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], u[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], u[10:16])
	return string(b[:])
}

// HSDSServiceDoc is an HSDS 3.0 service with the nested objects the
// catalogue uses.
type HSDSServiceDoc struct {
	ID                     string               `json:"id"`
	OrganizationID         string               `json:"organization_id,omitempty"`
	Name                   string               `json:"name"`
	Description            string               `json:"description,omitempty"`
	URL                    string               `json:"url,omitempty"`
	Email                  string               `json:"email,omitempty"`
	Status                 string               `json:"status"`
	FeesDescription        string               `json:"fees_description,omitempty"`
	EligibilityDescription string               `json:"eligibility_description,omitempty"`
	MinimumAge             float64              `json:"minimum_age,omitempty"`
	MaximumAge             float64              `json:"maximum_age,omitempty"`
	LastModified           string               `json:"last_modified,omitempty"` // RFC 3339
	Phones                 []HSDSPhone          `json:"phones,omitempty"`
	Schedules              []HSDSSchedule       `json:"schedules,omitempty"`
	ServiceAreas           []HSDSServiceArea    `json:"service_areas,omitempty"`
	Languages              []HSDSLanguage       `json:"languages,omitempty"`
	Organization           *HSDSOrganizationDoc `json:"organization,omitempty"`
	CostOptions            []HSDSCostOption     `json:"cost_options,omitempty"`
	Contacts               []HSDSContact        `json:"contacts,omitempty"`
	Attributes             []HSDSAttribute      `json:"attributes,omitempty"`

	// Unmapped lists the top-level fields of a decoded document that the
	// catalogue has no place for; OfferingFromHSDS reports them as skipped.
	Unmapped []string `json:"-"`
}

// hsdsServiceFields are the top-level fields HSDSServiceDoc holds.
func hsdsServiceFields() map[string]bool {
	return map[string]bool{
		"id": true, "organization_id": true, "name": true, "description": true, "url": true,
		"email": true, "status": true, "fees_description": true, "eligibility_description": true,
		"minimum_age": true, "maximum_age": true, "last_modified": true, "phones": true,
		"schedules": true, "service_areas": true, "languages": true, "organization": true,
		"cost_options": true, "contacts": true, "attributes": true,
	}
}

// UnmarshalJSON decodes a service and records in Unmapped the fields that
// are not part of the mapping, so an import can say what it left out.
func (d *HSDSServiceDoc) UnmarshalJSON(b []byte) error {
	type plain HSDSServiceDoc
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	var all map[string]json.RawMessage
	if err := json.Unmarshal(b, &all); err != nil {
		return err
	}
	known := hsdsServiceFields()
	for k, v := range all {
		if !known[k] && string(v) != "null" && string(v) != `""` && string(v) != "[]" {
			p.Unmapped = append(p.Unmapped, k)
		}
	}
	slices.Sort(p.Unmapped)
	*d = HSDSServiceDoc(p)
	return nil
}

// HSDSPhone is an HSDS phone.
type HSDSPhone struct {
	ID             string `json:"id"`
	ServiceID      string `json:"service_id,omitempty"`
	OrganizationID string `json:"organization_id,omitempty"`
	ContactID      string `json:"contact_id,omitempty"`
	Number         string `json:"number"`
	Type           string `json:"type,omitempty"`
	Description    string `json:"description,omitempty"`
}

// HSDSSchedule is an HSDS schedule, with the iCalendar fields the catalogue
// uses.
type HSDSSchedule struct {
	ID          string  `json:"id"`
	ServiceID   string  `json:"service_id,omitempty"`
	Freq        string  `json:"freq,omitempty"`
	Interval    float64 `json:"interval,omitempty"`
	ByDay       string  `json:"byday,omitempty"`
	OpensAt     string  `json:"opens_at,omitempty"`
	ClosesAt    string  `json:"closes_at,omitempty"`
	Description string  `json:"description,omitempty"`
}

// HSDSServiceArea is an HSDS service_area.
type HSDSServiceArea struct {
	ID          string `json:"id"`
	ServiceID   string `json:"service_id,omitempty"`
	Name        string `json:"name,omitempty"`
	Description string `json:"description,omitempty"`
	URI         string `json:"uri,omitempty"`
}

// HSDSLanguage is an HSDS language.
type HSDSLanguage struct {
	ID        string `json:"id"`
	ServiceID string `json:"service_id,omitempty"`
	Name      string `json:"name,omitempty"`
	Code      string `json:"code,omitempty"`
}

// HSDSCostOption is an HSDS cost_option.
type HSDSCostOption struct {
	ID                string  `json:"id"`
	ServiceID         string  `json:"service_id,omitempty"`
	Option            string  `json:"option,omitempty"`
	Currency          string  `json:"currency,omitempty"`
	Amount            float64 `json:"amount,omitempty"`
	AmountDescription string  `json:"amount_description,omitempty"`
}

// HSDSContact is an HSDS contact.
type HSDSContact struct {
	ID             string      `json:"id"`
	ServiceID      string      `json:"service_id,omitempty"`
	OrganizationID string      `json:"organization_id,omitempty"`
	Name           string      `json:"name,omitempty"`
	Email          string      `json:"email,omitempty"`
	Phones         []HSDSPhone `json:"phones,omitempty"`
}

// HSDSAttribute links a service or organization to a taxonomy term.
type HSDSAttribute struct {
	ID             string            `json:"id"`
	LinkID         string            `json:"link_id,omitempty"`
	LinkType       string            `json:"link_type,omitempty"`
	LinkEntity     string            `json:"link_entity,omitempty"`
	TaxonomyTermID string            `json:"taxonomy_term_id,omitempty"`
	Value          string            `json:"value,omitempty"`
	TaxonomyTerm   *HSDSTaxonomyTerm `json:"taxonomy_term,omitempty"`
}

// HSDSTaxonomyTerm is an HSDS taxonomy_term.
type HSDSTaxonomyTerm struct {
	ID          string `json:"id"`
	Code        string `json:"code,omitempty"`
	Name        string `json:"name"`
	Description string `json:"description"`
	ParentID    string `json:"parent_id,omitempty"`
	Taxonomy    string `json:"taxonomy,omitempty"`
	Language    string `json:"language,omitempty"`
	TaxonomyID  string `json:"taxonomy_id,omitempty"`
}

// HSDSOrganizationDoc is an HSDS organization.
type HSDSOrganizationDoc struct {
	ID          string          `json:"id"`
	Name        string          `json:"name"`
	Description string          `json:"description"`
	Email       string          `json:"email,omitempty"`
	Website     string          `json:"website,omitempty"`
	LegalStatus string          `json:"legal_status,omitempty"`
	Phones      []HSDSPhone     `json:"phones,omitempty"`
	Locations   []HSDSLocation  `json:"locations,omitempty"`
	Attributes  []HSDSAttribute `json:"attributes,omitempty"`
}

// HSDSLocation is an HSDS location; the catalogue uses it for a coop's
// office.
type HSDSLocation struct {
	ID             string        `json:"id"`
	LocationType   string        `json:"location_type"`
	OrganizationID string        `json:"organization_id,omitempty"`
	Name           string        `json:"name,omitempty"`
	Addresses      []HSDSAddress `json:"addresses,omitempty"`
}

// HSDSAddress is an HSDS address.
type HSDSAddress struct {
	ID            string `json:"id"`
	LocationID    string `json:"location_id,omitempty"`
	Address1      string `json:"address_1"`
	City          string `json:"city"`
	Region        string `json:"region,omitempty"`
	StateProvince string `json:"state_province"`
	PostalCode    string `json:"postal_code"`
	Country       string `json:"country"`
	AddressType   string `json:"address_type"`
}

// hsdsAttributeTerms are the terms of HSDSAttributeTaxonomy.
func hsdsAttributeTerms() []HSDSTaxonomyTerm {
	mk := func(code, name, desc string) HSDSTaxonomyTerm {
		return HSDSTaxonomyTerm{
			ID: DerivedUUID("taxonomy_term", HSDSAttributeTaxonomy, code), Code: code, Name: name, Description: desc,
			Taxonomy: HSDSAttributeTaxonomy, Language: "it", TaxonomyID: DerivedUUID("taxonomy", HSDSAttributeTaxonomy),
		}
	}
	return []HSDSTaxonomyTerm{
		mk(hsdsTermDeliveryIndividual, "Servizio individuale", "Il servizio è erogato a una singola persona o famiglia."),
		mk(hsdsTermDeliveryShared, "Servizio condiviso", "Il servizio è condiviso tra più persone o famiglie (sharing welfare)."),
		mk(hsdsTermOfferingID, "Identificativo dell'offerta", "L'identificativo dell'offerta nel catalogo federato Difronte, nel campo value."),
	}
}

func hsdsTerm(t TaxonomyTerm) HSDSTaxonomyTerm {
	out := HSDSTaxonomyTerm{
		ID: DerivedUUID("taxonomy_term", HSDSServiceTaxonomy, t.Code), Code: t.Code,
		Name: t.NameIT, Description: t.DescriptionIT,
		Taxonomy: HSDSServiceTaxonomy, Language: "it", TaxonomyID: DerivedUUID("taxonomy", HSDSServiceTaxonomy),
	}
	if t.Parent != "" {
		out.ParentID = DerivedUUID("taxonomy_term", HSDSServiceTaxonomy, t.Parent)
	}
	return out
}

// HSDSTaxonomyTerms returns the HSDS taxonomy_term documents of the service
// taxonomy (Italian names) followed by the attribute terms the mapping uses.
func HSDSTaxonomyTerms() []HSDSTaxonomyTerm {
	terms := Taxonomy()
	out := make([]HSDSTaxonomyTerm, 0, len(terms)+3)
	for _, t := range terms {
		out = append(out, hsdsTerm(t))
	}
	return append(out, hsdsAttributeTerms()...)
}

// hsdsUnitDescription maps cost units to HSDS amount_description.
func hsdsUnitDescription(u CostUnit) string {
	if u == Once {
		return "once"
	}
	return "per " + string(u)
}

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

// hsdsLanguageNames gives the Italian name of common language codes, and
// hsdsLanguageAliases maps ISO 639-2/3 codes that have a two-letter form.
func hsdsLanguageNames() map[string]string {
	return map[string]string{
		"it": "Italiano", "en": "Inglese", "fr": "Francese", "de": "Tedesco", "es": "Spagnolo",
		"pt": "Portoghese", "ro": "Rumeno", "sq": "Albanese", "ar": "Arabo", "zh": "Cinese",
		"uk": "Ucraino", "ru": "Russo", "pl": "Polacco", "tl": "Tagalog", "bn": "Bengalese",
		"ur": "Urdu", "hi": "Hindi", "sl": "Sloveno", "ise": "Lingua dei segni italiana",
	}
}

func hsdsLanguageAliases() map[string]string {
	return map[string]string{
		"ita": "it", "eng": "en", "fra": "fr", "fre": "fr", "deu": "de", "ger": "de", "spa": "es",
		"por": "pt", "ron": "ro", "rum": "ro", "sqi": "sq", "alb": "sq", "ara": "ar", "zho": "zh",
		"chi": "zh", "ukr": "uk", "rus": "ru", "pol": "pl", "tgl": "tl", "ben": "bn", "urd": "ur",
		"hin": "hi", "slv": "sl",
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
			a.Description = fmt.Sprintf("Comune di %s (%s), %s", m.Name, m.Province, m.Region)
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
			Description: fmt.Sprintf("Comune di %s (%s), %s", m.Name, m.Province, m.Region),
			Taxonomy:    "ISTAT", Language: "it",
		}
		d.Attributes = append(d.Attributes, HSDSAttribute{
			ID: sub("attribute", i), LinkID: oid, LinkType: "territory", LinkEntity: "organization",
			TaxonomyTermID: term.ID, TaxonomyTerm: &term,
		})
	}
	return d
}

// OfferingFromHSDS builds an offering from an HSDS service, for a coop that
// imports its existing HSDS feed. It returns warnings for every part of the
// document it could not carry over (fields the catalogue has no place for,
// unknown categories, unknown units or currencies, schedules that are not
// weekly), and an error if the result does not validate. The offering's ID
// is the one carried by the offering-id attribute of a Difronte export, or
// else the service id.
func OfferingFromHSDS(doc HSDSServiceDoc) (Offering, []string, error) {
	var warn []string
	warnf := func(format string, args ...any) { warn = append(warn, fmt.Sprintf(format, args...)) }
	for _, f := range doc.Unmapped {
		warnf("%s: not imported, the catalogue has no such field", f)
	}

	o := Offering{
		ID:          strings.ToLower(doc.ID),
		Name:        doc.Name,
		Description: doc.Description,
		Cost:        Cost{Type: CostFree, Description: doc.FeesDescription},
		Contact:     Contact{Email: doc.Email, URL: doc.URL},
		Eligibility: Eligibility{Description: doc.EligibilityDescription},
	}
	o.Eligibility.MinAge = hsdsAge(doc.MinimumAge, "minimum_age", warnf)
	o.Eligibility.MaxAge = hsdsAge(doc.MaximumAge, "maximum_age", warnf)

	switch doc.Status {
	case "active", "inactive":
		o.Status = Status(doc.Status)
	case "defunct", "temporarily closed":
		o.Status = StatusInactive
		warnf("status: %q imported as inactive", doc.Status)
	default:
		o.Status = Status(doc.Status) // Validate says what is wrong
	}

	// Attributes: categories, delivery mode, the original offering id.
	primary := ""
	var others []string
	for i, a := range doc.Attributes {
		t := a.TaxonomyTerm
		if t == nil {
			warnf("attributes[%d]: no taxonomy_term, skipped", i)
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
				warnf("attributes[%d]: offering id %q is not a UUID, using the service id", i, a.Value)
			}
		case KnownTerm(t.Code) && (t.Taxonomy == HSDSServiceTaxonomy || t.Taxonomy == ""):
			if a.Value == "primary" && primary == "" {
				primary = t.Code
			} else if !slices.Contains(others, t.Code) {
				others = append(others, t.Code)
			}
		default:
			warnf("attributes[%d]: taxonomy term %q (%s) is not in the Difronte taxonomy, skipped", i, t.Code, t.Taxonomy)
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
		warnf("delivery: not given, imported as individual")
	}

	for i, a := range doc.ServiceAreas {
		if code, ok := strings.CutPrefix(a.URI, hsdsISTATURNPrefix); ok && ValidMunicipality(code) {
			o.Areas = append(o.Areas, code)
			continue
		}
		if code, ok := municipalityByExactName(a.Name); ok {
			o.Areas = append(o.Areas, code)
			warnf("service_areas[%d]: matched municipality %s by its name %q", i, code, a.Name)
			continue
		}
		warnf("service_areas[%d]: %q is not an Italian municipality, skipped", i, a.Name)
	}

	aliases := hsdsLanguageAliases()
	for i, l := range doc.Languages {
		code := l.Code
		if c, ok := aliases[strings.ToLower(code)]; ok {
			code = c
		}
		if !validLanguageTag(code) {
			warnf("languages[%d]: %q is not a language code, skipped", i, l.Code)
			continue
		}
		if !slices.Contains(o.Languages, code) {
			o.Languages = append(o.Languages, code)
		}
	}

	for i, c := range doc.CostOptions {
		cur := strings.ToUpper(c.Currency)
		switch {
		case cur == "":
			cur = "EUR"
			warnf("cost_options[%d]: no currency, taken as EUR", i)
		case cur != "EUR":
			warnf("cost_options[%d]: currency %q is not EUR, skipped", i, c.Currency)
			continue
		}
		if c.Amount <= 0 || math.IsNaN(c.Amount) || c.Amount*100 > MaxAmountCents {
			warnf("cost_options[%d]: amount %v out of range, skipped", i, c.Amount)
			continue
		}
		unit, ok := parseHSDSUnit(c.AmountDescription)
		if !ok {
			warnf("cost_options[%d]: unit %q not understood, skipped", i, c.AmountDescription)
			continue
		}
		o.Cost.Type = CostPaid
		o.Cost.Options = append(o.Cost.Options, CostOption{
			Option: c.Option, AmountCents: int64(math.Round(c.Amount * 100)), Currency: cur, Unit: unit,
		})
	}

	for i, s := range doc.Schedules {
		if o.Schedule.Description == "" {
			o.Schedule.Description = s.Description
		}
		if s.ByDay == "" && s.Freq == "" && s.OpensAt == "" && s.ClosesAt == "" {
			continue // a description-only schedule
		}
		w, ok := hsdsWeekly(s)
		if !ok {
			warnf("schedules[%d]: only weekly opening hours are imported, skipped", i)
			continue
		}
		o.Schedule.Weekly = append(o.Schedule.Weekly, w)
	}

	if len(doc.Phones) > 0 {
		o.Contact.Phone = doc.Phones[0].Number
		if len(doc.Phones) > 1 {
			warnf("phones: only the first of %d numbers imported", len(doc.Phones))
		}
	}
	if len(doc.Contacts) > 0 {
		c := doc.Contacts[0]
		o.Contact.Name = c.Name
		if o.Contact.Email == "" {
			o.Contact.Email = c.Email
		}
		if o.Contact.Phone == "" && len(c.Phones) > 0 {
			o.Contact.Phone = c.Phones[0].Number
		}
		if len(doc.Contacts) > 1 {
			warnf("contacts: only the first of %d contacts imported", len(doc.Contacts))
		}
	}

	if err := o.Validate(); err != nil {
		return o, warn, fmt.Errorf("import HSDS service %s: %w", doc.ID, err)
	}
	return o, warn, nil
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
