package webui

import (
	"slices"
	"strings"
)

// form describes a whole form for the generic form template: every label,
// value and error is already translated and looked up, so the template only
// lays it out (labels, fieldsets, aria-invalid, aria-describedby).
type form struct {
	Action  string
	Submit  string
	Cancel  string // href back
	Sets    []fieldset
	Heading string // translated page heading
}

type fieldset struct {
	Legend string // "" = no fieldset around the fields
	Fields []field
}

type option struct {
	Value, Label string
	Selected     bool
}

type optgroup struct {
	Label   string
	Options []option
}

type field struct {
	Name, ID, Label string
	Kind            string // text, email, tel, number, date, password, url, textarea, select, checks, radios, checkbox
	Value           string
	Checked         bool
	Options         []option
	Groups          []optgroup
	Required        bool
	Help, HelpID    string
	Error, ErrorID  string
	Autocomplete    string
	InputMode       string
	List            string // id of a datalist
	Muni            bool   // municipality input enhanced by the autocomplete module
	Empty           string // label of a first, empty option of a select ("" = none)
	Placeholder     string // of a date: how to type it (dates.go)
}

// Target is the id the error summary links to: the input itself, or the
// first box of a group.
func (f field) Target() string {
	if f.Kind == "checks" || f.Kind == "radios" {
		return f.ID + "-0"
	}
	return f.ID
}

// Describedby is the aria-describedby value: help, then error.
func (f field) Describedby() string {
	var ids []string
	if f.Help != "" && f.HelpID != "" {
		ids = append(ids, f.HelpID)
	}
	if f.Error != "" && f.ErrorID != "" {
		ids = append(ids, f.ErrorID)
	}
	return strings.Join(ids, " ")
}

// fopt tunes a field.
type fopt func(*field)

func required(f *field)       { f.Required = true }
func muni(f *field)           { f.Muni = true; f.Autocomplete = "off" }
func auto(v string) fopt      { return func(f *field) { f.Autocomplete = v } }
func inputmode(v string) fopt { return func(f *field) { f.InputMode = v } }
func help(p *page, key string) fopt {
	return func(f *field) { f.Help = p.T(key) }
}

// fld builds a field named name (also its key in the form values and in
// the error map) labelled by the catalogue key label.
func (p *page) fld(kind, name, label string, opts ...fopt) field {
	f := field{Name: name, ID: fieldID(name), Label: p.T(label), Kind: kind, Value: p.V(name), Error: p.Err(name)}
	f.HelpID, f.ErrorID = "h"+f.ID[1:], "e"+f.ID[1:]
	for _, o := range opts {
		o(&f)
	}
	if kind == "select" && f.Required {
		f.Empty = p.T("form.choose")
	}
	if kind == "date" {
		f.Placeholder = p.T("care3.date_placeholder")
	}
	return f
}

// choice builds a select, radio group or checkbox group whose options are
// the values, labelled by the catalogue keys prefix.value.
func (p *page) choice(kind, name, label, prefix string, values []string, opts ...fopt) field {
	f := p.fld(kind, name, label, opts...)
	chosen := p.Form[name]
	for _, v := range values {
		f.Options = append(f.Options, option{Value: v, Label: p.E(prefix, v), Selected: slices.Contains(chosen, v)})
	}
	return f
}

// pick is choice with labels that are data (names of records), not keys.
func (p *page) pick(kind, name, label string, values, labels []string, opts ...fopt) field {
	f := p.fld(kind, name, label, opts...)
	chosen := p.Form[name]
	for i, v := range values {
		f.Options = append(f.Options, option{Value: v, Label: labels[i], Selected: slices.Contains(chosen, v)})
	}
	return f
}

func (p *page) checkbox(name, label string) field {
	f := p.fld("checkbox", name, label)
	f.Checked = p.V(name) == "on"
	return f
}

// summary lists a form's field errors, labelled, in form order.
func summary(sets []fieldset) []fieldError {
	var out []fieldError
	for _, s := range sets {
		for _, f := range s.Fields {
			if f.Error != "" {
				out = append(out, fieldError{ID: f.Target(), Msg: f.Label + ": " + f.Error})
			}
		}
	}
	return out
}

func set(legend string, fs ...field) fieldset { return fieldset{Legend: legend, Fields: fs} }
