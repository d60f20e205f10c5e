package care

import (
	"log/slog"
	"slices"
	"time"
)

// Meta is what every private record has.
type Meta struct {
	ID        string    `json:"id"`
	Archived  bool      `json:"archived"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
}

func (m *Meta) meta() *Meta { return m }

// Fragility says why a beneficiary needs check-ins.
var Fragilities = []string{"very_old", "alone", "disabled", "chronic_illness", "cognitive_decline", "reduced_mobility", "recently_discharged"}

// Genders a beneficiary's record may say ("" is not said).
var Genders = []string{"f", "m"}

// ContactKinds are the people and services alerted for a beneficiary.
var ContactKinds = []string{"family", "gp", "social_services", "emergency", "neighbour", "other"}

// TerminalStates is the refurbishment lifecycle of a terminal, in order.
// Which state may follow which is node/workshop's transition table; the
// registry only keeps the state and its history, and changes it through
// MoveTerminal.
var TerminalStates = []string{"recovered", "wiping", "installing", "configuring", "testing", "ready", "delivered", "in_service", "pickup", "retired", "recycled"}

// oldTerminalStates maps the states of the first lifecycle (six states,
// any following any) to the current ones. "refurbishing" becomes
// "wiping": nothing recorded that the donor's data was wiped, so the
// device goes back through the wipe.
var oldTerminalStates = map[string]string{"refurbishing": "wiping"}

// Contact is someone to alert about a beneficiary.
type Contact struct {
	Kind     string `json:"kind"`
	Name     string `json:"name"`
	Relation string `json:"relation,omitempty"`
	Phone    string `json:"phone,omitempty"`
	Email    string `json:"email,omitempty"`
	// Lang is the language of the alert e-mails this contact gets
	// (ContactLangs); "": the coop's.
	Lang string `json:"lang,omitempty"`
}

// ContactLangs are the languages a contact's alert e-mails may be in.
var ContactLangs = []string{"it", "en"}

// Consent records the beneficiary's consent to the service and to data
// processing (GDPR art. 9: health data needs explicit consent).
type Consent struct {
	Given       bool   `json:"given"`
	Date        string `json:"date,omitempty"` // YYYY-MM-DD
	CollectedBy string `json:"collected_by,omitempty"`
	Scope       string `json:"scope,omitempty"`
}

// Beneficiary is a frail person the coop checks in on.
type Beneficiary struct {
	Meta
	Name         string `json:"name"`
	Address      string `json:"address"`
	Municipality string `json:"municipality"` // ISTAT code
	BirthYear    int    `json:"birth_year,omitempty"`
	// Gender is "f", "m" or "" (not said): how the app speaks of the
	// person ("chiede di essere chiamata/o"); "" gets a neutral phrasing.
	Gender     string    `json:"gender,omitempty"`
	Phone      string    `json:"phone,omitempty"`
	Fragility  []string  `json:"fragility"`
	Contacts   []Contact `json:"contacts"`
	Consent    Consent   `json:"consent"`
	Caregivers []string  `json:"caregivers"` // caregiver ids
	Notes      string    `json:"notes,omitempty"`
}

// LogValue keeps a beneficiary's personal data out of logs.
func (b Beneficiary) LogValue() slog.Value { return slog.GroupValue(slog.String("id", b.ID)) }

// Caregiver is a peer caregiver of the coop.
type Caregiver struct {
	Meta
	Name         string   `json:"name"`
	Phone        string   `json:"phone,omitempty"`
	Email        string   `json:"email,omitempty"`
	Languages    []string `json:"languages"`
	Availability string   `json:"availability,omitempty"`
	Username     string   `json:"username,omitempty"` // the caregiver's account
	Notes        string   `json:"notes,omitempty"`
	// Photo names the caregiver's current photo (a short hash of it), ""
	// without one; the picture itself is kept apart (photos.go) and only
	// SetCaregiverPhoto changes this.
	Photo string `json:"photo,omitempty"`
}

// LogValue keeps a caregiver's personal data out of logs.
func (c Caregiver) LogValue() slog.Value { return slog.GroupValue(slog.String("id", c.ID)) }

// StateChange is one step of a terminal's lifecycle.
type StateChange struct {
	State string    `json:"state"`
	At    time.Time `json:"at"`
	By    string    `json:"by"` // username
}

// Terminal is a refurbished PC that lives at a beneficiary's home.
type Terminal struct {
	Meta
	Label       string        `json:"label"` // asset tag written on the case
	Model       string        `json:"model"`
	Year        int           `json:"year,omitempty"`
	CPU         string        `json:"cpu,omitempty"`
	RAMMB       int           `json:"ram_mb,omitempty"`
	DiskGB      int           `json:"disk_gb,omitempty"`
	State       string        `json:"state"`
	Workers     []string      `json:"workers"` // who worked on it
	Beneficiary string        `json:"beneficiary,omitempty"`
	Notes       string        `json:"notes,omitempty"`
	History     []StateChange `json:"history"`
}

// Clone is a copy of t that shares no slice with it (store.Cloner): a
// save or a move appends its worker to a copy's Workers (addWorker), and
// two of them at once (the care API and the workshop's move take no common
// lock) would both write into the spare capacity of the stored record's
// array, so that a stored record could show the other's worker.
func (t *Terminal) Clone() Terminal {
	c := *t
	c.Workers = slices.Clone(t.Workers)
	c.History = slices.Clone(t.History)
	return c
}
