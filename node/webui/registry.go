package webui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/problem"
)

// contactRows is how many contact rows a new beneficiary's form offers.
const contactRows = 3

func beneficiaryKind(u *ui) *kind[care.Beneficiary] {
	c := u.d.Care
	return &kind[care.Beneficiary]{
		path: "beneficiaries", key: "beneficiary", writers: []auth.Role{auth.Admin},
		list: c.ListBeneficiaries, get: c.Beneficiary, create: c.CreateBeneficiary, update: c.UpdateBeneficiary, archive: c.ArchiveBeneficiary,
		id: func(b care.Beneficiary) string { return b.ID },
		toForm: func(b care.Beneficiary) url.Values {
			v := url.Values{}
			v.Set("name", b.Name)
			v.Set("address", b.Address)
			v.Set("municipality", muniValue(b.Municipality))
			if b.BirthYear != 0 {
				v.Set("birth_year", strconv.Itoa(b.BirthYear))
			}
			v.Set("phone", b.Phone)
			v.Set("gender", b.Gender)
			v["fragility"] = b.Fragility
			for i, ct := range b.Contacts {
				v.Set(rowName("contacts", i, "kind"), ct.Kind)
				v.Set(rowName("contacts", i, "name"), ct.Name)
				v.Set(rowName("contacts", i, "relation"), ct.Relation)
				v.Set(rowName("contacts", i, "phone"), ct.Phone)
				v.Set(rowName("contacts", i, "email"), ct.Email)
				v.Set(rowName("contacts", i, "lang"), ct.Lang)
			}
			if b.Consent.Given {
				v.Set("consent.given", "on")
			}
			v.Set("consent.date", b.Consent.Date)
			v.Set("consent.collected_by", b.Consent.CollectedBy)
			v.Set("consent.scope", b.Consent.Scope)
			v["caregivers"] = b.Caregivers
			v.Set("notes", b.Notes)
			return v
		},
		fromForm: func(r *http.Request, v url.Values) (care.Beneficiary, map[string]string, func(string) string) {
			errs := map[string]string{}
			b := care.Beneficiary{
				Name: strings.TrimSpace(v.Get("name")), Address: strings.TrimSpace(v.Get("address")),
				Municipality: resolveMunicipality(v.Get("municipality")),
				BirthYear:    atoi(v, "birth_year", errs),
				Phone:        strings.TrimSpace(v.Get("phone")),
				Gender:       v.Get("gender"),
				Fragility:    v["fragility"],
				Consent: care.Consent{Given: v.Get("consent.given") == "on", Date: v.Get("consent.date"),
					CollectedBy: strings.TrimSpace(v.Get("consent.collected_by")), Scope: strings.TrimSpace(v.Get("consent.scope"))},
				Caregivers: v["caregivers"],
				Notes:      strings.TrimSpace(v.Get("notes")),
			}
			// Empty contact rows are dropped; rows remembers which form
			// row each kept contact came from, so errors land on it.
			var rows []int
			for i := range rowsIn(v, "contacts", 0) {
				ct := care.Contact{Kind: v.Get(rowName("contacts", i, "kind")), Name: strings.TrimSpace(v.Get(rowName("contacts", i, "name"))),
					Relation: strings.TrimSpace(v.Get(rowName("contacts", i, "relation"))), Phone: strings.TrimSpace(v.Get(rowName("contacts", i, "phone"))),
					Email: strings.TrimSpace(v.Get(rowName("contacts", i, "email"))), Lang: v.Get(rowName("contacts", i, "lang"))}
				if ct.Name == "" && ct.Relation == "" && ct.Phone == "" && ct.Email == "" {
					continue
				}
				b.Contacts = append(b.Contacts, ct)
				rows = append(rows, i)
			}
			rename := func(f string) string {
				rest, ok := strings.CutPrefix(f, "contacts.")
				if !ok {
					return f
				}
				i, field, _ := strings.Cut(rest, ".")
				n, err := strconv.Atoi(i)
				if err != nil || n >= len(rows) {
					return f
				}
				return rowName("contacts", rows[n], field)
			}
			return b, errs, rename
		},
		form: func(r *http.Request, p *page) []fieldset {
			sets := []fieldset{
				set("", p.fld("text", "name", "beneficiary.name", required, auto("off")),
					p.fld("text", "address", "beneficiary.address", required, auto("off")),
					p.fld("text", "municipality", "beneficiary.municipality", required, muni, help(p, "help.municipality")),
					p.fld("number", "birth_year", "beneficiary.birth_year", inputmode("numeric")),
					p.fld("tel", "phone", "beneficiary.phone", auto("off")),
					p.choice("select", "gender", "beneficiary.gender", "gender", append([]string{""}, care.Genders...))),
				set("", p.choice("checks", "fragility", "beneficiary.fragility", "fragility", care.Fragilities)),
			}
			for i := range rowsIn(p.Form, "contacts", contactRows) {
				n := func(f string) string { return rowName("contacts", i, f) }
				sets = append(sets, set(p.T("beneficiary.contact_n", "N", i+1),
					p.choice("select", n("kind"), "contact.kind", "contact_kind", care.ContactKinds),
					p.fld("text", n("name"), "contact.name", auto("off")),
					p.fld("text", n("relation"), "contact.relation", auto("off")),
					p.fld("tel", n("phone"), "contact.phone", auto("off")),
					p.fld("email", n("email"), "contact.email", auto("off")),
					// The language of the alert e-mails this contact gets.
					p.pick("select", n("lang"), "care4.contact_lang", []string{"", "it", "en"},
						[]string{p.T("care4.lang_coop"), p.T("care4.lang_it"), p.T("care4.lang_en")}, help(p, "care4.contact_lang_help"))))
			}
			sets = append(sets, set(p.T("beneficiary.consent"),
				p.checkbox("consent.given", "consent.given"),
				p.fld("date", "consent.date", "consent.date", help(p, "help.date")),
				p.fld("text", "consent.collected_by", "consent.collected_by"),
				p.fld("textarea", "consent.scope", "consent.scope")))
			ids, names := u.caregiverChoices(r)
			if len(ids) > 0 {
				sets = append(sets, set("", p.pick("checks", "caregivers", "beneficiary.caregivers", ids, names)))
			}
			sets = append(sets, set("", p.fld("textarea", "notes", "beneficiary.notes")))
			return sets
		},
		extra: u.beneficiaryExtra,
	}
}

// caregiverChoices lists the caregivers the actor may see, for checkboxes.
func (u *ui) caregiverChoices(r *http.Request) (ids, names []string) {
	pg, err := u.d.Care.ListCaregivers(ctx(r), actor(r), care.Query{Limit: 500})
	if err != nil {
		return nil, nil
	}
	for _, c := range pg.Items {
		ids, names = append(ids, c.ID), append(names, c.Name)
	}
	return ids, names
}

func caregiverKind(u *ui) *kind[care.Caregiver] {
	c := u.d.Care
	return &kind[care.Caregiver]{
		path: "caregivers", key: "caregiver", writers: []auth.Role{auth.Admin},
		list: c.ListCaregivers, get: c.Caregiver, create: c.CreateCaregiver, update: c.UpdateCaregiver, archive: c.ArchiveCaregiver,
		id:    func(c care.Caregiver) string { return c.ID },
		extra: caregiverDetailExtra,
		toForm: func(c care.Caregiver) url.Values {
			v := url.Values{}
			v.Set("name", c.Name)
			v.Set("phone", c.Phone)
			v.Set("email", c.Email)
			v.Set("languages", strings.Join(c.Languages, ", "))
			v.Set("availability", c.Availability)
			v.Set("username", c.Username)
			v.Set("notes", c.Notes)
			return v
		},
		fromForm: func(r *http.Request, v url.Values) (care.Caregiver, map[string]string, func(string) string) {
			return care.Caregiver{
				Name: strings.TrimSpace(v.Get("name")), Phone: strings.TrimSpace(v.Get("phone")), Email: strings.TrimSpace(v.Get("email")),
				Languages: splitList(strings.ToLower(v.Get("languages"))), Availability: strings.TrimSpace(v.Get("availability")),
				Username: strings.TrimSpace(v.Get("username")), Notes: strings.TrimSpace(v.Get("notes")),
			}, nil, same
		},
		form: func(r *http.Request, p *page) []fieldset {
			return []fieldset{set("",
				p.fld("text", "name", "caregiver.name", required, auto("off")),
				p.fld("tel", "phone", "caregiver.phone", auto("off")),
				p.fld("email", "email", "caregiver.email", auto("off")),
				p.fld("text", "languages", "caregiver.languages", help(p, "help.languages")),
				p.fld("textarea", "availability", "caregiver.availability"),
				p.fld("text", "username", "caregiver.username", auto("off"), help(p, "help.caregiver_username")),
				p.fld("textarea", "notes", "caregiver.notes"))}
		},
	}
}

func terminalKind(u *ui) *kind[care.Terminal] {
	c := u.d.Care
	return &kind[care.Terminal]{
		path: "terminals", key: "terminal", writers: []auth.Role{auth.Admin, auth.Refurbisher},
		list: c.ListTerminals, get: c.Terminal, create: c.CreateTerminal, update: c.UpdateTerminal, archive: c.ArchiveTerminal,
		id:        func(t care.Terminal) string { return t.ID },
		extra:     func(r *http.Request, t care.Terminal) any { return u.terminalHealth(r, t.ID) },
		listExtra: u.terminalsHealth,
		toForm: func(t care.Terminal) url.Values {
			v := url.Values{}
			v.Set("label", t.Label)
			v.Set("model", t.Model)
			num := func(k string, n int) {
				if n != 0 {
					v.Set(k, strconv.Itoa(n))
				}
			}
			num("year", t.Year)
			num("ram_mb", t.RAMMB)
			num("disk_gb", t.DiskGB)
			v.Set("cpu", t.CPU)
			v.Set("state", t.State)
			v.Set("beneficiary", t.Beneficiary)
			v.Set("notes", t.Notes)
			v["workers"] = t.Workers
			return v
		},
		fromForm: func(r *http.Request, v url.Values) (care.Terminal, map[string]string, func(string) string) {
			errs := map[string]string{}
			t := care.Terminal{
				Label: strings.TrimSpace(v.Get("label")), Model: strings.TrimSpace(v.Get("model")), CPU: strings.TrimSpace(v.Get("cpu")),
				Year: atoi(v, "year", errs), RAMMB: atoi(v, "ram_mb", errs), DiskGB: atoi(v, "disk_gb", errs),
				State: v.Get("state"), Beneficiary: strings.TrimSpace(v.Get("beneficiary")), Notes: strings.TrimSpace(v.Get("notes")),
				Workers: v["workers"],
			}
			return t, errs, same
		},
		form: func(r *http.Request, p *page) []fieldset {
			fs := []field{
				p.fld("text", "label", "terminal.label", required, auto("off"), help(p, "help.terminal_label")),
				p.fld("text", "model", "terminal.model", required, auto("off")),
				p.fld("number", "year", "terminal.year", inputmode("numeric")),
				p.fld("text", "cpu", "terminal.cpu", auto("off")),
				p.fld("number", "ram_mb", "terminal.ram_mb", inputmode("numeric")),
				p.fld("number", "disk_gb", "terminal.disk_gb", inputmode("numeric")),
			}
			// The state is chosen when a device is entered; afterwards it
			// moves only along the workshop's transitions (/officina).
			creating := strings.HasSuffix(r.URL.Path, "/new")
			if creating {
				states := care.TerminalStates
				if actor(r).Role != auth.Admin {
					states = states[:1] // a refurbisher's device starts at the beginning
				}
				fs = append(fs, p.choice("select", "state", "terminal.state", "terminal_state", states, required))
			}
			// Refurbishers may not list beneficiaries (private data), so
			// they type the code the admin gave them instead of choosing.
			var pg care.Page[care.Beneficiary]
			var err error = problem.ErrForbidden
			if may(actor(r).Role, "beneficiaries") && actor(r).Role == auth.Admin {
				pg, err = u.d.Care.ListBeneficiaries(ctx(r), actor(r), care.Query{Limit: 500})
			}
			if err == nil {
				ids, names := []string{""}, []string{p.T("terminal.no_beneficiary")}
				for _, b := range pg.Items {
					ids, names = append(ids, b.ID), append(names, b.Name)
				}
				fs = append(fs, p.pick("select", "beneficiary", "terminal.beneficiary", ids, names, help(p, "help.terminal_beneficiary")))
			} else if creating {
				// A refurbisher's later saves keep the beneficiary (care.UpdateTerminal).
				fs = append(fs, p.fld("text", "beneficiary", "terminal.beneficiary_code", auto("off"), help(p, "help.terminal_beneficiary")))
			}
			fs = append(fs, p.fld("textarea", "notes", "terminal.notes"))
			// Who worked on the terminal is kept across edits.
			w := p.fld("hidden", "workers", "terminal.workers")
			for _, x := range p.Form["workers"] {
				w.Options = append(w.Options, option{Value: x})
			}
			fs = append(fs, w)
			return []fieldset{set("", fs...)}
		},
	}
}
