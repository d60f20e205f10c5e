package webui

import (
	"crypto/rand"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// escalationRoutes adds the pages of outcomes, cases, the emergency card,
// the dashboard, the inbox and the acknowledgement link.
func (u *ui) escalationRoutes() {
	if u.d.Escalation == nil {
		return
	}
	r := u.s.Router
	cg := []auth.Role{auth.Admin, auth.Caregiver}
	r.HandleFunc("/cases", u.gate(u.casesPage, cg...)).Methods(http.MethodGet)
	r.HandleFunc("/cases/outcome", u.gate(u.outcomePage, cg...)).Methods(http.MethodGet)
	r.HandleFunc("/cases/outcome", u.gate(u.outcomePost, cg...)).Methods(http.MethodPost)
	r.HandleFunc("/cases/{id}", u.gate(u.casePage, cg...)).Methods(http.MethodGet)
	r.HandleFunc("/cases/{id}/action", u.gate(u.caseActionPost, cg...)).Methods(http.MethodPost)
	r.HandleFunc("/cases/{id}/emergency", u.gate(u.emergencyPage, cg...)).Methods(http.MethodGet)
	r.HandleFunc("/dashboard", u.gate(u.dashboardPage, auth.Admin)).Methods(http.MethodGet)
	r.HandleFunc("/inbox", u.gate(u.inboxPage, auth.Roles...)).Methods(http.MethodGet)
	r.HandleFunc("/inbox/ack", u.gate(u.inboxAck, auth.Roles...)).Methods(http.MethodPost)
	r.HandleFunc("/escalation/ack/{token}", u.ackPage).Methods(http.MethodGet)
	r.HandleFunc("/escalation/ack/{token}", u.ackPost).Methods(http.MethodPost)
}

type casesData struct {
	Cases    []escalation.Case
	Names    map[string]string
	Open     bool
	CanAdd   bool
	Problems []string
}

func (u *ui) benName(r *http.Request, id string) string {
	b, err := u.d.Care.Beneficiary(ctx(r), actor(r), id)
	if err != nil {
		return id
	}
	return b.Name
}

func (u *ui) casesPage(w http.ResponseWriter, r *http.Request) {
	state := r.URL.Query().Get("state")
	if state != escalation.CaseClosed {
		state = escalation.CaseOpen
	}
	cs, err := u.d.Escalation.Cases(ctx(r), actor(r), escalation.CaseQuery{State: state})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := casesData{Cases: cs, Names: map[string]string{}, Open: state == escalation.CaseOpen, CanAdd: actor(r).Role == auth.Caregiver}
	for _, c := range cs {
		if _, ok := d.Names[c.Beneficiary]; !ok {
			d.Names[c.Beneficiary] = u.benName(r, c.Beneficiary)
		}
	}
	p := u.newPage(w, r, "esc.cases_title")
	p.Data = d
	u.render(w, r, p, "escalation_cases", http.StatusOK)
}

type outcomeData struct {
	Calls     []escalation.CallChoice
	Kinds     []string
	Urgencies []string
	Actions   []string
	Key       string
	Chosen    map[string]bool
	Icons     map[string]string // kinds and actions: a symbol beside the words
}

// outcomeIcons are the symbols of the outcome form's choices (decoration:
// the words are the label).
var outcomeIcons = map[string]string{"health": "✚", "loneliness": "☹", "home": "⌂", "food": "🍽", "money": "€", "safety": "⚠", "other": "…",
	"propose_services": "☰", "alert_social": "☎", "alert_family": "☎", "alert_caregivers": "👥", "emergency": "🚑"}

func (u *ui) outcomeForm(w http.ResponseWriter, r *http.Request, p *page, status int) {
	key := p.Form.Get("key")
	if key == "" {
		key = strings.ToLower(rand.Text())
	}
	chosen := map[string]bool{}
	for _, a := range p.Form["actions"] {
		chosen[a] = true
	}
	p.Data = outcomeData{Calls: u.d.Escalation.OpenCalls(ctx(r), actor(r)), Kinds: escalation.Kinds, Urgencies: escalation.Urgencies,
		Actions: escalation.ActionKinds, Key: key, Chosen: chosen, Icons: outcomeIcons}
	u.render(w, r, p, "escalation_outcome", status)
}

func (u *ui) outcomePage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "esc.outcome_title")
	p.Form.Set("status", escalation.StatusWell)
	// From the agenda after a call: that call is chosen.
	if id := r.URL.Query().Get("call"); id != "" {
		for _, c := range u.d.Escalation.OpenCalls(ctx(r), actor(r)) {
			if c.ID == id {
				v := c.ID + "|" + c.Beneficiary
				if c.Node != "" {
					v += "|" + c.Node
				}
				p.Form.Set("call", v)
			}
		}
	}
	u.outcomeForm(w, r, p, http.StatusOK)
}

func (u *ui) outcomePost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "bad form", err))
		return
	}
	f := r.PostForm
	// call|beneficiary, and |node for another coop's beneficiary.
	call, rest, _ := strings.Cut(f.Get("call"), "|")
	ben, peer, _ := strings.Cut(rest, "|")
	o := escalation.Outcome{Key: f.Get("key"), Beneficiary: ben, Call: call, Status: f.Get("status"), Note: strings.TrimSpace(f.Get("note")),
		Actions: f["actions"]}
	if o.Status == escalation.StatusProblem {
		o.Kind, o.Urgency = f.Get("kind"), f.Get("urgency")
	} else {
		o.Actions = nil
	}
	out, err := u.d.Escalation.SubmitOutcome(ctx(r), actor(r), peer, o)
	if err != nil {
		pr := problem.As(err)
		if pr.Status == http.StatusBadRequest || pr.Status == http.StatusUnprocessableEntity || pr.Status == http.StatusConflict {
			p := u.newPage(w, r, "esc.outcome_title")
			p.Form = f
			p.Errors = pr.Fields
			if len(p.Errors) == 0 {
				p.Errors = map[string]string{"call": pr.Code}
			}
			u.outcomeForm(w, r, p, http.StatusBadRequest)
			return
		}
		u.fail(w, r, err)
		return
	}
	if peer != "" {
		// The case, if any, lives on the beneficiary's node.
		u.redirect(w, r, "/cases", "flash.esc_sent_remote")
		return
	}
	if out.Case != "" {
		if slices.Contains(out.Actions, escalation.ActEmergency) {
			u.redirect(w, r, "/cases/"+out.Case+"/emergency", "flash.esc_case_opened")
			return
		}
		u.redirect(w, r, "/cases/"+out.Case, "flash.esc_case_opened")
		return
	}
	u.redirect(w, r, "/cases", "flash.esc_well_recorded")
}

type caseData struct {
	Case    escalation.Case
	Name    string
	Alerts  []escalation.Alert
	Missing []string
	IsAdmin bool
}

func (u *ui) casePage(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	c, err := u.d.Escalation.Case(ctx(r), actor(r), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	als, _ := u.d.Escalation.Alerts(ctx(r), actor(r), id)
	d := caseData{Case: c, Name: u.benName(r, c.Beneficiary), Alerts: als, IsAdmin: actor(r).Role == auth.Admin}
	for _, k := range escalation.ActionKinds {
		if !slices.ContainsFunc(c.Actions, func(a escalation.Action) bool { return a.Kind == k }) {
			d.Missing = append(d.Missing, k)
		}
	}
	p := u.newPage(w, r, "esc.case_title")
	p.Data = d
	u.render(w, r, p, "escalation_case", http.StatusOK)
}

// caseActionPost runs one of the case page's buttons.
func (u *ui) caseActionPost(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "bad form", err))
		return
	}
	f, a, s := r.PostForm, actor(r), u.d.Escalation
	var err error
	to, msg := "/cases/"+id, "flash.esc_saved"
	switch f.Get("op") {
	case "add":
		_, err = s.AddAction(ctx(r), a, id, f.Get("kind"))
		if f.Get("kind") == escalation.ActEmergency && err == nil {
			to = "/cases/" + id + "/emergency"
		}
	case "done":
		_, err = s.CompleteAction(ctx(r), a, id, f.Get("kind"))
	case "accept", "decline":
		pub, key, _ := strings.Cut(f.Get("offer"), "|")
		_, err = s.AnswerProposal(ctx(r), a, id, pub, key, f.Get("op") == "accept")
	case "ack":
		_, err = s.Ack(ctx(r), a, f.Get("alert"))
	case "emergency_called":
		_, err = s.EmergencyCalled(ctx(r), a, id)
	case "close":
		_, err = s.CloseCase(ctx(r), a, id)
		msg = "flash.esc_closed"
	default:
		err = problem.BadRequest("bad_op", "unknown operation", nil)
	}
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.redirect(w, r, to, msg)
}

func (u *ui) emergencyPage(w http.ResponseWriter, r *http.Request) {
	card, err := u.d.Escalation.Emergency(ctx(r), actor(r), mux.Vars(r)["id"])
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "esc.emergency_title")
	p.Data = card
	u.render(w, r, p, "escalation_emergency", http.StatusOK)
}

type dashData struct {
	D                 escalation.Dashboard
	Charts            []chart
	From, To, CSVLink string
	// Names of this coop's caregivers by id (a caregiver of another coop
	// stays "<peer>/<id>").
	Names map[string]string
}

func (u *ui) dashboardPage(w http.ResponseWriter, r *http.Request) {
	from, to := u.d.Escalation.Period(r)
	d, err := u.d.Escalation.Dashboard(ctx(r), actor(r), from, to)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "esc.dashboard_title")
	q := r.URL.Query()
	dd := dashData{D: d, From: q.Get("from"), To: q.Get("to"), CSVLink: "/api/v1/escalation/dashboard.csv", Names: map[string]string{}}
	for _, row := range d.ByCaregiver {
		if row.Caregiver == "" || strings.Contains(row.Caregiver, "/") {
			continue
		}
		// Read as the admin looking at the page: care audits it.
		if c, err := u.d.Care.Caregiver(ctx(r), actor(r), row.Caregiver); err == nil {
			dd.Names[row.Caregiver] = c.Name
		}
	}
	if r.URL.RawQuery != "" {
		dd.CSVLink += "?" + r.URL.Query().Encode()
	}
	// The charts escape every label themselves.
	dd.Charts = []chart{
		monthChart("chart-months", p.T("esc.chart_months"), p.T("charts.month"), p.T("esc.checkins_done"), p.T("esc.checkins_missed"), d.ByMonth, p.monthName),
		hbarChart("chart-kinds", p.T("esc.chart_kinds"), p.T("charts.count"), d.ByKind, func(k string) string { return p.T("esc.kind." + k) }),
		hbarChart("chart-munis", p.T("esc.chart_munis"), p.T("charts.count"), d.ByMunicipality, p.Muni),
	}
	p.Data = dd
	u.render(w, r, p, "escalation_dashboard", http.StatusOK)
}

func (u *ui) inboxPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "esc.inbox_title")
	p.Data = u.inboxRows(r)
	u.render(w, r, p, "escalation_inbox", http.StatusOK)
}

// ackData is the page behind an alert's link: the case in words, and the
// button while the alert waits for its acknowledgement.
type ackData struct {
	Token string
	View  escalation.AckView
}

// ackPage shows the case an alert's link points to (without the person's
// name: mail scanners fetch links) and the button that acknowledges it.
func (u *ui) ackPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "esc.ack_title")
	tok := mux.Vars(r)["token"]
	v, err := u.d.Escalation.AlertByToken(ctx(r), tok, p.Lang, httpx.RemoteIP(r), false)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p.Data = ackData{Token: tok, View: v}
	u.render(w, r, p, "escalation_ack", http.StatusOK)
}

// ackPost acknowledges the alert and shows the case with the person's
// name, to the contact who pressed the button.
func (u *ui) ackPost(w http.ResponseWriter, r *http.Request) {
	tok := mux.Vars(r)["token"]
	if _, err := u.d.Escalation.AckByToken(ctx(r), tok, httpx.RemoteIP(r)); err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "esc.ack_title")
	v, err := u.d.Escalation.AlertByToken(ctx(r), tok, p.Lang, httpx.RemoteIP(r), true)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p.Data = ackData{View: v}
	p.Flash = p.T("esc.ack_done")
	u.render(w, r, p, "escalation_ack", http.StatusOK)
}

func (u *ui) inboxAck(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "bad form", err))
		return
	}
	if _, err := u.d.Escalation.Ack(ctx(r), actor(r), r.PostForm.Get("alert")); err != nil {
		u.fail(w, r, err)
		return
	}
	u.redirect(w, r, "/inbox", "flash.esc_acked")
}
