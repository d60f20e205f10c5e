package schema

import "errors"

// Offering is a home-care service a coop publishes in the federated
// catalogue. Placeholder: the catalogue helper extends it with the HSDS
// service fields.
type Offering struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Validate checks the offering's fields.
func (o *Offering) Validate() error {
	if o.ID == "" || o.Name == "" {
		return errors.New("offering needs id and name")
	}
	return nil
}
