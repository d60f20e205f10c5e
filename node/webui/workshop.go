package webui

import (
	"encoding/base64"
	"errors"
	"html/template"
	"io"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/photo"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/workshop"
)

// The refurbishment workshop ("officina"): the work queue and the intake
// (/officina), one device with its report, checklists, moves and hours
// (/officina/{id}), and a worker's printable certificate
// (/officina/lavoratori/{username}). Plain forms posted to the page
// routes, which call node/workshop: they work without JavaScript.

var workshopRoles = []auth.Role{auth.Admin, auth.Refurbisher}

func (u *ui) workshopRoutes() {
	if u.d.Workshop == nil {
		return
	}
	r := u.s.Router
	r.HandleFunc("/officina", u.gate(u.officinaPage, workshopRoles...)).Methods(http.MethodGet)
	r.HandleFunc("/officina/intake", u.gate(u.intakePost, workshopRoles...)).Methods(http.MethodPost)
	r.HandleFunc("/officina/lavoratori/{username}", u.gate(u.certificatePage, workshopRoles...)).Methods(http.MethodGet)
	r.HandleFunc("/officina/{id}", u.gate(u.devicePage, workshopRoles...)).Methods(http.MethodGet)
	r.HandleFunc("/officina/{id}/move", u.gate(u.movePost, workshopRoles...)).Methods(http.MethodPost)
	r.HandleFunc("/officina/{id}/worklog", u.gate(u.worklogPost, workshopRoles...)).Methods(http.MethodPost)
	r.HandleFunc("/officina/{id}/take", u.gate(u.takePost, workshopRoles...)).Methods(http.MethodPost)
	r.HandleFunc("/officina/{id}/code", u.gate(u.codePost, workshopRoles...)).Methods(http.MethodPost)
}

type officinaData struct {
	Queue   []workshop.QueueStep
	Mine    bool
	Waiting int
	Stats   *workshop.Stats
	Workers []workshop.Summary
	Today   string
	Taken   *workshop.Taken
}

func (u *ui) today() string { return u.d.Clock.Now().Format("2006-01-02") }

func (u *ui) officinaPage(w http.ResponseWriter, r *http.Request) {
	u.renderOfficina(w, r, u.newPage(w, r, "workshop.title"), http.StatusOK)
}

func (u *ui) renderOfficina(w http.ResponseWriter, r *http.Request, p *page, status int) {
	a := actor(r)
	d := officinaData{Mine: r.URL.Query().Get("mine") == "1", Today: u.today()}
	var err error
	if d.Queue, err = u.d.Workshop.Queue(ctx(r), a, d.Mine); err != nil {
		u.fail(w, r, err)
		return
	}
	for _, q := range d.Queue {
		d.Waiting += len(q.Items)
	}
	if a.Role == auth.Admin {
		st, err := u.d.Workshop.Stats(ctx(r), a)
		if err != nil {
			u.fail(w, r, err)
			return
		}
		d.Stats = &st
	}
	if d.Workers, err = u.d.Workshop.Workers(ctx(r), a); err != nil {
		u.fail(w, r, err)
		return
	}
	if p.Form.Get("date") == "" {
		p.Form.Set("date", d.Today)
	}
	p.Data = d
	u.render(w, r, p, "workshop", status)
}

// maxIntakeBody leaves room for the photo and the form around it.
const maxIntakeBody = 2 << 20

func (u *ui) intakePost(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxIntakeBody)
	if err := r.ParseMultipartForm(maxIntakeBody); err != nil && !errors.Is(err, http.ErrNotMultipart) {
		u.fail(w, r, problem.BadRequest("bad_form", "form could not be read", err))
		return
	}
	normalizeDays(r.Form) // a multipart form, which dayFields leaves alone
	in := workshop.Intake{Donor: r.FormValue("donor"), Date: r.FormValue("date"), Model: r.FormValue("model"),
		Serial: r.FormValue("serial"), Label: r.FormValue("label")}
	photoErr := false
	if f, h, err := r.FormFile("photo"); err == nil {
		defer f.Close()
		b, err := io.ReadAll(io.LimitReader(f, workshop.MaxPhoto))
		ph, perr := photo.Check(b, workshop.MaxPhoto*3/4)
		if err != nil || perr != nil || h.Size > workshop.MaxPhoto*3/4 {
			photoErr = true
		} else {
			// Encoded again (no EXIF), unless that made it larger.
			if in.Photo = ph.DataURL(); len(ph.Bytes) > len(b) {
				in.Photo = "data:" + ph.Type + ";base64," + base64.StdEncoding.EncodeToString(b)
			}
		}
	}
	var tk workshop.Taken
	var err error
	if photoErr {
		err = problem.Invalid(map[string]string{"photo": "bad_photo"})
	} else {
		tk, err = u.d.Workshop.TakeIn(ctx(r), actor(r), in)
	}
	if err != nil {
		pe := problem.As(err)
		if pe.Status != http.StatusBadRequest {
			u.fail(w, r, err)
			return
		}
		p := u.newPage(w, r, "workshop.title")
		p.Form, p.Errors = r.Form, pe.Fields
		u.renderOfficina(w, r, p, http.StatusBadRequest)
		return
	}
	u.renderDevice(w, r, tk.ID, deviceState{Taken: &tk}, http.StatusCreated)
}

type deviceData struct {
	V        workshop.View
	Work     []workshop.Work
	Hours    float64
	Taken    *workshop.Taken
	Refused  string   // why the last move was refused, translated
	Missing  []string // the checklist items it lacked, translated
	Me       string
	Today    string
	States   []string
	Assigned bool // to the actor
	// Photo is the intake photo, a data: URL the workshop checked
	// (a JPEG or PNG, its bytes decoded), so the template may show it.
	Photo template.URL
}

// deviceState is what a post leaves for the device page to show.
type deviceState struct {
	Taken   *workshop.Taken
	Refused *problem.Error
	Form    map[string][]string
	Errors  map[string]string
}

func (u *ui) devicePage(w http.ResponseWriter, r *http.Request) {
	u.renderDevice(w, r, mux.Vars(r)["id"], deviceState{}, http.StatusOK)
}

func (u *ui) renderDevice(w http.ResponseWriter, r *http.Request, id string, st deviceState, status int) {
	a := actor(r)
	v, err := u.d.Workshop.Device(ctx(r), a, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "workshop.device_title")
	d := deviceData{V: v, Taken: st.Taken, Me: a.Username, Today: u.today(), States: workshop.States, Assigned: v.Assigned == a.Username,
		Photo: template.URL(v.Photo)} // checked by workshop.TakeIn (goodPhoto)
	if d.Work, err = u.d.Workshop.WorkOn(ctx(r), a, id); err != nil {
		u.fail(w, r, err)
		return
	}
	mins := 0
	for _, x := range d.Work {
		mins += x.Minutes
	}
	d.Hours = math.Round(float64(mins)/6) / 10
	if e := st.Refused; e != nil {
		d.Refused = p.T("workshop.refused." + refusalCode(e.Code))
		for _, k := range slices.Sorted(maps.Keys(e.Fields)) {
			d.Missing = append(d.Missing, p.T("workshop.item."+itemKey(k))+": "+p.T("err."+fieldCode(e.Fields[k])))
		}
	}
	if st.Form != nil {
		p.Form = st.Form
	}
	if p.Form.Get("date") == "" {
		p.Form.Set("date", d.Today)
	}
	if p.Form.Get("step") == "" {
		p.Form.Set("step", v.State)
	}
	p.Errors = st.Errors
	p.Data = d
	u.render(w, r, p, "workshop_device", status)
}

var refusalCodes = []string{workshop.RefusedForbidden, workshop.RefusedChecklist, workshop.RefusedUnknown, workshop.RefusedFinal,
	workshop.RefusedStateMoved, "invalid"}

// refusalCode keeps the catalogue key to the codes it has.
func refusalCode(c string) string {
	if slices.Contains(refusalCodes, c) {
		return c
	}
	return "invalid"
}

func itemKey(k string) string {
	for _, to := range workshop.States {
		for _, from := range workshop.States {
			for _, it := range workshop.Checklist(from, to) {
				if it.Key == k {
					return k
				}
			}
		}
	}
	return "unknown"
}

var fieldCodes = []string{"required", "bad_choice", "bad_date", "out_of_range", "unknown_item", "bad_characters", "too_long", "unknown_beneficiary"}

func fieldCode(c string) string {
	if slices.Contains(fieldCodes, c) {
		return c
	}
	return "invalid"
}

func (u *ui) movePost(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "form could not be read", err))
		return
	}
	tr := workshop.Transition{To: r.PostForm.Get("to"), Checklist: map[string]string{}}
	for k, vs := range r.PostForm {
		if key, ok := strings.CutPrefix(k, "cl."); ok && len(vs) > 0 {
			tr.Checklist[key] = vs[len(vs)-1]
		}
	}
	if _, err := u.d.Workshop.Move(ctx(r), actor(r), id, tr); err != nil {
		pe := problem.As(err)
		if pe.Status != http.StatusConflict && pe.Status != http.StatusBadRequest {
			u.fail(w, r, err)
			return
		}
		u.renderDevice(w, r, id, deviceState{Refused: pe, Form: r.PostForm}, http.StatusConflict)
		return
	}
	u.redirect(w, r, "/officina/"+id, "flash.workshop_moved")
}

func (u *ui) worklogPost(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "form could not be read", err))
		return
	}
	e := workshop.WorkEntry{Terminal: id, Step: r.PostForm.Get("step"), Date: r.PostForm.Get("date"), Note: r.PostForm.Get("note")}
	errs := map[string]string{}
	if h, err := strconv.ParseFloat(strings.ReplaceAll(strings.TrimSpace(r.PostForm.Get("hours")), ",", "."), 64); err == nil {
		e.Hours = &h
	} else {
		errs["hours"] = "bad_number"
	}
	if len(errs) == 0 {
		if _, err := u.d.Workshop.LogWork(ctx(r), actor(r), e); err != nil {
			pe := problem.As(err)
			if pe.Status != http.StatusBadRequest {
				u.fail(w, r, err)
				return
			}
			errs = pe.Fields
			if m, ok := errs["minutes"]; ok {
				errs["hours"] = m
				delete(errs, "minutes")
			}
		}
	}
	if len(errs) > 0 {
		u.renderDevice(w, r, id, deviceState{Form: r.PostForm, Errors: errs}, http.StatusBadRequest)
		return
	}
	u.redirect(w, r, "/officina/"+id+"#work", "flash.workshop_logged")
}

func (u *ui) takePost(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	if _, err := u.d.Workshop.Take(ctx(r), actor(r), id); err != nil {
		u.fail(w, r, err)
		return
	}
	u.redirect(w, r, "/officina/"+id, "flash.workshop_taken")
}

func (u *ui) codePost(w http.ResponseWriter, r *http.Request) {
	id := mux.Vars(r)["id"]
	tk, err := u.d.Workshop.NewCode(ctx(r), actor(r), id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	u.renderDevice(w, r, id, deviceState{Taken: &tk}, http.StatusCreated)
}

type certificateData struct {
	S    workshop.Summary
	Name string
	Date string
}

// certificatePage is a worker's certificate of skills and hours, for the
// coop to print (the admin) or the worker to read their own.
func (u *ui) certificatePage(w http.ResponseWriter, r *http.Request) {
	name := mux.Vars(r)["username"]
	s, err := u.d.Workshop.Worker(ctx(r), actor(r), name)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := certificateData{S: s, Name: name, Date: u.today()}
	if acc, ok := u.d.Auth.Get(name); ok && acc.DisplayName != "" {
		d.Name = acc.DisplayName
	}
	p := u.newPage(w, r, "workshop.cert_title")
	p.Data = d
	u.render(w, r, p, "workshop_certificate", http.StatusOK)
}

// Hours writes a number of hours as the page's language does: "2,5" in
// Italian, "2.5" in English.
func (p *page) Hours(h float64) string {
	s := strconv.FormatFloat(h, 'f', -1, 64)
	if p.Lang == "it" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
