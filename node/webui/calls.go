package webui

import (
	"bytes"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
)

// Check-in call pages: the caregiver's agenda (/agenda) and the terminal
// screen (/terminal), whose work happens in web/static/calls-*.js over the
// node's signaling sockets.

type agendaRow struct {
	Start       time.Time
	Day, Time   string
	Beneficiary string
	Name        string
	Node        string
	Coop        string
	Today       bool
	End         time.Time
	State       string // now, late, next, done
	Online      bool   // the terminal is connected (this coop's people)
	Note        string // what matters for a call: fragility, notes
	// Health is the person's terminals' health (this coop's people).
	Health []healthBrief
}

func (u *ui) callsRoutes() {
	r := u.s.Router
	r.HandleFunc("/agenda", u.gate(u.agendaPage, auth.Caregiver, auth.Admin)).Methods(http.MethodGet)
	r.HandleFunc("/terminal", u.terminalScreen).Methods(http.MethodGet)
	r.HandleFunc("/calls", u.gate(u.callsAdminPage, auth.Admin)).Methods(http.MethodGet)
	u.callRequestRoutes()
}

type agendaData struct {
	Rows     []agendaRow
	Sections []agendaSection // now, late, next, done: whom to call now
	Requests []requestRow
}

type agendaSection struct {
	Key  string // now, late, next, done
	Rows []agendaRow
}

func (u *ui) agendaPage(w http.ResponseWriter, r *http.Request) {
	if u.d.Calls == nil {
		http.NotFound(w, r)
		return
	}
	p := u.newPage(w, r, "agenda.title")
	loc := u.d.Location
	now := u.d.Clock.Now().In(loc)
	items := u.d.Calls.Agenda(r.Context(), actor(r), now.Add(-2*time.Hour), now.AddDate(0, 0, 14))
	rows := make([]agendaRow, 0, len(items))
	for _, it := range items {
		t := it.Start.In(loc)
		rows = append(rows, agendaRow{Start: t, Day: p.T("agenda.weekday."+t.Weekday().String()) + " " + t.Format("02/01"),
			Time: t.Format("15:04"), Beneficiary: it.Beneficiary, Name: it.Name, Node: it.Node, Coop: it.Coop,
			Today: t.Format("2006-01-02") == now.Format("2006-01-02"), End: it.End})
	}
	u.sortAgenda(r, p, now, rows)
	p.Data = agendaData{Rows: rows, Sections: agendaSections(rows), Requests: u.requestRows(r, p)}
	u.render(w, r, p, "calls_agenda", http.StatusOK)
}

// terminalScreen is a page of its own (no site header or navigation): the
// screen of a frail person's terminal. No login: the device credential in
// the browser is checked by the socket.
func (u *ui) terminalScreen(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "terminal.title")
	t := u.pages["terminalscreen"]
	var buf bytes.Buffer
	if t == nil || t.ExecuteTemplate(&buf, "terminalscreen", p) != nil {
		u.log.Error("render terminal screen")
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Language", p.Lang)
	_, _ = w.Write(buf.Bytes())
}

// callsAdmin is the coop admin's page for calls: pair terminals (code and
// QR), call settings, schedules, grants to other coops' caregivers.
type callsAdmin struct {
	Terminals []adminTerminal
	Bens      []adminBen
	Schedules []adminSchedule
	Grants    []calls.Grant
	PeerID    string
	// Coops are the other coops of the federation a grant can go to, by
	// name; CoopNames and BenNames name the grants' peers and people.
	Coops     []catalogue.Coop
	CoopNames map[string]string
	BenNames  map[string]string
	// Coop is the coop-wide settings (the call-back time of "Chiamatemi").
	Coop calls.CoopSettings
}

type adminTerminal struct {
	ID, Label, Beneficiary string
	Devices                []calls.Device
}

type adminBen struct {
	ID, Name string
	Settings calls.Settings
}

type adminSchedule struct {
	calls.Schedule
	Name, Words string
}

func (u *ui) callsAdminPage(w http.ResponseWriter, r *http.Request) {
	if u.d.Calls == nil {
		http.NotFound(w, r)
		return
	}
	a := actor(r)
	c := r.Context()
	var d callsAdmin
	if info, ok := u.s.Info(); ok {
		d.PeerID = info.PeerID
	}
	names := map[string]string{}
	bens, err := u.d.Care.ListBeneficiaries(c, a, care.Query{Limit: 500})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, b := range bens.Items {
		names[b.ID] = b.Name
		d.Bens = append(d.Bens, adminBen{ID: b.ID, Name: b.Name, Settings: u.d.Calls.Settings(b.ID)})
	}
	terms, err := u.d.Care.ListTerminals(c, a, care.Query{Limit: 500})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	for _, t := range terms.Items {
		if t.Beneficiary == "" {
			continue
		}
		ds, _ := u.d.Calls.Devices(c, a, t.ID)
		d.Terminals = append(d.Terminals, adminTerminal{ID: t.ID, Label: t.Label, Beneficiary: names[t.Beneficiary], Devices: ds})
	}
	if d.Coop, err = u.d.Calls.Coop(c, a); err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "callsadmin.title")
	ss := u.d.Calls.Schedules(a, "")
	sn := u.scheduleNames(r, ss)
	for _, s := range ss {
		d.Schedules = append(d.Schedules, adminSchedule{Schedule: s, Name: names[s.Beneficiary], Words: p.ScheduleWords(s, sn)})
	}
	if d.Grants, err = u.d.Calls.Grants(c, a); err != nil {
		u.fail(w, r, err)
		return
	}
	d.BenNames, d.CoopNames = names, u.coopNames()
	if u.d.Coops != nil {
		for _, co := range u.d.Coops() {
			if !co.Self && co.CoopName != "" {
				d.Coops = append(d.Coops, co)
			}
		}
		slices.SortFunc(d.Coops, func(x, y catalogue.Coop) int {
			return strings.Compare(strings.ToLower(x.CoopName), strings.ToLower(y.CoopName))
		})
	}
	p.Data = d
	u.render(w, r, p, "calls_admin", http.StatusOK)
}
