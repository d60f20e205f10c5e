package requests

import (
	"bytes"
	"net/url"
	"regexp"
	"strings"
	"time"

	"github.com/difronte/difronte/schema"
)

// Limits of the fields people type.
const (
	maxReason     = 1000
	maxNotes      = 4000
	maxText       = 4000
	maxShort      = 200
	MaxAttachment = 2 << 20
	// MaxPrice is the largest price of an offer, in euros: 0 is a free
	// service.
	MaxPrice = 1e7
)

var municipalityPattern = regexp.MustCompile(`^[0-9]{6}$`)

func checkDate(s string) bool {
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

// checkNeed returns the first bad field of n, or "".
func checkNeed(n Need) string {
	switch {
	case n.For == "" || schema.TextFault(n.For, maxShort, false) != "":
		return "for"
	case !municipalityPattern.MatchString(n.Municipality):
		return "municipality"
	case schema.TextFault(n.Address, maxShort, false) != "":
		return "address"
	case !checkDate(n.Start):
		return "start"
	case schema.TextFault(n.When, maxShort, false) != "":
		return "when"
	case schema.TextFault(n.Notes, maxNotes, true) != "":
		return "notes"
	case schema.TextFault(n.CitizenName, maxShort, false) != "":
		return "citizen_name"
	}
	return ""
}

func checkOffer(o Offer) string {
	switch {
	case o.Price < 0 || o.Price > MaxPrice || o.Price != o.Price:
		return "price"
	case o.Unit == "" || schema.TextFault(o.Unit, 40, false) != "":
		return "unit"
	case !checkDate(o.Start):
		return "start"
	case !checkDate(o.ValidUntil):
		return "valid_until"
	case schema.TextFault(o.Conditions, maxNotes, true) != "":
		return "conditions"
	}
	return ""
}

func checkLink(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Scheme != "https" || u.Host == "" || len(s) > 2000 {
		return "bad_link"
	}
	return ""
}

// Attachment types, recognised by their first bytes.
var magics = map[string][]byte{
	"application/pdf": []byte("%PDF-"),
	"image/jpeg":      {0xFF, 0xD8, 0xFF},
	"image/png":       {0x89, 'P', 'N', 'G', '\r', '\n', 0x1A, '\n'},
}

// checkMessage returns the first bad field of a message, or "".
func checkMessage(text string, a *Attachment) string {
	if schema.TextFault(text, maxText, true) != "" || (strings.TrimSpace(text) == "" && a == nil) {
		return "text"
	}
	if a == nil {
		return ""
	}
	if len(a.Data) == 0 || len(a.Data) > MaxAttachment {
		return "attachment_size"
	}
	m, ok := magics[a.Type]
	if !ok || !bytes.HasPrefix(a.Data, m) {
		return "attachment_type"
	}
	if a.Name == "" || schema.TextFault(a.Name, maxShort, false) != "" || strings.ContainsAny(a.Name, `/\`) {
		return "attachment_name"
	}
	return ""
}
