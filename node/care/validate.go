package care

import (
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/difronte/difronte/schema"
)

// checker collects field errors as message-catalogue codes.
type checker map[string]string

func (c checker) text(field, v string, required bool, max int) {
	switch {
	case required && strings.TrimSpace(v) == "":
		c[field] = "required"
	case !utf8.ValidString(v) || strings.ContainsFunc(v, func(r rune) bool { return unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' }):
		c[field] = "bad_characters"
	case utf8.RuneCountInString(v) > max:
		c[field] = "too_long"
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

func (c checker) date(field, v string) {
	if v == "" {
		return
	}
	if _, err := time.Parse(time.DateOnly, v); err != nil {
		c[field] = "bad_date"
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
