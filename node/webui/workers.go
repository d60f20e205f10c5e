package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/contacts"
	"github.com/difronte/difronte/node/families"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/workers"
	"github.com/difronte/difronte/schema"
)

// workerRoutes are the family assistants' pages (issue 16): the public
// /lavoro (browse the federation's profiles, no account needed), one
// profile, the cost estimate, and, for a citizen, or the coop's admin or
// operator filing for a family, the request, its matches and the asks to
// meet (contacts.go).
func (u *ui) workerRoutes() {
	r := u.s.Router
	r.HandleFunc("/lavoro", u.workersPage).Methods(http.MethodGet)
	r.HandleFunc("/lavoro/costo", u.costPage).Methods(http.MethodGet)
	r.HandleFunc("/lavoro/richiesta", u.gate(u.familyRequestPost, familyRoles...)).Methods(http.MethodPost)
	r.HandleFunc("/lavoro/richieste/{id}", u.gate(u.familyMatchesPage, familyRoles...)).Methods(http.MethodGet)
	r.HandleFunc("/lavoro/{profile}", u.workerProfilePage).Methods(http.MethodGet)
}

// askLangs are the languages families most often ask for besides Italian.
var askLangs = []string{"ro", "uk", "es", "tl", "ar", "sq", "ru", "pl", "en", "fr", "pt"}

type workersPageData struct {
	Answer     workers.Answer
	Error      string
	CanAsk     bool // logged in with a role that files requests
	Works      []schema.WorkKind
	Langs      []workers.FacetValue
	MuniText   string
	AskLangs   []string // the languages a request form offers besides Italian
	Prev, Next string
}

func (u *ui) workersPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "workers.title")
	d := &workersPageData{Works: schema.WorkKinds, AskLangs: askLangs}
	p.Data = d
	if a, ok := httpx.Actor(r); ok {
		d.CanAsk = slices.Contains(familyRoles, a.Role)
	}
	if u.d.Profiles == nil {
		d.Error = "workers.unavailable"
		u.render(w, r, p, "workers", http.StatusServiceUnavailable)
		return
	}
	v := r.URL.Query()
	for k, vs := range v {
		if len(vs) == 1 && vs[0] == "" {
			v.Del(k)
		}
	}
	if m := v.Get("municipality"); m != "" {
		d.MuniText = m
		if code := resolveMunicipality(m); schema.ValidMunicipality(code) {
			v.Set("municipality", code)
			d.MuniText = workers.MunicipalityName(code)
		} else {
			v.Del("municipality")
			d.Error = "workers.muni_unknown"
		}
	}
	p.Form = v
	status := http.StatusOK
	q, err := workers.ParseQuery(v)
	if err != nil {
		d.Error, q, status = "workers.bad_query", workers.Query{}, http.StatusBadRequest
	}
	q.PerPage = 10
	d.Answer = u.d.Profiles.Search(q)
	d.Langs = d.Answer.Facets["lang"]
	page := max(q.Page, 1)
	if page > 1 {
		v.Set("page", strconv.Itoa(page-1))
		d.Prev = "/lavoro?" + v.Encode()
	}
	if page*q.PerPage < d.Answer.Total {
		v.Set("page", strconv.Itoa(page+1))
		d.Next = "/lavoro?" + v.Encode()
	}
	v.Del("page")
	u.render(w, r, p, "workers", status)
}

func (u *ui) workerProfilePage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "workers.profile_title")
	var prof *workers.Profile
	if u.d.Profiles != nil {
		if got, ok := u.d.Profiles.ByID(mux.Vars(r)["profile"]); ok {
			prof = &got
		}
	}
	p.Data = prof
	status := http.StatusOK
	if prof == nil {
		status = http.StatusNotFound
	}
	u.render(w, r, p, "worker_profile", status)
}

type costPageData struct {
	Levels   []string
	Estimate *workers.Estimate
	Error    string
}

func (u *ui) costPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "workers.cost_title")
	d := &costPageData{Levels: workers.Levels}
	p.Data = d
	v := r.URL.Query()
	p.Form = v
	if v.Get("hours") == "" || u.d.CostTable == nil {
		u.render(w, r, p, "workers_cost", http.StatusOK)
		return
	}
	q, err := workers.ParseCostQuery(v)
	if err == nil {
		var e workers.Estimate
		if e, err = u.d.CostTable.Estimate(q); err == nil {
			d.Estimate = &e
		}
	}
	status := http.StatusOK
	if err != nil {
		d.Error, status = "workers.cost_error", problem.As(err).Status
	}
	u.render(w, r, p, "workers_cost", status)
}

func (u *ui) familyRequestPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil || u.d.Families == nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	f := r.PostForm
	hours, _ := strconv.Atoi(f.Get("hours_per_week"))
	budget, _ := strconv.ParseInt(strings.TrimSpace(f.Get("budget")), 10, 64)
	req := families.Request{Work: schema.WorkKind(f.Get("work")), HoursPerWeek: hours, LiveIn: f.Get("live_in") == "on",
		Municipality: resolveMunicipality(f.Get("municipality")), StartDate: f.Get("start_date"), BudgetCents: budget * 100,
		Notes: f.Get("notes"), ContactName: f.Get("contact_name"), ContactPhone: f.Get("contact_phone"), ContactEmail: f.Get("contact_email")}
	for _, l := range f["languages"] {
		if l != "" {
			req.Languages = append(req.Languages, l)
		}
	}
	var out families.Request
	var err error
	if bad := badDays(f); len(bad) > 0 {
		err = problem.Invalid(bad)
	} else {
		out, err = u.d.Families.Create(ctx(r), actor(r), req)
	}
	if err != nil {
		pr := problem.As(err)
		if pr.Status != http.StatusBadRequest {
			u.fail(w, r, err)
			return
		}
		p := u.newPage(w, r, "workers.title")
		p.Form = f
		p.Errors = map[string]string{}
		for k, c := range pr.Fields {
			p.Errors[k] = "invalid"
			if c == "bad_date" {
				p.Errors[k] = c
			}
		}
		d := &workersPageData{Works: schema.WorkKinds, AskLangs: askLangs, CanAsk: true}
		if u.d.Profiles != nil {
			d.Answer = u.d.Profiles.Search(workers.Query{PerPage: 10})
			d.Langs = d.Answer.Facets["lang"]
		}
		p.Data = d
		u.render(w, r, p, "workers", http.StatusBadRequest)
		return
	}
	u.redirect(w, r, "/lavoro/richieste/"+url.PathEscape(out.ID), "")
}

type familyMatchesData struct {
	Request  families.Request
	Matches  []workers.Match
	Contacts []contacts.Contact
	Asked    map[string]string // profile reference → state of its ask
}

func (u *ui) familyMatchesPage(w http.ResponseWriter, r *http.Request) {
	if u.d.Families == nil {
		u.fail(w, r, problem.ErrNotFound)
		return
	}
	p := u.newPage(w, r, "workers.matches_title")
	id := mux.Vars(r)["id"]
	req, err := u.d.Families.Get(ctx(r), actor(r), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	ms, err := u.d.Families.Matches(ctx(r), actor(r), id, p.Lang)
	if err != nil && problem.As(err).Status != http.StatusServiceUnavailable {
		u.fail(w, r, err)
		return
	}
	cs, asked := u.contactsOf(r, id)
	p.Data = familyMatchesData{Request: req, Matches: ms, Contacts: cs, Asked: asked}
	u.render(w, r, p, "family_matches", http.StatusOK)
}
