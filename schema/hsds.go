package schema

import (
	"crypto/sha1"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
)

// The HSDS files map the catalogue to Open Referral HSDS 3.0, so that any
// HSDS consumer (a municipal portal, a regional directory) can read a node's
// catalogue, and a coop that already has an HSDS feed can import it. This
// file holds the HSDS documents, their ids and taxonomy terms;
// hsds_export.go writes them and hsds_import.go reads them.
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
		return newHSDSTerm(HSDSAttributeTaxonomy, code, name, desc)
	}
	return []HSDSTaxonomyTerm{
		mk(hsdsTermDeliveryIndividual, "Servizio individuale", "Il servizio è erogato a una singola persona o famiglia."),
		mk(hsdsTermDeliveryShared, "Servizio condiviso", "Il servizio è condiviso tra più persone o famiglie (sharing welfare)."),
		mk(hsdsTermOfferingID, "Identificativo dell'offerta", "L'identificativo dell'offerta nel catalogo federato Difronte, nel campo value."),
	}
}

// newHSDSTerm is an Italian term of one of the mapping's taxonomies.
func newHSDSTerm(taxonomy, code, name, desc string) HSDSTaxonomyTerm {
	return HSDSTaxonomyTerm{
		ID: DerivedUUID("taxonomy_term", taxonomy, code), Code: code, Name: name, Description: desc,
		Taxonomy: taxonomy, Language: "it", TaxonomyID: DerivedUUID("taxonomy", taxonomy),
	}
}

func hsdsTerm(t TaxonomyTerm) HSDSTaxonomyTerm {
	out := newHSDSTerm(HSDSServiceTaxonomy, t.Code, t.NameIT, t.DescriptionIT)
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

// hsdsMunicipalityDescription is how service areas and territory terms
// describe a municipality.
func hsdsMunicipalityDescription(m Municipality) string {
	return fmt.Sprintf("Comune di %s (%s), %s", m.Name, m.Province, m.Region)
}
