package webui

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/workers"
	"github.com/difronte/difronte/schema"
)

// workerCoopRoutes are the coop's pages for the family assistants it
// vouches for: the list with publish and withdraw, and one form to
// register or change a worker (admin or operator).
func (u *ui) workerCoopRoutes() {
	if u.d.Workers == nil {
		return
	}
	r := u.s.Router
	roles := []auth.Role{auth.Admin, auth.Operator}
	r.HandleFunc("/lavoratori", u.gate(u.workersCoopPage, roles...)).Methods(http.MethodGet)
	r.HandleFunc("/lavoratori/nuovo", u.gate(u.workerFormPage, roles...)).Methods(http.MethodGet)
	r.HandleFunc("/lavoratori/nuovo", u.gate(u.workerFormPost, roles...)).Methods(http.MethodPost)
	r.HandleFunc("/lavoratori/{id}", u.gate(u.workerFormPage, roles...)).Methods(http.MethodGet)
	r.HandleFunc("/lavoratori/{id}", u.gate(u.workerFormPost, roles...)).Methods(http.MethodPost)
	r.HandleFunc("/lavoratori/{id}/{action:pubblica|ritira}", u.gate(u.workerActionPost, roles...)).Methods(http.MethodPost)
}

func (u *ui) workersCoopPage(w http.ResponseWriter, r *http.Request) {
	list, err := u.d.Workers.List(ctx(r), actor(r))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "workers.coop_title")
	p.Data = list
	u.render(w, r, p, "workers_coop", http.StatusOK)
}

type workerFormData struct {
	ID              string
	Works           []schema.WorkKind
	Private, Public []string // text fields of the two parts, in order
}

func newWorkerFormData(id string) workerFormData {
	return workerFormData{ID: id, Works: schema.WorkKinds,
		Private: []string{"full_name", "phone", "email", "address", "documents"},
		Public:  []string{"alias", "municipality", "languages", "experience_years", "hours_per_week", "pay"}}
}

// workerForm is a record's form values.
func workerForm(wk workers.Worker) url.Values {
	pr := wk.Profile
	v := url.Values{
		"full_name": {wk.FullName}, "phone": {wk.Phone}, "email": {wk.Email}, "address": {wk.Address}, "documents": {wk.Documents},
		"consent_date": {wk.Consent.Date}, "check_date": {wk.Check.Date}, "alias": {pr.Alias},
		"experience_years": {strconv.Itoa(pr.ExperienceYears)}, "languages": {strings.Join(pr.Languages, " ")},
		"hours_per_week": {strconv.Itoa(pr.Availability.HoursPerWeek)}, "pay": {strconv.FormatInt(pr.Pay.AmountCents/100, 10)},
		"presentation": {pr.Presentation},
	}
	if len(pr.Areas) > 0 {
		v["municipality"] = []string{workers.MunicipalityName(pr.Areas[0])}
	}
	for _, k := range pr.Work {
		v["work"] = append(v["work"], string(k))
	}
	for name, on := range map[string]bool{"consent": wk.Consent.Given, "identity_seen": wk.Check.IdentitySeen, "night": pr.Availability.Night, "live_in": pr.Availability.LiveIn} {
		if on {
			v[name] = []string{"on"}
		}
	}
	return v
}

func (u *ui) workerFormPage(w http.ResponseWriter, r *http.Request) {
	p := u.newPage(w, r, "workers.form_title")
	id := mux.Vars(r)["id"]
	if id != "" {
		wk, err := u.d.Workers.Get(ctx(r), actor(r), id)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		p.Form = workerForm(wk)
	}
	p.Data = newWorkerFormData(id)
	u.render(w, r, p, "worker_form", http.StatusOK)
}

func (u *ui) workerFormPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	f := r.PostForm
	num := func(name string) int { n, _ := strconv.Atoi(strings.TrimSpace(f.Get(name))); return n }
	wk := workers.Worker{FullName: f.Get("full_name"), Phone: f.Get("phone"), Email: f.Get("email"), Address: f.Get("address"), Documents: f.Get("documents"),
		Consent: workers.Consent{Given: f.Get("consent") == "on", Date: f.Get("consent_date"), CollectedBy: actor(r).Username},
		Check:   workers.Check{IdentitySeen: f.Get("identity_seen") == "on", Date: f.Get("check_date"), By: actor(r).Username},
		Profile: schema.WorkerProfile{Alias: f.Get("alias"), ExperienceYears: num("experience_years"), Languages: strings.Fields(f.Get("languages")),
			Areas:        []string{resolveMunicipality(f.Get("municipality"))},
			Availability: schema.WorkerAvailability{Days: []schema.Weekday{schema.Monday, schema.Tuesday, schema.Wednesday, schema.Thursday, schema.Friday}, HoursPerWeek: num("hours_per_week"), Night: f.Get("night") == "on", LiveIn: f.Get("live_in") == "on"},
			Pay:          schema.WorkerPay{AmountCents: int64(num("pay")) * 100, Unit: schema.PerMonth}, Presentation: f.Get("presentation")}}
	for _, k := range f["work"] {
		wk.Profile.Work = append(wk.Profile.Work, schema.WorkKind(k))
	}
	id := mux.Vars(r)["id"]
	var err error
	if bad := badDays(f); len(bad) > 0 {
		err = problem.Invalid(bad)
	} else if id == "" {
		wk, err = u.d.Workers.Create(ctx(r), actor(r), wk)
	} else {
		wk, err = u.d.Workers.Update(ctx(r), actor(r), id, wk)
	}
	if err != nil {
		pr := problem.As(err)
		if pr.Status != http.StatusBadRequest {
			u.fail(w, r, err)
			return
		}
		p := u.newPage(w, r, "workers.form_title")
		p.Form, p.Errors = f, map[string]string{}
		for k, c := range pr.Fields {
			p.Errors[strings.TrimPrefix(k, "profile.")] = "invalid"
			if c == "bad_date" {
				p.Errors[k] = c
			}
		}
		p.Data = newWorkerFormData(id)
		u.render(w, r, p, "worker_form", http.StatusBadRequest)
		return
	}
	u.redirect(w, r, "/lavoratori", "")
}

func (u *ui) workerActionPost(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	var err error
	if mux.Vars(r)["action"] == "pubblica" {
		_, err = u.d.Workers.Publish(ctx(r), actor(r), id)
	} else {
		_, err = u.d.Workers.Withdraw(ctx(r), actor(r), id)
	}
	if err != nil {
		if pr := problem.As(err); pr.Status == http.StatusBadRequest || pr.Status == http.StatusConflict {
			u.redirect(w, r, "/lavoratori/"+id, "flash.worker_not_publishable")
			return
		}
		u.fail(w, r, err)
		return
	}
	u.redirect(w, r, "/lavoratori", "")
}
