package care

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/schema"
)

// checker collects field errors as message-catalogue codes.
type checker map[string]string

// text checks a one-line free-text field: schema.TextFault's rule (no
// control character, no direction override, at most max characters).
func (c checker) text(field, v string, required bool, max int) {
	c.free(field, v, required, max, false)
}

// lines checks a free-text field that may hold line breaks and tabs.
func (c checker) lines(field, v string, max int) {
	c.free(field, v, false, max, true)
}

func (c checker) free(field, v string, required bool, max int, multiline bool) {
	if required && strings.TrimSpace(v) == "" {
		c[field] = "required"
	} else if code := schema.TextFault(v, max, multiline); code != "" {
		c[field] = code
	}
}

func (c checker) email(field, v string) {
	if v == "" {
		return
	}
	if a, err := mail.ParseAddress(v); err != nil || a.Address != v || len(v) > 254 {
		c[field] = "bad_email"
	}
}

var phoneRE = regexp.MustCompile(`^\+?[0-9 ./()-]{5,24}$`)

func (c checker) phone(field, v string) {
	if v != "" && !phoneRE.MatchString(v) {
		c[field] = "bad_phone"
	}
}

func (c checker) municipality(field, v string, required bool) {
	if v == "" {
		if required {
			c[field] = "required"
		}
		return
	}
	if _, ok := schema.LookupMunicipality(v); !ok {
		c[field] = "bad_municipality"
	}
}

func (c checker) oneOf(field, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		c[field] = "bad_choice"
	}
}

// date checks a YYYY-MM-DD date from min to max (both days included).
func (c checker) date(field, v string, min, max time.Time) {
	if v == "" {
		return
	}
	d, err := time.Parse(time.DateOnly, v)
	switch {
	case err != nil:
		c[field] = "bad_date"
	case d.Before(min) || d.After(max):
		c[field] = "out_of_range"
	}
}

func (c checker) year(field string, v, min, max int) {
	if v != 0 && (v < min || v > max) {
		c[field] = "out_of_range"
	}
}

var langRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

func (c checker) languages(field string, v []string) {
	if len(v) > 20 {
		c[field] = "too_many"
		return
	}
	for _, l := range v {
		if !langRE.MatchString(l) {
			c[field] = "bad_language"
			return
		}
	}
}

// contains reports whether needle is a case-insensitive substring of any of hay.
func contains(needle string, hay ...string) bool {
	if needle == "" {
		return true
	}
	n := strings.ToLower(needle)
	for _, h := range hay {
		if strings.Contains(strings.ToLower(h), n) {
			return true
		}
	}
	return false
}
