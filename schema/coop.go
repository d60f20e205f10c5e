package schema

// CoopProfile is the public profile a node publishes about the organisation
// that runs it: the body of an entry of kind "coop". Everything here is
// public by design: it names an office, never a private person.
type CoopProfile struct {
	Name string   `json:"name"`
	Kind CoopKind `json:"kind"`
	// Territory lists the ISTAT codes of the municipalities where the
	// organisation works (for an authority: its jurisdiction).
	Territory   []string    `json:"territory"`
	Contact     CoopContact `json:"contact"`
	Description string      `json:"description,omitempty"`
}

// CoopKind is what sort of organisation publishes the profile.
type CoopKind string

const (
	KindCommunityCoop CoopKind = "community_coop" // cooperativa di comunità
	KindSocialCoop    CoopKind = "social_coop"    // cooperativa sociale
	KindProvider      CoopKind = "provider"       // other service provider (association, company)
	KindAuthority     CoopKind = "authority"      // Comune, Città Metropolitana: qualifies providers
)

// Label returns the Italian name of the kind, as shown to citizens and used
// as the HSDS legal status.
func (k CoopKind) Label() string {
	switch k {
	case KindCommunityCoop:
		return "Cooperativa di comunità"
	case KindSocialCoop:
		return "Cooperativa sociale"
	case KindProvider:
		return "Ente erogatore"
	case KindAuthority:
		return "Ente pubblico"
	}
	return ""
}

// CoopContact is how the public reaches the organisation's office.
type CoopContact struct {
	Email   string  `json:"email,omitempty"`
	Phone   string  `json:"phone,omitempty"`
	URL     string  `json:"url,omitempty"`
	Address Address `json:"address,omitzero"`
}

// Address is a street address of an office in Italy.
type Address struct {
	Street       string `json:"street"`      // e.g. "Via Roma 12"
	PostalCode   string `json:"postal_code"` // CAP, five digits
	Municipality string `json:"municipality"`
}

// MaxTerritory bounds a profile's territory: an authority of a large
// metropolitan city covers a few hundred municipalities.
const MaxTerritory = 1000

// Validate checks every field and returns nil or a FieldErrors listing each
// problem.
func (c *CoopProfile) Validate() error {
	var ch fieldChecker
	ch.text("name", c.Name, true, MaxNameLen, false)
	switch {
	case c.Kind == "":
		ch.add("kind", CodeRequired, "is required (community_coop, social_coop, provider or authority)")
	case c.Kind.Label() == "":
		ch.add("kind", CodeBadChoice, "must be community_coop, social_coop, provider or authority")
	}
	ch.areas("territory", c.Territory, MaxTerritory)
	ch.contact("contact", c.Contact.Email, c.Contact.Phone, c.Contact.URL)
	if a := c.Contact.Address; a != (Address{}) {
		ch.text("contact.address.street", a.Street, true, MaxNameLen, false)
		if len(a.PostalCode) != 5 || !allDigits(a.PostalCode) {
			ch.add("contact.address.postal_code", CodeBadPostalCode, "must be five digits")
		}
		if !ValidMunicipality(a.Municipality) {
			ch.add("contact.address.municipality", CodeBadMunicipality, "%q is not an ISTAT municipality code", a.Municipality)
		}
	}
	ch.text("description", c.Description, false, MaxDescriptionLen, true)
	return ch.err()
}
