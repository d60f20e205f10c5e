package webui

import (
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/notify"
)

// Call requests ("Chiamatemi" on a terminal) as the agenda and the home
// page show them, and the inbox's messages with the person they are about.

// requestRow is one open call request.
type requestRow struct {
	ID, Beneficiary, Name string
	Line                  string // "10:42 · Maria Rossi chiede di essere chiamata"
	Missed                bool
	Online                bool
}

func (u *ui) callRequestRoutes() {
	r := u.s.Router
	r.HandleFunc("/agenda/requests/{id}/close", u.gate(u.closeRequestPost, auth.Caregiver, auth.Admin)).Methods(http.MethodPost)
}

// rome is where the agenda's times are written.
func rome() *time.Location {
	loc, err := time.LoadLocation(calls.Zone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// requestRows lists the open call requests the reader may see, each
// naming its person (an audited read of the record) with the gendered or
// neutral phrasing of the catalogue.
func (u *ui) requestRows(r *http.Request, p *page) []requestRow {
	if u.d.Calls == nil {
		return nil
	}
	var out []requestRow
	for _, rq := range u.d.Calls.Requests(ctx(r), actor(r)) {
		b, err := u.d.Care.Beneficiary(ctx(r), actor(r), rq.Beneficiary)
		if err != nil {
			continue
		}
		at := rq.At.In(rome()).Format("15:04")
		if rq.At.In(rome()).Format("2006-01-02") != u.d.Clock.Now().In(rome()).Format("2006-01-02") {
			at = rq.At.In(rome()).Format("02/01 15:04")
		}
		out = append(out, requestRow{ID: rq.ID, Beneficiary: rq.Beneficiary, Name: b.Name, Missed: rq.Missed,
			Online: u.d.Calls.Hub().Online(rq.Beneficiary),
			Line:   p.T("callreq.line", "Time", at, "Name", b.Name, "Gender", b.Gender)})
	}
	return out
}

func (u *ui) closeRequestPost(w http.ResponseWriter, r *http.Request) {
	if u.d.Calls == nil {
		http.NotFound(w, r)
		return
	}
	if _, err := u.d.Calls.CloseRequest(ctx(r), actor(r), mux.Vars(r)["id"]); err != nil {
		u.fail(w, r, err)
		return
	}
	to := "/agenda"
	if err := r.ParseForm(); err == nil && r.PostForm.Get("next") == "/" {
		to = "/"
	}
	u.redirect(w, r, to, "flash.callreq_closed")
}

// inboxRow is an in-app message with the person it is about, named only
// to a reader allowed to see them.
type inboxRow struct {
	notify.Item
	Name     string
	CaseLink bool // Link opens a case (else the agenda)
}

func (u *ui) inboxRows(r *http.Request) []inboxRow {
	if u.d.Notify == nil {
		return nil
	}
	items := u.d.Notify.Inbox(actor(r))
	out := make([]inboxRow, 0, len(items))
	names := map[string]string{}
	for _, it := range items {
		row := inboxRow{Item: it, CaseLink: strings.HasPrefix(it.Link, "/cases/")}
		if it.Beneficiary != "" {
			n, ok := names[it.Beneficiary]
			if !ok {
				if b, err := u.d.Care.Beneficiary(ctx(r), actor(r), it.Beneficiary); err == nil {
					n = b.Name
				}
				names[it.Beneficiary] = n
			}
			row.Name = n
		}
		out = append(out, row)
	}
	return out
}

// caregiverHome is a caregiver's first look: her own people (not the
// coop's), her next call, and who asked to be called.
func (u *ui) caregiverHome(r *http.Request, p *page, d *homeData) {
	d.Caregiver = true
	if mine, err := u.d.Care.ListBeneficiaries(ctx(r), actor(r), care.Query{Limit: 1}); err == nil {
		d.Counts = append(d.Counts, count{Label: p.T("home.my_people", "Count", mine.Total), N: mine.Total, Href: "/beneficiaries"})
	}
	d.Requests = u.requestRows(r, p)
	d.People = u.peopleHealth(r, p)
	if u.d.Calls == nil {
		return
	}
	d.Agenda = true
	now := u.d.Clock.Now()
	for _, it := range u.d.Calls.Agenda(ctx(r), actor(r), now, now.AddDate(0, 0, 14)) {
		t := it.Start.In(rome())
		day := p.T("agenda.weekday."+t.Weekday().String()) + " " + t.Format("02/01")
		if t.Format("2006-01-02") == now.In(rome()).Format("2006-01-02") {
			day = p.T("agenda.today")
		}
		d.NextCall = p.T("home.next_call", "Day", day, "Time", t.Format("15:04"), "Name", it.Name)
		break
	}
}
