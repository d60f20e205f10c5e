package webui

import (
	"net/http"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/escalation"
)

// The beneficiary's page is the one place an admin looks: besides the
// record, their terminal and whether it is online, their call schedules
// in words, recent calls, open cases and open call requests.

// recentCalls is how many calls the page shows.
const recentCalls = 5

type benExtra struct {
	Names     map[string]string // caregiver id -> name
	Terminals []benTerminal
	Schedules []benSchedule
	Calls     []benCall
	Cases     []escalation.Case
	// Requests are the beneficiary's open "Chiamatemi" requests.
	Requests []benRequest
	CanEdit  bool // admin: may change schedules
	// OnlineNow is, for whoever may not list terminals, whether the
	// person's terminal is connected.
	OnlineNow, ListsTerminals bool
	Calling                   bool // the node runs check-in calls
	// Health is the person's terminals' health (admin, their caregivers).
	Health []healthBrief
}

type benTerminal struct {
	care.Terminal
	Presence calls.Presence
}

type benSchedule struct {
	ID, Words string
}

type benCall struct {
	At        time.Time
	Caregiver string
	Answered  bool
	Minutes   int
}

// benRequest is one open call request as the page shows it.
type benRequest struct {
	At   time.Time
	Href string // where to act on it
}

func (u *ui) beneficiaryExtra(r *http.Request, b care.Beneficiary) any {
	a := actor(r)
	ids, names := u.caregiverChoices(r)
	d := benExtra{Names: map[string]string{}, CanEdit: a.Role == "admin", Calling: u.d.Calls != nil}
	for i, id := range ids {
		d.Names[id] = names[i]
	}
	if !may(a.Role, "terminals") {
		// A caregiver may not list terminals: whether the person's
		// terminal is online is all the call needs.
		if u.d.Calls != nil && u.d.Calls.Hub().Online(b.ID) {
			d.OnlineNow = true
		}
	} else if ts, err := u.d.Care.ListTerminals(ctx(r), a, care.Query{Limit: 500}); err == nil {
		d.ListsTerminals = true
		for _, t := range ts.Items {
			if t.Beneficiary == b.ID {
				bt := benTerminal{Terminal: t}
				if u.d.Calls != nil {
					bt.Presence = u.d.Calls.TerminalPresence(t.ID)
				}
				d.Terminals = append(d.Terminals, bt)
			}
		}
	}
	if u.d.Calls != nil {
		p := &page{u: u, cat: u.cat, Lang: u.cat.language(r)}
		ss := u.d.Calls.Schedules(a, b.ID)
		sn := u.scheduleNames(r, ss)
		for _, s := range ss {
			d.Schedules = append(d.Schedules, benSchedule{ID: s.ID, Words: p.ScheduleWords(s, sn)})
		}
		recs := u.d.Calls.Records(a, b.ID)
		u.d.Audit.Note(audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.List, Kind: "call_record", Object: b.ID, Remote: a.Remote})
		for _, rec := range recs[:min(len(recs), recentCalls)] {
			who := sn[rec.Caregiver]
			if who == "" {
				who = d.Names[rec.Caregiver]
			}
			d.Calls = append(d.Calls, benCall{At: rec.Started, Caregiver: who, Answered: rec.Answered, Minutes: (rec.Seconds + 59) / 60})
		}
	}
	if u.d.Escalation != nil {
		if cs, err := u.d.Escalation.Cases(ctx(r), a, escalation.CaseQuery{State: "open", Beneficiary: b.ID}); err == nil {
			d.Cases = cs
		}
	}
	d.Requests = u.callRequestsFor(r, b.ID)
	d.Health = u.personHealth(r, &page{u: u, cat: u.cat, Lang: u.cat.language(r)}, b.ID)
	return d
}

// callRequestsFor lists a beneficiary's open call requests, each leading
// to the agenda where it is called back or closed.
func (u *ui) callRequestsFor(r *http.Request, ben string) []benRequest {
	if u.d.Calls == nil {
		return nil
	}
	var out []benRequest
	for _, q := range u.d.Calls.Requests(ctx(r), actor(r)) {
		if q.Beneficiary == ben {
			out = append(out, benRequest{At: q.At, Href: "/agenda"})
		}
	}
	return out
}

// presenceView is a terminal's or caregiver's presence in words.
type presenceView struct {
	Online bool
	Text   string
}

// Seen says whether a terminal ("terminal") or a caregiver ("caregiver")
// is online now, or when it was last seen.
func (p *page) Seen(kind, id string) presenceView {
	c := p.u.d.Calls
	if c == nil {
		return presenceView{Text: p.T("presence.unknown")}
	}
	var pr calls.Presence
	if kind == "terminal" {
		pr = c.TerminalPresence(id)
	} else {
		pr = c.CaregiverPresence(id)
	}
	return p.presence(pr)
}

func (p *page) presence(pr calls.Presence) presenceView {
	switch {
	case pr.Online:
		return presenceView{Online: true, Text: p.T("presence.online")}
	case pr.LastSeen.IsZero():
		return presenceView{Text: p.T("presence.never")}
	}
	return presenceView{Text: p.T("presence.last_seen", "When", p.When(pr.LastSeen))}
}

// Presence is a presence in words, for a value already read.
func (p *page) Presence(pr calls.Presence) presenceView { return p.presence(pr) }
