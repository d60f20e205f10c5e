package webui

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/requests"
)

// requestRoutes are the pages of citizens' requests and cases: the
// request form from a catalogue offering, the provider's inbox
// (/richieste), the list of cases and one case (/pratiche/{id}).
func (u *ui) requestRoutes() {
	if u.d.Requests == nil {
		return
	}
	r := u.s.Router
	prov := []auth.Role{auth.Admin, auth.CaseManager}
	// A citizen, or an operator acting for one, asks and accepts; the
	// coop's admin or case manager answers and acts on the coop's cases.
	r.HandleFunc("/catalogo/{publisher}/{id}/richiedi", u.citizenGate(u.requestForm)).Methods(http.MethodGet)
	r.HandleFunc("/catalogo/{publisher}/{id}/richiedi", u.citizenGate(u.requestPost)).Methods(http.MethodPost)
	r.HandleFunc("/richieste", u.gate(u.inboxRequests, prov...)).Methods(http.MethodGet)
	r.HandleFunc("/richieste/{id}/{op:offerta|rifiuto}", u.gate(u.requestAnswer, prov...)).Methods(http.MethodPost)
	r.HandleFunc("/richieste/{id}/{op:accetta}", u.citizenGate(u.requestAnswer)).Methods(http.MethodPost)
	r.HandleFunc("/richieste/{id}/messaggi", u.sideGate(u.requestMessagesPage)).Methods(http.MethodGet)
	r.HandleFunc("/richieste/{id}/messaggi", u.sideGate(u.requestMessagePost)).Methods(http.MethodPost)
	r.HandleFunc("/pratiche", u.sideGate(u.casesList)).Methods(http.MethodGet)
	r.HandleFunc("/pratiche/{id}", u.sideGate(u.praticaPage)).Methods(http.MethodGet)
	r.HandleFunc("/pratiche/{id}/{op:stato|pagamento}", u.sideGate(u.praticaPost)).Methods(http.MethodPost)
	r.HandleFunc("/pratiche/{id}/messaggio", u.sideGate(u.messagePost)).Methods(http.MethodPost)
	r.HandleFunc("/pratiche/{id}/allegati/{msg}", u.sideGate(u.attachmentGet)).Methods(http.MethodGet)
}

type requestFormData struct {
	Publisher, ID, Name, Coop string
}

func (u *ui) offeringFor(r *http.Request) (requestFormData, error) {
	v := mux.Vars(r)
	d := requestFormData{Publisher: v["publisher"], ID: v["id"]}
	if u.d.Catalogue == nil || u.d.Catalogue.Listings == nil {
		return d, problem.ErrNotFound
	}
	l, err := u.d.Catalogue.Listings.Get(ctx(r), d.Publisher, d.ID)
	if err != nil {
		return d, problem.ErrNotFound
	}
	d.Name, d.Coop = l.Name, l.CoopName
	return d, nil
}

func (u *ui) requestForm(w http.ResponseWriter, r *http.Request) {
	d, err := u.offeringFor(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "rq.form_title")
	p.Data = d
	p.Form.Set("for", "self")
	u.render(w, r, p, "request_form", http.StatusOK)
}

func (u *ui) requestPost(w http.ResponseWriter, r *http.Request) {
	d, err := u.offeringFor(r)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "bad form", err))
		return
	}
	f := r.PostForm
	in := requests.NewRequest{Offerings: []string{d.Publisher + "/" + d.ID}, For: f.Get("for"), Municipality: f.Get("municipality"),
		Address: f.Get("address"), Start: f.Get("start"), When: f.Get("when"), Notes: f.Get("notes"), Consent: f.Get("consent") == "yes"}
	name := ""
	if acc := httpx.Account(r); acc != nil {
		name = acc.DisplayName
	}
	if bad := badDays(f); len(bad) > 0 {
		err = problem.Invalid(bad)
	} else {
		_, err = u.d.Requests.Create(ctx(r), actor(r), in, name)
	}
	if err != nil {
		pe := problem.As(err)
		if pe.Status != http.StatusBadRequest {
			u.fail(w, r, err)
			return
		}
		p := u.newPage(w, r, "rq.form_title")
		p.Data, p.Form, p.Errors = d, f, map[string]string{}
		for k, c := range pe.Fields {
			p.Errors[k] = "invalid"
			msg := p.T("rq.field." + k)
			if c == "bad_date" {
				p.Errors[k] = c
				msg += ": " + p.T("err.bad_date")
			}
			p.Summary = append(p.Summary, fieldError{ID: "f-" + k, Msg: msg})
		}
		u.render(w, r, p, "request_form", http.StatusBadRequest)
		return
	}
	u.redirect(w, r, "/pratiche", "flash.rq_sent")
}

type inboxData struct {
	Requests []requests.Request
	Today    string
	// Refused is the request whose offer form came back refused for one
	// of its fields: the inbox has one offer form per request, all with
	// the same field names, and only that one shows what was typed (the
	// page's Form) and the errors beside its fields (the page's Errors).
	Refused string
}

func (u *ui) inboxRequests(w http.ResponseWriter, r *http.Request) {
	u.renderInbox(w, r, "", nil, nil)
}

// offerFields are the fields of an offer form, with the prefix of their
// input ids (followed by the request's id): a refusal that belongs to one
// of them is shown beside it.
var offerFields = []offerField{{"price", "p-"}, {"unit", "u-"}, {"start", "s-"}, {"valid_until", "v-"}, {"conditions", "c-"}}

type offerField struct{ name, prefix string }

// renderInbox draws the provider's inbox. With refused set, the offer form
// of that request was refused for some of its fields (bad: field → error
// code, err.* in the catalogues): the inbox comes back (400) with that
// form as typed (f), the message beside each refused field and a summary
// linking to the fields, so the provider corrects the field instead of
// typing the offer again.
func (u *ui) renderInbox(w http.ResponseWriter, r *http.Request, refused string, f url.Values, bad map[string]string) {
	if !requests.IsProvider(actor(r)) { // an admin acting for a citizen
		u.fail(w, r, problem.ErrForbidden)
		return
	}
	rs, err := u.d.Requests.Requests(ctx(r), actor(r))
	if err != nil {
		u.fail(w, r, err)
		return
	}
	p := u.newPage(w, r, "rq.inbox_title")
	p.Data = inboxData{Requests: rs, Today: u.d.Clock.Now().Format("2006-01-02"), Refused: refused}
	status := http.StatusOK
	if refused != "" {
		p.Form, p.Errors, status = f, bad, http.StatusBadRequest
		for _, d := range offerFields {
			if bad[d.name] != "" {
				p.Summary = append(p.Summary, fieldError{ID: d.prefix + refused, Msg: p.T("rq.field."+d.name) + ": " + p.Err(d.name)})
			}
		}
	}
	u.render(w, r, p, "requests_inbox", status)
}

// answered sends a refused change back where it came from with a flash
// (a 4xx the service explained), or fails.
func (u *ui) answered(w http.ResponseWriter, r *http.Request, err error, back, ok string) {
	if err == nil {
		u.redirect(w, r, back, ok)
		return
	}
	switch problem.As(err).Status {
	case http.StatusBadRequest, http.StatusConflict, http.StatusRequestEntityTooLarge:
		u.redirect(w, r, back, "flash.rq_refused")
	default:
		u.fail(w, r, err)
	}
}

func (u *ui) requestAnswer(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "bad form", err))
		return
	}
	f, a, id := r.PostForm, actor(r), v["id"]
	switch v["op"] {
	case "offerta":
		u.offerPost(w, r, id, f)
	case "rifiuto":
		_, err := u.d.Requests.Decline(ctx(r), a, id, f.Get("reason"))
		u.answered(w, r, err, "/richieste", "flash.rq_declined")
	case "accetta":
		c, err := u.d.Requests.Accept(ctx(r), a, id, f.Get("offer"))
		u.answered(w, r, err, "/pratiche/"+c.ID, "flash.rq_accepted")
	}
}

// offerPost makes the provider's offer from the inbox's form. A refusal
// that belongs to fields of the form, found here or by the service, brings
// the inbox back (400) with the form as typed and each message beside its
// field; any other refusal goes back to the inbox with a flash.
func (u *ui) offerPost(w http.ResponseWriter, r *http.Request, id string, f url.Values) {
	price, bad := offerFaults(f)
	if len(bad) == 0 {
		_, err := u.d.Requests.MakeOffer(ctx(r), actor(r), id, requests.NewOffer{Price: price, Unit: strings.TrimSpace(f.Get("unit")),
			Start: f.Get("start"), Conditions: f.Get("conditions"), ValidUntil: f.Get("valid_until")})
		if bad = offerRefusal(err); bad == nil {
			u.answered(w, r, err, "/richieste", "flash.rq_offered")
			return
		}
	}
	u.renderInbox(w, r, id, f, bad)
}

// offerFaults reads an offer form's price and finds the refusals the page
// can tell before the service is asked: a date that is no date (badDays),
// a price that is not an amount as people type one (parseCents: "9,50",
// "9.50"; zero is a free service) up to requests.MaxPrice, a unit, start
// or validity left empty.
func offerFaults(f url.Values) (float64, map[string]string) {
	bad := badDays(f)
	cents, ok := parseCents(f.Get("price"))
	price := float64(cents) / 100
	if !ok || price > requests.MaxPrice {
		bad["price"] = "bad_amount"
	}
	for _, name := range []string{"unit", "start", "valid_until"} {
		if bad[name] == "" && strings.TrimSpace(f.Get(name)) == "" {
			bad[name] = "required"
		}
	}
	return price, bad
}

// offerRefusal is the service's refusal of an offer as the form's field
// errors, when it is a 400 naming only fields of the form: a validity
// in_the_past as such, any other fault as invalid. nil otherwise.
func offerRefusal(err error) map[string]string {
	if err == nil {
		return nil
	}
	pe := problem.As(err)
	if pe.Status != http.StatusBadRequest || len(pe.Fields) == 0 {
		return nil
	}
	bad := map[string]string{}
	for k, c := range pe.Fields {
		if !slices.ContainsFunc(offerFields, func(o offerField) bool { return o.name == k }) {
			return nil
		}
		if c != "in_the_past" {
			c = "invalid"
		}
		bad[k] = c
	}
	return bad
}

type casesListData struct {
	Cases    []requests.Case
	Requests []requests.Request // a citizen's own
	Citizen  bool
}

func (u *ui) casesList(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	cs, err := u.d.Requests.Cases(ctx(r), a)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d := casesListData{Cases: cs, Citizen: requests.ForCitizen(a)}
	if d.Citizen {
		if d.Requests, err = u.d.Requests.Requests(ctx(r), a); err != nil {
			u.fail(w, r, err)
			return
		}
	}
	p := u.newPage(w, r, "rq.cases_title")
	p.Data = d
	u.render(w, r, p, "pratiche", http.StatusOK)
}

type praticaData struct {
	Case     requests.Case
	Messages []requests.Message
	Pay      requests.Payments
	Provider bool
	Next     []string // the transitions allowed now
	// AttachBase is where the messages' attachments are downloaded,
	// followed by the message id (msglist).
	AttachBase string
}

func (u *ui) praticaPage(w http.ResponseWriter, r *http.Request) {
	a, id := actor(r), mux.Vars(r)["id"]
	c, err := u.d.Requests.Case(ctx(r), a, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	ms, err := u.d.Requests.Messages(ctx(r), a, id)
	if err != nil {
		u.fail(w, r, err)
		return
	}
	pay, _ := u.d.Requests.CasePayments(ctx(r), a, id)
	p := u.newPage(w, r, "rq.case_title")
	p.Data = praticaData{Case: c, Messages: ms, Pay: pay, Provider: requests.IsProvider(a), Next: requests.NextStates(c.State),
		AttachBase: "/pratiche/" + c.ID + "/allegati/"}
	u.render(w, r, p, "pratica", http.StatusOK)
}

func (u *ui) praticaPost(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "bad form", err))
		return
	}
	f, a, id := r.PostForm, actor(r), v["id"]
	back := "/pratiche/" + id
	var err error
	switch v["op"] {
	case "stato":
		_, err = u.d.Requests.Transition(ctx(r), a, id, requests.TransitionRequest{To: f.Get("to"), Reason: f.Get("reason")})
	case "pagamento":
		amount, _ := strconv.ParseFloat(strings.ReplaceAll(f.Get("amount"), ",", "."), 64)
		_, err = u.d.Requests.RecordPayment(ctx(r), a, id, requests.PaymentRequest{Amount: amount, Method: f.Get("method"), Link: f.Get("link")})
	}
	u.answered(w, r, err, back, "flash.rq_saved")
}
