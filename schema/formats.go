package schema

import (
	"net/mail"
	"net/url"
	"strings"
)

// The shapes of identifiers and contact details a record may carry: UUIDs,
// email addresses, web URLs, phone numbers, BCP 47 language tags and HH:MM
// times.

// IsUUID reports whether s is a UUID in canonical lower-case form
// (8-4-4-4-12 hex digits), the form every id in the catalogue uses.
func IsUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}

// validEmail accepts a bare address (no display name) with a dotted domain.
func validEmail(s string) bool {
	if len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>") {
		return false
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Name != "" || a.Address != s {
		return false
	}
	_, domain, ok := strings.Cut(s, "@")
	return ok && strings.Contains(domain, ".") && !strings.HasPrefix(domain, ".") && !strings.HasSuffix(domain, ".")
}

// validWebURL accepts absolute http and https URLs with a host.
func validWebURL(s string) bool {
	if len(s) > 2048 || strings.ContainsAny(s, " \t\r\n") {
		return false
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || u.User != nil {
		return false
	}
	return u.Hostname() != ""
}

// validPhone accepts a phone number as people write it: an optional leading
// '+', digits, spaces, dots, dashes, slashes and parentheses, with 5 to 15
// digits (E.164 allows at most 15).
func validPhone(s string) bool {
	if len(s) > 32 {
		return false
	}
	digits := 0
	for i, r := range s {
		switch {
		case r >= '0' && r <= '9':
			digits++
		case r == '+' && i == 0:
		case r == ' ' || r == '.' || r == '-' || r == '/' || r == '(' || r == ')':
		default:
			return false
		}
	}
	return digits >= 5 && digits <= 15
}

// validLanguageTag checks that s is a well-formed BCP 47 language tag of the
// usual shapes: language (2-3 letters, lower case), optional script (4
// letters, title case), optional region (2 upper-case letters or 3 digits),
// optional variants (5-8 alphanumerics, or a digit and 3 alphanumerics).
// Canonical case is required so that equal tags are equal strings.
func validLanguageTag(s string) bool {
	parts := strings.Split(s, "-")
	if !allLower(parts[0]) || len(parts[0]) < 2 || len(parts[0]) > 3 {
		return false
	}
	i := 1
	if i < len(parts) && len(parts[i]) == 4 && allUpper(parts[i][:1]) && allLower(parts[i][1:]) {
		i++
	}
	if i < len(parts) && (len(parts[i]) == 2 && allUpper(parts[i]) || len(parts[i]) == 3 && allDigits(parts[i])) {
		i++
	}
	for ; i < len(parts); i++ {
		p := parts[i]
		ok := len(p) >= 5 && len(p) <= 8 && allLowerAlnum(p) ||
			len(p) == 4 && p[0] >= '0' && p[0] <= '9' && allLowerAlnum(p)
		if !ok {
			return false
		}
	}
	return true
}

func allLower(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'a' || s[i] > 'z' {
			return false
		}
	}
	return s != ""
}

func allUpper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func allLowerAlnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !(s[i] >= 'a' && s[i] <= 'z' || s[i] >= '0' && s[i] <= '9') {
			return false
		}
	}
	return s != ""
}

// parseHHMM parses "HH:MM" (00:00 to 24:00) into minutes since midnight.
func parseHHMM(s string) (int, bool) {
	if len(s) != 5 || s[2] != ':' || !allDigits(s[:2]) || !allDigits(s[3:]) {
		return 0, false
	}
	h := int(s[0]-'0')*10 + int(s[1]-'0')
	m := int(s[3]-'0')*10 + int(s[4]-'0')
	if h > 24 || m > 59 || h == 24 && m != 0 {
		return 0, false
	}
	return h*60 + m, true
}
