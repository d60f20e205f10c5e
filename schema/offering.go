package schema

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"
	"unicode/utf8"
)

// Offering is a home-care service a coop publishes in the federated
// catalogue: the body of an entry of kind "offering", keyed by ID. Its fields
// are the ones of an Open Referral HSDS 3.0 service that a citizen needs to
// choose a home-care service (see HSDSService for the mapping). When it was
// last changed is not here: the entry that carries it has issued_at.
type Offering struct {
	// ID is a lower-case UUID chosen by the publisher (a random v4 is
	// fine); it is the entry key and never changes.
	ID          string `json:"id"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// Category is the main taxonomy code, e.g. "anziani.assistenza-domiciliare";
	// Categories lists further codes the service also belongs to.
	Category    string      `json:"category"`
	Categories  []string    `json:"categories,omitempty"`
	Eligibility Eligibility `json:"eligibility,omitzero"`
	Cost        Cost        `json:"cost"`
	Delivery    Delivery    `json:"delivery"`
	// Areas are the ISTAT codes of the municipalities served.
	Areas []string `json:"areas"`
	// Languages are BCP 47 tags of the languages the service is delivered
	// in, e.g. "it", "en", "ro".
	Languages []string `json:"languages"`
	Schedule  Schedule `json:"schedule,omitzero"`
	Contact   Contact  `json:"contact"`
	Status    Status   `json:"status"`
}

// Eligibility says who the service is for. Zero ages mean no limit.
type Eligibility struct {
	Description string `json:"description,omitempty"`
	MinAge      int    `json:"min_age,omitempty"`
	MaxAge      int    `json:"max_age,omitempty"`
}

// CostType says whether a citizen pays for the service.
type CostType string

const (
	CostFree CostType = "free"
	CostPaid CostType = "paid"
)

// Cost is what the service costs. A paid service lists at least one option;
// a free one lists none.
type Cost struct {
	Type CostType `json:"type"`
	// Description is free text about fees, contributions, discounts.
	Description string       `json:"description,omitempty"`
	Options     []CostOption `json:"options,omitempty"`
}

// CostUnit is what one amount pays for.
type CostUnit string

const (
	PerHour  CostUnit = "hour"
	PerVisit CostUnit = "visit"
	PerDay   CostUnit = "day"
	PerWeek  CostUnit = "week"
	PerMonth CostUnit = "month"
	Once     CostUnit = "once"
)

func (u CostUnit) valid() bool {
	switch u {
	case PerHour, PerVisit, PerDay, PerWeek, PerMonth, Once:
		return true
	}
	return false
}

// CostOption is one price. Amounts are integer cents so that no rounding
// ever changes a price between nodes.
type CostOption struct {
	// Option names the option, e.g. "Ora feriale" or "Pacchetto 10 visite".
	Option      string   `json:"option"`
	AmountCents int64    `json:"amount_cents"`
	Currency    string   `json:"currency"` // "EUR"
	Unit        CostUnit `json:"unit"`
}

// Delivery says whether the service is given to one person or shared
// among several households ("sharing welfare", e.g. one carer for a building).
type Delivery string

const (
	DeliveryIndividual Delivery = "individual"
	DeliveryShared     Delivery = "shared"
)

// Status says whether the service currently takes requests.
type Status string

const (
	StatusActive   Status = "active"
	StatusInactive Status = "inactive"
)

// Schedule says when the service is available: a description for people
// and, optionally, weekly opening hours for filters.
type Schedule struct {
	Description string        `json:"description,omitempty"`
	Weekly      []WeeklyHours `json:"weekly,omitempty"`
}

// WeeklyHours is one opening period repeated on some days of the week, in
// Italian local time.
type WeeklyHours struct {
	Days   []Weekday `json:"days"`
	Opens  string    `json:"opens"`  // "HH:MM", 24-hour
	Closes string    `json:"closes"` // "HH:MM", later than Opens; "24:00" is midnight
}

// Weekday is an iCalendar day code, as HSDS's byday uses.
type Weekday string

const (
	Monday    Weekday = "MO"
	Tuesday   Weekday = "TU"
	Wednesday Weekday = "WE"
	Thursday  Weekday = "TH"
	Friday    Weekday = "FR"
	Saturday  Weekday = "SA"
	Sunday    Weekday = "SU"
)

func (d Weekday) valid() bool {
	switch d {
	case Monday, Tuesday, Wednesday, Thursday, Friday, Saturday, Sunday:
		return true
	}
	return false
}

// Contact is how a citizen reaches the service. It is public: it names an
// office or a role, not a private person's details.
type Contact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
	URL   string `json:"url,omitempty"`
}

// Limits of an offering's fields, in characters. They keep one record small
// enough for a gossip message and a result card.
const (
	MaxNameLen        = 200
	MaxDescriptionLen = 4000
	MaxShortTextLen   = 1000 // eligibility, cost and schedule descriptions
	MaxCategories     = 5    // further categories besides the main one
	MaxAreas          = 1000 // a metropolitan city has at most a few hundred comuni
	MaxLanguages      = 20
	MaxCostOptions    = 10
	MaxWeeklyHours    = 14
	MaxAge            = 130
	MaxAmountCents    = 100_000_000 // one million euro: anything above is a typo
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
	seen := make(map[string]bool, len(codes))
	for i, code := range codes {
		f := fmt.Sprintf("%s[%d]", field, i)
		switch {
		case !ValidMunicipality(code):
			c.add(f, CodeBadMunicipality, "%q is not an ISTAT municipality code", code)
		case seen[code]:
			c.add(f, CodeDuplicate, "municipality %s is listed twice", code)
		}
		seen[code] = true
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

// Validate checks every field and returns nil or a FieldErrors listing each
// problem.
func (o *Offering) Validate() error {
	var c fieldChecker
	if !IsUUID(o.ID) {
		c.add("id", CodeInvalid, "must be a lower-case UUID")
	}
	c.text("name", o.Name, true, MaxNameLen, false)
	c.text("description", o.Description, true, MaxDescriptionLen, true)

	switch {
	case o.Category == "":
		c.add("category", CodeRequired, "is required")
	case !KnownTerm(o.Category):
		c.add("category", CodeBadCategory, "%q is not a category of the taxonomy", o.Category)
	}
	if len(o.Categories) > MaxCategories {
		c.add("categories", CodeTooMany, "has %d categories, at most %d allowed", len(o.Categories), MaxCategories)
	} else {
		seen := map[string]bool{o.Category: true}
		for i, code := range o.Categories {
			f := fmt.Sprintf("categories[%d]", i)
			switch {
			case !KnownTerm(code):
				c.add(f, CodeBadCategory, "%q is not a category of the taxonomy", code)
			case seen[code]:
				c.add(f, CodeDuplicate, "category %q is listed twice", code)
			}
			seen[code] = true
		}
	}

	e := o.Eligibility
	c.text("eligibility.description", e.Description, false, MaxShortTextLen, true)
	if e.MinAge < 0 || e.MinAge > MaxAge {
		c.add("eligibility.min_age", CodeOutOfRange, "must be between 0 and %d", MaxAge)
	}
	if e.MaxAge < 0 || e.MaxAge > MaxAge {
		c.add("eligibility.max_age", CodeOutOfRange, "must be between 0 and %d", MaxAge)
	}
	if e.MaxAge > 0 && e.MinAge > e.MaxAge {
		c.add("eligibility.max_age", CodeOutOfRange, "is lower than min_age")
	}

	o.Cost.validate(&c)

	switch o.Delivery {
	case DeliveryIndividual, DeliveryShared:
	case "":
		c.add("delivery", CodeRequired, "is required (individual or shared)")
	default:
		c.add("delivery", CodeBadChoice, "must be individual or shared")
	}

	c.areas("areas", o.Areas, MaxAreas)

	if len(o.Languages) == 0 {
		c.add("languages", CodeRequired, "needs at least one language")
	} else if len(o.Languages) > MaxLanguages {
		c.add("languages", CodeTooMany, "has %d languages, at most %d allowed", len(o.Languages), MaxLanguages)
	} else {
		seen := map[string]bool{}
		for i, tag := range o.Languages {
			f := fmt.Sprintf("languages[%d]", i)
			switch {
			case !validLanguageTag(tag):
				c.add(f, CodeBadLanguage, "%q is not a BCP 47 language tag such as \"it\" or \"pt-BR\"", tag)
			case seen[tag]:
				c.add(f, CodeDuplicate, "language %q is listed twice", tag)
			}
			seen[tag] = true
		}
	}

	o.Schedule.validate(&c)

	c.text("contact.name", o.Contact.Name, false, MaxNameLen, false)
	c.contact("contact", o.Contact.Email, o.Contact.Phone, o.Contact.URL)

	switch o.Status {
	case StatusActive, StatusInactive:
	case "":
		c.add("status", CodeRequired, "is required (active or inactive)")
	default:
		c.add("status", CodeBadChoice, "must be active or inactive")
	}
	return c.err()
}

func (k Cost) validate(c *fieldChecker) {
	c.text("cost.description", k.Description, false, MaxShortTextLen, true)
	switch k.Type {
	case CostFree:
		if len(k.Options) > 0 {
			c.add("cost.options", CodeNotAllowed, "a free service has no cost options")
		}
		return
	case CostPaid:
		if len(k.Options) == 0 {
			c.add("cost.options", CodeRequired, "a paid service needs at least one cost option")
			return
		}
	case "":
		c.add("cost.type", CodeRequired, "is required (free or paid)")
		return
	default:
		c.add("cost.type", CodeBadChoice, "must be free or paid")
		return
	}
	if len(k.Options) > MaxCostOptions {
		c.add("cost.options", CodeTooMany, "has %d options, at most %d allowed", len(k.Options), MaxCostOptions)
		return
	}
	for i, opt := range k.Options {
		f := fmt.Sprintf("cost.options[%d]", i)
		c.text(f+".option", opt.Option, true, MaxNameLen, false)
		switch {
		case opt.AmountCents <= 0:
			c.add(f+".amount_cents", CodeBadAmount, "a paid option needs an amount above zero")
		case opt.AmountCents > MaxAmountCents:
			c.add(f+".amount_cents", CodeOutOfRange, "is more than %d cents", MaxAmountCents)
		}
		if opt.Currency != "EUR" {
			c.add(f+".currency", CodeBadChoice, "must be EUR")
		}
		if !opt.Unit.valid() {
			c.add(f+".unit", CodeBadChoice, "must be one of hour, visit, day, week, month, once")
		}
	}
}

func (s Schedule) validate(c *fieldChecker) {
	c.text("schedule.description", s.Description, false, MaxShortTextLen, true)
	if len(s.Weekly) > MaxWeeklyHours {
		c.add("schedule.weekly", CodeTooMany, "has %d periods, at most %d allowed", len(s.Weekly), MaxWeeklyHours)
		return
	}
	for i, w := range s.Weekly {
		f := fmt.Sprintf("schedule.weekly[%d]", i)
		if len(w.Days) == 0 {
			c.add(f+".days", CodeRequired, "needs at least one day")
		}
		seen := map[Weekday]bool{}
		for j, d := range w.Days {
			switch {
			case !d.valid():
				c.add(fmt.Sprintf("%s.days[%d]", f, j), CodeBadChoice, "%q is not one of MO TU WE TH FR SA SU", d)
			case seen[d]:
				c.add(fmt.Sprintf("%s.days[%d]", f, j), CodeDuplicate, "day %s is listed twice", d)
			}
			seen[d] = true
		}
		opens, ok1 := parseHHMM(w.Opens)
		if !ok1 || opens == 24*60 {
			c.add(f+".opens", CodeBadTime, "must be a time HH:MM from 00:00 to 23:59")
		}
		closes, ok2 := parseHHMM(w.Closes)
		if !ok2 || closes == 0 {
			c.add(f+".closes", CodeBadTime, "must be a time HH:MM from 00:01 to 24:00")
		}
		if ok1 && ok2 && closes <= opens {
			c.add(f+".closes", CodeTimeOrder, "must be later than opens")
		}
	}
}
