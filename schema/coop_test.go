package schema

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// catalogueCoop is a complete, valid coop profile.
func catalogueCoop() CoopProfile {
	return CoopProfile{
		Name:      "Cooperativa sociale Stretto Solidale",
		Kind:      KindSocialCoop,
		Territory: []string{"080063", "080057", "080096"},
		Contact: CoopContact{
			Email: "info@stretto-solidale.example",
			Phone: "+39 0965 123456",
			URL:   "https://stretto-solidale.example/",
			Address: Address{
				Street:       "Via Marina 12",
				PostalCode:   "89125",
				Municipality: "080063",
			},
		},
		Description: "Assistenza domiciliare, compagnia e trasporto sociale nell'area dello Stretto.",
	}
}

func TestCoopProfileValidate(t *testing.T) {
	cases := []struct {
		name   string
		change func(c *CoopProfile)
		want   []string
	}{
		{"complete", func(c *CoopProfile) {}, nil},
		{"minimal", func(c *CoopProfile) {
			*c = CoopProfile{Name: "Comune di Milano", Kind: KindAuthority, Territory: []string{"015146"}, Contact: CoopContact{URL: "https://comune.milano.example"}}
		}, nil},
		{"zero value", func(c *CoopProfile) { *c = CoopProfile{} }, []string{"name", "kind", "territory", "contact"}},
		{"unknown kind", func(c *CoopProfile) { c.Kind = "company" }, []string{"kind"}},
		{"bad territory", func(c *CoopProfile) { c.Territory = []string{"080063", "abc", "080063"} }, []string{"territory[1]", "territory[2]"}},
		{"bad contacts", func(c *CoopProfile) {
			c.Contact.Email = "info@"
			c.Contact.Phone = "123"
			c.Contact.URL = "ftp://x.example"
		}, []string{"contact.email", "contact.phone", "contact.url"}},
		{"bad address", func(c *CoopProfile) { c.Contact.Address = Address{PostalCode: "8912", Municipality: "000000"} },
			[]string{"contact.address.street", "contact.address.postal_code", "contact.address.municipality"}},
		{"description with control character", func(c *CoopProfile) { c.Description = "a\x1bb" }, []string{"description"}},
		{"name too long", func(c *CoopProfile) { c.Name = strings.Repeat("x", MaxNameLen+1) }, []string{"name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := catalogueCoop()
			tc.change(&c)
			err := c.Validate()
			if got := fieldsOf(err); !slices.Equal(got, tc.want) {
				t.Errorf("fields = %v, want %v (error: %v)", got, tc.want, err)
			}
			if (err == nil) != (tc.want == nil) {
				t.Errorf("Validate() = %v", err)
			}
		})
	}
}

func TestCoopProfileBody(t *testing.T) {
	c := catalogueCoop()
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	if err := ValidateBody(KindCoop, "profile", b); err != nil {
		t.Fatalf("ValidateBody(coop) = %v", err)
	}
	c.Contact.Address = Address{}
	b, _ = json.Marshal(c)
	if strings.Contains(string(b), "address") {
		t.Errorf("empty address is encoded: %s", b)
	}
	if err := ValidateBody(KindCoop, "profile", []byte(`{"name":"x","kind":"social_coop","territory":["015146"],"contact":{"url":"https://x.example"},"vat":"1"}`)); err == nil {
		t.Error("unknown field accepted")
	}
}
