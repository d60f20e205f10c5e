package schema

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// FieldError is one problem with one field. Field is the JSON path of the
// field, e.g. "cost.options[1].amount_cents"; Code is a stable machine code
// (one of the Code* constants) that user interfaces translate; Msg says
// what is wrong in English words an API client's developer can act on.
type FieldError struct {
	Field string
	Code  string
	Msg   string
}

// Codes of field errors. They are stable: user interfaces key their
// translations on them, while Msg wording may change.
const (
	CodeRequired        = "required"         // missing, empty or only spaces
	CodeTooLong         = "too_long"         // more characters than allowed
	CodeTooMany         = "too_many"         // more list items than allowed
	CodeBadCharacters   = "bad_characters"   // invalid UTF-8 or a control character
	CodeInvalid         = "invalid"          // malformed identifier
	CodeBadMunicipality = "bad_municipality" // not an ISTAT municipality code
	CodeBadEmail        = "bad_email"
	CodeBadURL          = "bad_url"
	CodeBadPhone        = "bad_phone"
	CodeBadLanguage     = "bad_language" // not a BCP 47 tag
	CodeBadCategory     = "bad_category" // not a taxonomy code
	CodeDuplicate       = "listed_twice" // listed twice ("duplicate" is taken by other forms' catalogue keys)
	CodeOutOfRange      = "out_of_range" // a number outside its bounds
	CodeBadAmount       = "bad_amount"   // a price not above zero
	CodeBadTime         = "bad_time"     // not an HH:MM time in range
	CodeTimeOrder       = "time_order"   // closes not later than opens
	CodeBadChoice       = "bad_choice"   // not one of the allowed values
	CodeNotAllowed      = "not_allowed"  // present where it must not be
	CodeContactNeeded   = "contact_needed"
	CodeBadPostalCode   = "bad_postal_code"
)

func (e *FieldError) Error() string { return e.Field + ": " + e.Msg }

// FieldErrors is what Validate returns: every problem found, in field
// order. errors.As(err, &fe) on a FieldErrors or a *FieldError both work, so
// an API can answer with one message per field.
type FieldErrors []*FieldError

func (fe FieldErrors) Error() string {
	switch len(fe) {
	case 0:
		return "no errors"
	case 1:
		return fe[0].Error()
	}
	var b strings.Builder
	b.WriteString(fe[0].Error())
	for _, e := range fe[1:] {
		b.WriteString("; ")
		b.WriteString(e.Error())
	}
	return b.String()
}

// Unwrap lets errors.Is and errors.As see each FieldError.
func (fe FieldErrors) Unwrap() []error {
	out := make([]error, len(fe))
	for i, e := range fe {
		out[i] = e
	}
	return out
}

// Fields maps each field to its first problem's message, the shape an API
// error body wants.
func (fe FieldErrors) Fields() map[string]string {
	m := make(map[string]string, len(fe))
	for _, e := range fe {
		if _, seen := m[e.Field]; !seen {
			m[e.Field] = e.Msg
		}
	}
	return m
}

// Codes maps each field to its first problem's code, the shape a form that
// translates its errors wants.
func (fe FieldErrors) Codes() map[string]string {
	m := make(map[string]string, len(fe))
	for _, e := range fe {
		if _, seen := m[e.Field]; !seen {
			m[e.Field] = e.Code
		}
	}
	return m
}

// fieldChecker collects field errors; its err method returns nil when there are
// none, so that Validate never returns a non-nil error holding a nil slice.
type fieldChecker struct{ errs FieldErrors }

func (c *fieldChecker) add(field, code, format string, args ...any) {
	c.errs = append(c.errs, &FieldError{Field: field, Code: code, Msg: fmt.Sprintf(format, args...)})
}

func (c *fieldChecker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return c.errs
}

// text checks a free-text field: valid UTF-8, no control characters (line
// breaks and tabs only where multiline), not only spaces when required, and
// at most max characters.
func (c *fieldChecker) text(field, s string, required bool, max int, multiline bool) {
	if strings.TrimSpace(s) == "" {
		if required {
			c.add(field, CodeRequired, "is required")
		} else if s != "" {
			c.add(field, CodeRequired, "is only spaces")
		}
		return
	}
	if !utf8.ValidString(s) {
		c.add(field, CodeBadCharacters, "is not valid UTF-8")
		return
	}
	if n := utf8.RuneCountInString(s); n > max {
		c.add(field, CodeTooLong, "is %d characters long, at most %d allowed", n, max)
		return
	}
	if r, bad := badTextRune(s, multiline); bad {
		c.add(field, CodeBadCharacters, "contains the control character %U", r)
	}
}

// TextFault is the rule of federated free text for the records a node
// keeps to itself (care records, accounts, notes, messages): it returns
// CodeBadCharacters for invalid UTF-8, a control character or an invisible
// direction override, CodeTooLong past max characters, or "" when s is
// fine. Where multiline, line breaks (LF or CR LF, as browsers send a
// textarea) and tabs are allowed.
func TextFault(s string, max int, multiline bool) string {
	if !utf8.ValidString(s) {
		return CodeBadCharacters
	}
	if multiline {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	if _, bad := badTextRune(s, multiline); bad {
		return CodeBadCharacters
	}
	if utf8.RuneCountInString(s) > max {
		return CodeTooLong
	}
	return ""
}

// badTextRune finds a control character or an invisible direction override
// (which can make a name display as something else).
func badTextRune(s string, multiline bool) (rune, bool) {
	for _, r := range s {
		switch {
		case r == '\n' || r == '\t':
			if !multiline {
				return r, true
			}
		case r < 0x20, r == 0x7f, r >= 0x80 && r <= 0x9f:
			return r, true
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0xfeff:
			return r, true
		}
	}
	return 0, false
}

// areas checks a list of ISTAT municipality codes.
func (c *fieldChecker) areas(field string, codes []string, max int) {
	if len(codes) == 0 {
		c.add(field, CodeRequired, "needs at least one municipality")
		return
	}
	if len(codes) > max {
		c.add(field, CodeTooMany, "has %d municipalities, at most %d allowed", len(codes), max)
		return
	}
	listItems(c, field, codes, make(map[string]bool, len(codes)), ValidMunicipality,
		CodeBadMunicipality, "%q is not an ISTAT municipality code", "municipality %s is listed twice")
}

// listItems checks each item of a list field: an item that valid refuses
// gets badCode and badMsg, an item already in seen gets CodeDuplicate and
// dupMsg (both messages are formats of the item). seen may start with items
// listed in another field.
func listItems[T comparable](c *fieldChecker, field string, items []T, seen map[T]bool, valid func(T) bool, badCode, badMsg, dupMsg string) {
	for i, item := range items {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !valid(item):
			c.add(f, badCode, badMsg, item)
		case seen[item]:
			c.add(f, CodeDuplicate, dupMsg, item)
		}
		seen[item] = true
	}
}

// contact checks the common email, phone and url fields of a contact.
func (c *fieldChecker) contact(field, email, phone, web string) {
	if email == "" && phone == "" && web == "" {
		c.add(field, CodeContactNeeded, "needs at least an email, a phone or a url")
	}
	if email != "" && !validEmail(email) {
		c.add(field+".email", CodeBadEmail, "is not a valid email address")
	}
	if phone != "" && !validPhone(phone) {
		c.add(field+".phone", CodeBadPhone, "is not a valid phone number (digits, spaces and a leading +)")
	}
	if web != "" && !validWebURL(web) {
		c.add(field+".url", CodeBadURL, "is not an http or https URL")
	}
}
