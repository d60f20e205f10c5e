package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/problem"
)

// Call schedules as people think of them: on a beneficiary's page the
// admin picks the caregiver, ticks the week days, chooses the time and,
// if needed, an end date, days to skip and single days to add. The page
// builds the RRULE; the JSON API keeps it for machines.

// weekDays are the RRULE day codes in the order an Italian week is
// written, Monday first.
var weekDays = []string{"MO", "TU", "WE", "TH", "FR", "SA", "SU"}

// scheduleRows is how many empty rows the form offers for days to skip
// and days to add, beside the ones already set.
const scheduleRows = 2

func (u *ui) scheduleRoutes() {
	r := u.s.Router
	base := "/beneficiaries/{id}/schedules"
	admin := func(h func(http.ResponseWriter, *http.Request)) http.HandlerFunc { return u.gate(h, auth.Admin) }
	r.HandleFunc(base+"/new", admin(u.scheduleForm)).Methods(http.MethodGet)
	r.HandleFunc(base+"/new", admin(u.scheduleSave)).Methods(http.MethodPost)
	r.HandleFunc(base+"/{sid}/edit", admin(u.scheduleForm)).Methods(http.MethodGet)
	r.HandleFunc(base+"/{sid}/edit", admin(u.scheduleSave)).Methods(http.MethodPost)
	r.HandleFunc(base+"/{sid}/delete", admin(u.scheduleDeleteAsk)).Methods(http.MethodGet)
	r.HandleFunc(base+"/{sid}/delete", admin(u.scheduleDelete)).Methods(http.MethodPost)
}

// scheduleOf finds the beneficiary of the URL and, on an edit, the
// schedule; a schedule of someone else is not found.
func (u *ui) scheduleOf(r *http.Request) (care.Beneficiary, *calls.Schedule, error) {
	if u.d.Calls == nil {
		return care.Beneficiary{}, nil, problem.ErrNotFound
	}
	b, err := u.d.Care.Beneficiary(ctx(r), actor(r), mux.Vars(r)["id"])
	if err != nil {
		return b, nil, err
	}
	sid := mux.Vars(r)["sid"]
	if sid == "" {
		return b, nil, nil
	}
	for _, s := range u.d.Calls.Schedules(actor(r), b.ID) {
		if s.ID == sid {
			return b, &s, nil
		}
	}
	return b, nil, problem.ErrNotFound
}

func benPath(id string) string { return "/beneficiaries/" + url.PathEscape(id) }

func (u *ui) scheduleForm(w http.ResponseWriter, r *http.Request) {
	b, sc, err := u.scheduleOf(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "sched.new_title")
	if sc != nil {
		p.Title = "sched.edit_title"
		p.Form = scheduleValues(*sc)
	} else {
		p.Form.Set("time", "10:00")
		p.Form.Set("minutes", "15")
		p.Form.Set("start", u.d.Clock.Now().In(u.d.Location).Format("2006-01-02"))
		if len(b.Caregivers) > 0 {
			p.Form.Set("caregiver", b.Caregivers[0])
		}
	}
	u.renderSchedule(w, r, p, b, sc, http.StatusOK)
}

func (u *ui) renderSchedule(w http.ResponseWriter, r *http.Request, p *page, b care.Beneficiary, sc *calls.Schedule, status int) {
	action := benPath(b.ID) + "/schedules/new"
	submit := p.T("form.create")
	if sc != nil {
		action, submit = benPath(b.ID)+"/schedules/"+url.PathEscape(sc.ID)+"/edit", p.T("form.save")
	}
	sets := u.scheduleFields(r, p, b)
	f := form{Action: action, Submit: submit, Cancel: benPath(b.ID), Sets: sets, Heading: b.Name}
	p.Data = f
	p.Summary = summary(sets)
	u.render(w, r, p, "form", status)
}

// scheduleFields lays out the schedule form.
func (u *ui) scheduleFields(r *http.Request, p *page, b care.Beneficiary) []fieldset {
	cg := p.fld("select", "caregiver", "sched.caregiver", required)
	own, remote := u.scheduleCaregivers(r, b)
	cur := p.V("caregiver")
	group := func(label string, opts []option) {
		for i := range opts {
			opts[i].Selected = opts[i].Value == cur
		}
		if len(opts) > 0 {
			cg.Groups = append(cg.Groups, optgroup{Label: label, Options: opts})
		}
	}
	group(p.T("sched.own_caregivers"), own)
	group(p.T("sched.other_coops"), remote)
	if len(remote) == 0 {
		cg.Help, cg.HelpID = p.T("sched.help_grants"), "h"+cg.ID[1:]
	}
	days := p.fld("checks", "days", "sched.days")
	for _, d := range weekDays {
		days.Options = append(days.Options, option{Value: d, Label: p.T("sched.day." + d), Selected: slices.Contains(p.Form["days"], d)})
	}
	if k := p.V("keep_rule"); k != "" {
		days.Help, days.HelpID = p.T("sched.help_rule", "Rule", k), "h"+days.ID[1:]
	}
	main := set("", cg, days,
		p.fld("time", "time", "sched.time", required),
		p.fld("date", "start", "sched.start", required, help(p, "sched.help_date")),
		p.fld("date", "until", "sched.until", help(p, "sched.help_until")),
		p.fld("number", "minutes", "sched.minutes", inputmode("numeric")))
	if k := p.V("keep_rule"); k != "" {
		main.Fields = append(main.Fields, field{Kind: "hidden", Name: "keep_rule", Options: []option{{Value: k}}})
	}
	skip := set(p.T("sched.except"))
	for i := range rowsIn(p.Form, "except", 0) + scheduleRows {
		skip.Fields = append(skip.Fields, p.fld("date", rowName("except", i, "day"), "sched.except_day"))
	}
	extra := set(p.T("sched.extra"))
	for i := range rowsIn(p.Form, "extra", 0) + scheduleRows {
		extra.Fields = append(extra.Fields, p.fld("date", rowName("extra", i, "day"), "sched.extra_day"),
			p.fld("time", rowName("extra", i, "time"), "sched.extra_time"))
	}
	// Each row's label says which row it is, for a screen reader that
	// lists the fields out of their fieldset.
	for i := range skip.Fields {
		skip.Fields[i].Label = p.T("sched.except_n", "N", i+1)
	}
	for i := range extra.Fields {
		key := "sched.extra_day_n"
		if i%2 == 1 {
			key = "sched.extra_time_n"
		}
		extra.Fields[i].Label = p.T(key, "N", i/2+1)
	}
	return []fieldset{main, skip, extra}
}

// scheduleCaregivers are the caregivers a call of b can be given to: the
// coop's own (b's own first), and the caregivers of other coops this node
// granted to call b.
func (u *ui) scheduleCaregivers(r *http.Request, b care.Beneficiary) (own, remote []option) {
	ids, names := u.caregiverChoices(r)
	var others []option
	for i, id := range ids {
		o := option{Value: id, Label: names[i]}
		if slices.Contains(b.Caregivers, id) {
			own = append(own, o)
		} else {
			others = append(others, o)
		}
	}
	own = append(own, others...)
	gs, err := u.d.Calls.Grants(ctx(r), actor(r))
	if err != nil {
		return own, nil
	}
	coops := u.coopNames()
	now := u.d.Clock.Now()
	for _, g := range gs {
		if g.Beneficiary != b.ID || g.Revoked || !now.Before(g.Expires) {
			continue
		}
		label := g.Name
		if label == "" {
			label = g.Caregiver
		}
		if c := coops[g.Node]; c != "" {
			label += " (" + c + ")"
		}
		remote = append(remote, option{Value: g.Node + "/" + g.Caregiver, Label: label})
	}
	return own, remote
}

// coopNames maps the federation's peer ids to coop names.
func (u *ui) coopNames() map[string]string {
	m := map[string]string{}
	if u.d.Coops == nil {
		return m
	}
	for _, c := range u.d.Coops() {
		if c.CoopName != "" {
			m[c.PeerID] = c.CoopName
		}
	}
	return m
}

// scheduleValues turns a schedule into the form's values.
func scheduleValues(s calls.Schedule) url.Values {
	v := url.Values{}
	v.Set("caregiver", s.Caregiver)
	v.Set("time", s.Time)
	v.Set("start", s.Start)
	v.Set("until", s.Until)
	v.Set("minutes", itoa(s.Minutes))
	if days, ok := weeklyDays(s.Rule); ok {
		v["days"] = days
	} else if s.Rule != "" {
		v.Set("keep_rule", s.Rule)
	}
	for i, d := range s.Except {
		v.Set(rowName("except", i, "day"), d)
	}
	for i, x := range s.Extra {
		day, hm, _ := strings.Cut(x, "T")
		v.Set(rowName("extra", i, "day"), day)
		v.Set(rowName("extra", i, "time"), hm)
	}
	return v
}

// scheduleFrom reads the posted form: the ticked days become the rule,
// dates may be typed as dd/mm/yyyy (a browser without a date picker).
func scheduleFrom(v url.Values) (calls.Schedule, map[string]string) {
	errs := map[string]string{}
	s := calls.Schedule{Caregiver: strings.TrimSpace(v.Get("caregiver")), Time: strings.TrimSpace(v.Get("time"))}
	var days []string
	for _, d := range weekDays {
		if slices.Contains(v["days"], d) {
			days = append(days, d)
		}
	}
	switch {
	case len(days) > 0:
		s.Rule = "FREQ=WEEKLY;BYDAY=" + strings.Join(days, ",")
	case v.Get("keep_rule") != "":
		s.Rule = v.Get("keep_rule")
	}
	day := func(name string) string {
		d, ok := formDay(v.Get(name))
		if !ok {
			errs[name] = "bad_date"
		}
		return d
	}
	s.Start, s.Until = day("start"), day("until")
	s.Minutes = atoi(v, "minutes", errs)
	s.Except, s.Extra = []string{}, []string{}
	for i := range rowsIn(v, "except", 0) {
		if d := day(rowName("except", i, "day")); d != "" && !slices.Contains(s.Except, d) {
			s.Except = append(s.Except, d)
		}
	}
	for i := range rowsIn(v, "extra", 0) {
		dn, tn := rowName("extra", i, "day"), rowName("extra", i, "time")
		d, t := day(dn), strings.TrimSpace(v.Get(tn))
		switch {
		case d == "" && t == "":
		case d == "":
			errs[dn] = "required"
		case t == "":
			errs[tn] = "required"
		default:
			s.Extra = append(s.Extra, d+"T"+t)
		}
	}
	slices.Sort(s.Except)
	slices.Sort(s.Extra)
	if s.Rule == "" && len(s.Extra) == 0 && errs["days"] == "" {
		errs["days"] = "sched_no_day"
	}
	return s, errs
}

// formDay reads a date input: "" (none), yyyy-mm-dd (a date picker) or
// dd/mm/yyyy (typed by hand).
func formDay(s string) (string, bool) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", true
	}
	for _, layout := range []string{"2006-01-02", "02/01/2006", "2/1/2006"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Format("2006-01-02"), true
		}
	}
	return s, false
}

// scheduleFields' names for the service's error fields.
func scheduleField(f string) string {
	switch f {
	case "rule":
		return "days"
	case "except":
		return rowName("except", 0, "day")
	case "extra":
		return rowName("extra", 0, "day")
	}
	return f
}

func (u *ui) scheduleSave(w http.ResponseWriter, r *http.Request) {
	b, old, err := u.scheduleOf(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	s, errs := scheduleFrom(r.PostForm)
	s.Beneficiary = b.ID
	if old != nil {
		s.ID = old.ID
	}
	if len(errs) == 0 {
		if _, err = u.d.Calls.SaveSchedule(ctx(r), actor(r), s); err != nil {
			pr := problem.As(err)
			if pr.Status != http.StatusBadRequest || len(pr.Fields) == 0 {
				u.fail(w, r, err)
				return
			}
			for f, c := range pr.Fields {
				errs[scheduleField(f)] = c
			}
		}
	}
	if len(errs) > 0 {
		p := u.newPage(w, r, "sched.new_title")
		if old != nil {
			p.Title = "sched.edit_title"
		}
		p.Form, p.Errors = r.PostForm, errs
		u.renderSchedule(w, r, p, b, old, http.StatusBadRequest)
		return
	}
	key := "flash.created"
	if old != nil {
		key = "flash.saved"
	}
	u.redirect(w, r, benPath(b.ID)+"#schedules", key)
}

func (u *ui) scheduleDeleteAsk(w http.ResponseWriter, r *http.Request) {
	b, sc, err := u.scheduleOf(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "sched.delete_title")
	names := u.scheduleNames(r, []calls.Schedule{*sc})
	p.Data = confirmData{Action: benPath(b.ID) + "/schedules/" + url.PathEscape(sc.ID) + "/delete", Cancel: benPath(b.ID),
		Question: p.T("sched.delete_question", "Schedule", p.ScheduleWords(*sc, names)), Item: map[string]any{"Name": b.Name}, Button: p.T("sched.delete")}
	u.render(w, r, p, "confirm", http.StatusOK)
}

func (u *ui) scheduleDelete(w http.ResponseWriter, r *http.Request) {
	b, sc, err := u.scheduleOf(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := u.d.Calls.DeleteSchedule(ctx(r), actor(r), sc.ID); err != nil {
		u.fail(w, r, err)
		return
	}
	u.redirect(w, r, benPath(b.ID)+"#schedules", "flash.sched_deleted")
}

func itoa(n int) string {
	if n == 0 {
		return ""
	}
	return strconv.Itoa(n)
}
