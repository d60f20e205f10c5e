package schema

import "errors"

// CoopProfile is the public profile a node publishes about its coop.
// Placeholder: the catalogue helper extends it.
type CoopProfile struct {
	Name string `json:"name"`
}

// Validate checks the profile's fields.
func (c *CoopProfile) Validate() error {
	if c.Name == "" {
		return errors.New("coop profile needs a name")
	}
	return nil
}
