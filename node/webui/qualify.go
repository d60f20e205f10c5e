package webui

// runs reports whether this node has the services behind a section: the
// qualification pages need the coop side, the console an authority key.
func (u *ui) runs(section string) bool {
	switch section {
	case "qualification":
		return u.d.Qualify.Coop != nil && u.d.Qualify.Service != nil
	case "authority":
		return u.d.Qualify.Authority != nil
	}
	return true
}

func (u *ui) qualifyRoutes() {}
