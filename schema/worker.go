package schema

import (
	"fmt"
	"time"
	"unicode"
	"unicode/utf8"
)

// KindWorker carries the public, pseudonymous profile of a family
// assistant (badante, colf, baby-sitter) a coop vouches for, keyed by the
// profile id. The vouching coop is the entry's publisher; withdrawing the
// worker's consent, or a job found, is the entry's tombstone.
const KindWorker Kind = "worker"

// WorkerProfile is the body of a worker entry. It holds no contact, no
// exact address and no full name: a family reaches the worker only through
// the vouching coop, after the worker agrees. Every free-text field is
// refused when it hides a phone number, an e-mail or a web address
// (ContactHidden).
type WorkerProfile struct {
	// ID is a lower-case UUID chosen by the coop; the entry key.
	ID string `json:"id"`
	// Alias is what families see instead of a name: a first name and an
	// initial ("Elena P.") or a nickname the worker chose.
	Alias string `json:"alias"`
	// Coop is the name of the vouching coop (the publisher), as its
	// node is configured: families read "checked by <Coop>".
	Coop string `json:"coop"`
	// Work lists the kinds of work the worker does (WorkKind).
	Work            []WorkKind `json:"work"`
	ExperienceYears int        `json:"experience_years"`
	// Certificates are codes of a fixed list (Certificate), never free text.
	Certificates []Certificate `json:"certificates,omitempty"`
	// Languages are BCP 47 tags, e.g. "it", "ro", "uk".
	Languages []string `json:"languages"`
	// Areas are the ISTAT codes of the municipalities where the worker can work.
	Areas        []string           `json:"areas"`
	Availability WorkerAvailability `json:"availability"`
	// Pay is what the worker asks, in integer cents.
	Pay          WorkerPay `json:"pay"`
	Presentation string    `json:"presentation,omitempty"`
	// CheckedOn is the date (YYYY-MM-DD) of the coop's last check of the
	// worker (identity seen, references called). Profiles not checked for
	// WorkerCheckValidity are not shown.
	CheckedOn string `json:"checked_on"`
}

// WorkKind is one kind of work a family assistant does.
type WorkKind string

// The kinds of work of issue 16.
const (
	WorkElderly     WorkKind = "elderly"     // care of an elderly person
	WorkNight       WorkKind = "night"       // night assistance
	WorkDomestic    WorkKind = "domestic"    // domestic help (colf)
	WorkBabysitting WorkKind = "babysitting" // baby-sitting
	WorkDisability  WorkKind = "disability"  // care of a person with a disability
)

// WorkKinds lists every kind of work, in the order forms show them.
var WorkKinds = []WorkKind{WorkElderly, WorkNight, WorkDomestic, WorkBabysitting, WorkDisability}

// Valid reports whether w is a known kind of work.
func (w WorkKind) Valid() bool {
	for _, k := range WorkKinds {
		if w == k {
			return true
		}
	}
	return false
}

// Certificate is a qualification a worker holds, from a fixed list.
type Certificate string

// Certificates lists every certificate code.
var Certificates = []Certificate{"oss", "asa", "first_aid", "nurse", "haccp", "italian_a2", "italian_b1"}

// Valid reports whether c is a known certificate code.
func (c Certificate) Valid() bool {
	for _, k := range Certificates {
		if c == k {
			return true
		}
	}
	return false
}

// WorkerAvailability says when the worker can work.
type WorkerAvailability struct {
	Days []Weekday `json:"days"`
	// HoursPerWeek is the most hours a week the worker wants (1 to 54,
	// the CCNL's ceiling for live-in work).
	HoursPerWeek int  `json:"hours_per_week"`
	LiveIn       bool `json:"live_in,omitempty"`
	Night        bool `json:"night,omitempty"`
}

// WorkerPay is the pay a worker asks.
type WorkerPay struct {
	AmountCents int64    `json:"amount_cents"`
	Unit        CostUnit `json:"unit"` // "hour" or "month"
}

// Limits of a worker profile.
const (
	MaxAliasLen         = 40
	MaxPresentationLen  = 600
	MaxWorkerAreas      = 200
	MaxWorkerLanguages  = 10
	MaxExperienceYears  = 60
	MaxHoursPerWeek     = 54
	MaxWorkerPayCents   = 1_000_000 // 10,000 € a month: anything above is a typo
	WorkerCheckValidity = 183 * 24 * time.Hour
)

// CodeContactHidden is the field error of free text that hides a phone
// number, an e-mail or a web address.
const CodeContactHidden = "contact_hidden"

// Validate checks every field and returns nil or a FieldErrors.
func (p *WorkerProfile) Validate() error {
	var c fieldChecker
	if !IsUUID(p.ID) {
		c.add("id", CodeInvalid, "must be a lower-case UUID")
	}
	c.text("alias", p.Alias, true, MaxAliasLen, false)
	if p.Alias != "" && !aliasLike(p.Alias) {
		c.add("alias", CodeBadCharacters, "must be a first name and an initial, or a nickname: letters, spaces, dots, apostrophes and hyphens")
	}
	c.text("coop", p.Coop, true, MaxNameLen, false)
	if len(p.Work) == 0 {
		c.add("work", CodeRequired, "needs at least one kind of work")
	}
	listItems(&c, "work", p.Work, map[WorkKind]bool{}, WorkKind.Valid, CodeBadChoice,
		"%q is not one of elderly, night, domestic, babysitting, disability", "work %q is listed twice")
	if p.ExperienceYears < 0 || p.ExperienceYears > MaxExperienceYears {
		c.add("experience_years", CodeOutOfRange, "must be between 0 and %d", MaxExperienceYears)
	}
	if len(p.Certificates) > len(Certificates) {
		c.add("certificates", CodeTooMany, "has %d certificates, at most %d", len(p.Certificates), len(Certificates))
	} else {
		listItems(&c, "certificates", p.Certificates, map[Certificate]bool{}, Certificate.Valid, CodeBadChoice,
			"%q is not a known certificate", "certificate %q is listed twice")
	}
	switch {
	case len(p.Languages) == 0:
		c.add("languages", CodeRequired, "needs at least one language")
	case len(p.Languages) > MaxWorkerLanguages:
		c.add("languages", CodeTooMany, "has %d languages, at most %d allowed", len(p.Languages), MaxWorkerLanguages)
	default:
		listItems(&c, "languages", p.Languages, map[string]bool{}, validLanguageTag,
			CodeBadLanguage, "%q is not a BCP 47 language tag", "language %q is listed twice")
	}
	c.areas("areas", p.Areas, MaxWorkerAreas)
	a := p.Availability
	if len(a.Days) == 0 {
		c.add("availability.days", CodeRequired, "needs at least one day")
	}
	listItems(&c, "availability.days", a.Days, map[Weekday]bool{}, Weekday.valid,
		CodeBadChoice, "%q is not one of MO TU WE TH FR SA SU", "day %s is listed twice")
	if a.HoursPerWeek < 1 || a.HoursPerWeek > MaxHoursPerWeek {
		c.add("availability.hours_per_week", CodeOutOfRange, "must be between 1 and %d", MaxHoursPerWeek)
	}
	switch {
	case p.Pay.AmountCents <= 0:
		c.add("pay.amount_cents", CodeBadAmount, "must be above zero")
	case p.Pay.AmountCents > MaxWorkerPayCents:
		c.add("pay.amount_cents", CodeOutOfRange, "is more than %d cents", MaxWorkerPayCents)
	}
	if p.Pay.Unit != PerHour && p.Pay.Unit != PerMonth {
		c.add("pay.unit", CodeBadChoice, "must be hour or month")
	}
	c.text("presentation", p.Presentation, false, MaxPresentationLen, true)
	if _, err := time.Parse(time.DateOnly, p.CheckedOn); err != nil {
		c.add("checked_on", CodeInvalid, "must be a date YYYY-MM-DD")
	}
	for _, f := range []struct{ name, text string }{{"alias", p.Alias}, {"coop", p.Coop}, {"presentation", p.Presentation}} {
		if what := ContactHidden(f.text); what != "" {
			c.add(f.name, CodeContactHidden, "hides %s: contacts go through the coop", what)
		}
	}
	return c.err()
}

// Checked reports whether the profile's last check is recent enough to
// show it at now.
func (p *WorkerProfile) Checked(now time.Time) bool {
	d, err := time.Parse(time.DateOnly, p.CheckedOn)
	if err != nil {
		return false
	}
	return now.Sub(d) <= WorkerCheckValidity
}

// aliasLike allows letters, spaces, dots, apostrophes and hyphens.
func aliasLike(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) && !unicode.IsMark(r) && r != ' ' && r != '.' && r != '\'' && r != '-' && r != '’' {
			return false
		}
	}
	return utf8.ValidString(s)
}

// workerBody checks a worker entry's body against its key.
func workerBody(key string, body []byte) error {
	var p WorkerProfile
	if err := decodeStrict(body, &p); err != nil {
		return err
	}
	if p.ID != key {
		return fmt.Errorf("worker id %q does not match entry key %q", p.ID, key)
	}
	return p.Validate()
}
