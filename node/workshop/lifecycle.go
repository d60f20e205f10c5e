package workshop

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// States is the lifecycle of a terminal, in order. It is care's
// TerminalStates (a test keeps the two equal).
var States = []string{"recovered", "wiping", "installing", "configuring", "testing", "ready", "delivered", "in_service", "pickup", "retired", "recycled"}

// next is the transition table: the states that may follow each state.
// Forward along the refurbishment, one step back where a step failed
// (a test call that fails goes back to configuring), out of the
// workshop to "retired" from any state in it, and never out of retired
// (except to recycled) or recycled. A device picked up from a home goes
// back through the wipe before it serves anyone else.
var next = map[string][]string{
	"recovered":   {"wiping", "retired"},
	"wiping":      {"installing", "retired"},
	"installing":  {"configuring", "wiping", "retired"},
	"configuring": {"testing", "installing", "retired"},
	"testing":     {"ready", "configuring", "retired"},
	"ready":       {"delivered", "testing", "retired"},
	"delivered":   {"in_service", "ready"},
	"in_service":  {"pickup"},
	"pickup":      {"wiping", "retired"},
	"retired":     {"recycled"},
	"recycled":    nil,
}

// Next lists the states that may follow from, in the table's order.
func Next(from string) []string { return slices.Clone(next[from]) }

// Allowed says whether to may follow from.
func Allowed(from, to string) bool { return slices.Contains(next[from], to) }

// Final says whether nothing but recycling may follow state.
func Final(state string) bool { return state == "retired" || state == "recycled" }

// backStep is a move to an earlier step of the refurbishment: it asks
// why. pickup → wiping is no back step but a device's second life.
func backStep(from, to string) bool {
	return slices.Index(States, to) < slices.Index(States, from) && !(from == "pickup" && to == "wiping")
}

// Item kinds of a checklist.
const (
	Check       = "check"       // a box ticked: the value "true"
	Text        = "text"        // a line of text, required
	Date        = "date"        // YYYY-MM-DD, not in the future
	Choice      = "choice"      // one of Choices
	Beneficiary = "beneficiary" // a beneficiary's id (the code the admin gives)
)

// Item is one entry of a step's checklist.
type Item struct {
	Key     string   `json:"key"`
	Kind    string   `json:"kind"`
	Choices []string `json:"choices,omitempty"`
}

// WipeMethods are the accepted ways of removing a donor's data.
var WipeMethods = []string{"nwipe_dod_short", "nwipe_zero", "ata_secure_erase", "nvme_sanitize", "disk_destroyed"}

// SignerRoles is who signs off a delivery's training.
var SignerRoles = []string{"beneficiary", "family"}

var wipeItems = []Item{{"wipe_method", Choice, WipeMethods}, {"wipe_date", Date, nil}, {"wiped_by", Text, nil}, {"wipe_verified", Check, nil}}

// checklists is what a move into each state records, forward.
var checklists = map[string][]Item{
	"installing":  wipeItems,
	"configuring": {{"os", Text, nil}, {"os_installed", Check, nil}},
	"testing":     {{"setup_done", Check, nil}, {"kiosk_starts", Check, nil}},
	"ready": {{"test_call_date", Date, nil}, {"test_call_with", Text, nil}, {"audio_ok", Check, nil},
		{"video_ok", Check, nil}, {"wakes_by_itself", Check, nil}},
	"delivered": {{"beneficiary", Beneficiary, nil}, {"delivery_date", Date, nil}, {"signed_by", Text, nil},
		{"signer_role", Choice, SignerRoles}, {"training_answer", Check, nil}, {"training_volume", Check, nil},
		{"training_power", Check, nil}, {"training_help", Check, nil}},
	"in_service": {{"first_call_ok", Check, nil}},
	"pickup":     {{"reason", Text, nil}},
	"retired":    {{"reason", Text, nil}},
	"recycled":   {{"recycler", Text, nil}, {"recycled_date", Date, nil}},
}

// Checklist is what the move from → to must record. A back step records
// why; retiring a device whose disk may still hold someone's data
// (recovered, wiping, pickup) records its wipe as well.
func Checklist(from, to string) []Item {
	if backStep(from, to) {
		return []Item{{"reason", Text, nil}}
	}
	items := slices.Clone(checklists[to])
	if to == "retired" && (from == "recovered" || from == "wiping" || from == "pickup") {
		items = append(items, wipeItems...)
	}
	return items
}

// Refusal codes of a transition; each is a catalogue key under
// "workshop.refused.".
const (
	RefusedForbidden  = "transition_forbidden"
	RefusedChecklist  = "checklist_incomplete"
	RefusedUnknown    = "unknown_state"
	RefusedFinal      = "state_final"
	RefusedStateMoved = "terminal_state_changed"
)

// CheckMove checks the move from → to and its checklist; the answer is
// a 409 whose code says why (and, for a checklist, which items).
func CheckMove(from, to string, checklist map[string]string, now time.Time) error {
	switch {
	case !slices.Contains(States, to):
		return problem.New(http.StatusConflict, RefusedUnknown, "unknown state "+to)
	case Final(from) && !Allowed(from, to):
		return problem.New(http.StatusConflict, RefusedFinal, from+" is final: a device does not come back from it")
	case !Allowed(from, to):
		return problem.New(http.StatusConflict, RefusedForbidden, from+" → "+to+" is not an allowed step (allowed: "+strings.Join(next[from], ", ")+")")
	}
	items := Checklist(from, to)
	bad := map[string]string{}
	for k := range checklist {
		if !slices.ContainsFunc(items, func(it Item) bool { return it.Key == k }) {
			bad[k] = "unknown_item"
		}
	}
	for _, it := range items {
		if code := checkItem(it, strings.TrimSpace(checklist[it.Key]), now); code != "" {
			bad[it.Key] = code
		}
	}
	if len(bad) > 0 {
		return &problem.Error{Status: http.StatusConflict, Code: RefusedChecklist, Message: "the step's checklist is incomplete", Fields: bad}
	}
	return nil
}

func checkItem(it Item, v string, now time.Time) string {
	if v == "" {
		return "required"
	}
	switch it.Kind {
	case Check:
		if v != "true" {
			return "required"
		}
	case Choice:
		if !slices.Contains(it.Choices, v) {
			return "bad_choice"
		}
	case Date:
		return checkDate(v, now)
	}
	return schema.TextFault(v, 200, false)
}

// checkDate checks a YYYY-MM-DD day from 2000 to tomorrow (time zones).
func checkDate(v string, now time.Time) string {
	d, err := time.Parse(time.DateOnly, v)
	if err != nil {
		return "bad_date"
	}
	if d.Year() < 2000 || d.After(now.AddDate(0, 0, 1)) {
		return "out_of_range"
	}
	return ""
}
