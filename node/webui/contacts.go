package webui

import (
	"net/http"
	"net/url"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/contacts"
	"github.com/difronte/difronte/node/problem"
)

// contactRoutes are the pages of the contact through the coop (issue
// 16): the family asks to meet a matched worker from its matches page;
// the coop sees the asks and records its steps and the worker's answer.
// Registered before workerCoopRoutes, whose /lavoratori/{id} would take
// "contatti" for an id.
func (u *ui) contactRoutes() {
	if u.d.Contacts == nil {
		return
	}
	r := u.s.Router
	r.HandleFunc("/lavoro/richieste/{id}/contatti", u.gate(u.contactAskPost, familyRoles...)).Methods(http.MethodPost)
	coop := []auth.Role{auth.Admin, auth.Operator}
	r.HandleFunc("/lavoratori/contatti", u.gate(u.contactsCoopPage, coop...)).Methods(http.MethodGet)
	r.HandleFunc("/lavoratori/contatti/{id}", u.gate(u.contactAnswerPost, coop...)).Methods(http.MethodPost)
}

// familyRoles file family requests and ask to meet workers: a citizen,
// an operator (for a family, or acting for a citizen) and the admin.
var familyRoles = []auth.Role{auth.Admin, auth.Operator, auth.Citizen}

func (u *ui) contactAskPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	id := mux.Vars(r)["id"]
	back := "/lavoro/richieste/" + url.PathEscape(id)
	_, err := u.d.Contacts.Ask(ctx(r), actor(r), id, r.PostForm.Get("profile"), r.PostForm.Get("message"))
	switch pr := problem.As(err); {
	case err == nil:
		u.redirect(w, r, back+"#contatti", "flash.contact_sent")
	case pr.Status == http.StatusConflict:
		u.redirect(w, r, back+"#contatti", "flash.contact_"+pr.Code)
	case pr.Status == http.StatusBadRequest && pr.Fields["contact"] != "":
		u.redirect(w, r, back, "flash.contact_need_contact")
	case pr.Status == http.StatusBadRequest:
		u.redirect(w, r, back, "flash.contact_bad_message")
	default:
		u.fail(w, r, err)
	}
}

func (u *ui) contactsCoopPage(w http.ResponseWriter, r *http.Request) {
	list, err := u.d.Contacts.Received(ctx(r), actor(r), r.URL.Query().Get("worker"))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "contacts.coop_title")
	p.Data = list
	u.render(w, r, p, "worker_contacts", http.StatusOK)
}

func (u *ui) contactAnswerPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	id := mux.Vars(r)["id"]
	_, err := u.d.Contacts.Answer(ctx(r), actor(r), id, r.PostForm.Get("state"))
	switch pr := problem.As(err); {
	case err == nil:
		u.redirect(w, r, "/lavoratori/contatti#"+url.PathEscape(id), "flash.contact_saved")
	case pr.Status == http.StatusConflict:
		u.redirect(w, r, "/lavoratori/contatti#"+url.PathEscape(id), "flash.contact_closed")
	case pr.Status == http.StatusBadRequest:
		u.redirect(w, r, "/lavoratori/contatti#"+url.PathEscape(id), "flash.contact_no_worker_contact")
	default:
		u.fail(w, r, err)
	}
}

// contactsOf are a family request's contacts, and the state of each
// asked profile by its reference, for the matches page.
func (u *ui) contactsOf(r *http.Request, request string) ([]contacts.Contact, map[string]string) {
	if u.d.Contacts == nil {
		return nil, nil
	}
	cs, err := u.d.Contacts.ForRequest(ctx(r), actor(r), request)
	if err != nil {
		return nil, nil
	}
	asked := map[string]string{}
	for _, c := range cs {
		asked[c.Peer+"/"+c.Profile] = c.State
	}
	return cs, asked
}
