package schema

import "fmt"

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
		listItems(&c, "categories", o.Categories, map[string]bool{o.Category: true}, KnownTerm,
			CodeBadCategory, "%q is not a category of the taxonomy", "category %q is listed twice")
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
		listItems(&c, "languages", o.Languages, map[string]bool{}, validLanguageTag,
			CodeBadLanguage, "%q is not a BCP 47 language tag such as \"it\" or \"pt-BR\"", "language %q is listed twice")
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
		listItems(c, f+".days", w.Days, map[Weekday]bool{}, Weekday.valid,
			CodeBadChoice, "%q is not one of MO TU WE TH FR SA SU", "day %s is listed twice")
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
