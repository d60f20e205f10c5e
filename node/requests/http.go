package requests

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
)

// maxBody bounds a JSON body: a message with a 2 MiB attachment in base64.
const maxBody = 3 << 20

// CaseKind is the query value (?kind=pratiche) that asks GET /api/v1/cases
// for pratiche when the caller is an admin, whose plain /api/v1/cases are
// the escalation cases. Citizens and case managers always get pratiche.
const CaseKind = "pratiche"

// ownsCases reports whether GET /api/v1/cases is this domain's for r.
func ownsCases(r *http.Request, _ *mux.RouteMatch) bool {
	if acc := httpx.Account(r); acc != nil && (acc.Role == auth.Citizen || acc.Role == auth.CaseManager || httpx.ActingFor(r) != "") {
		return true
	}
	return r.URL.Query().Get("kind") == CaseKind
}

// caseID is the case's path variable; isPratica keeps the routes to the
// ids of pratiche ("pr-..."), so that /api/v1/cases/{id} of an escalation
// case still reaches escalation.
const caseID = "{id}"

func isPratica(r *http.Request, _ *mux.RouteMatch) bool {
	rest, ok := strings.CutPrefix(r.URL.Path, "/api/v1/cases/")
	return ok && strings.HasPrefix(rest, "pr-")
}

// Routes adds the requests and cases routes. Register them before
// escalation's, which share /api/v1/cases.
func (s *Service) Routes(r *httpx.Router) {
	v1 := r.API()
	provider := []auth.Role{auth.Admin, auth.CaseManager}
	// A citizen, or an operator acting for one (ForCitizen).
	v1.HandleFunc("/requests", r.ForCitizen("request", func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in NewRequest
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		name := ""
		if acc := httpx.Account(r); acc != nil && a.For == "" {
			name = acc.DisplayName // acting for a citizen: Create sends theirs
		}
		req, err := s.Create(r.Context(), a, in, name)
		return httpx.Reply(w, http.StatusCreated, req, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/requests", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		off, lim := page(r)
		return s.RequestsPage(r.Context(), a, off, lim)
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/requests/{id}", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Get(r.Context(), a, mux.Vars(r)["id"])
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/requests/{id}/offers", r.Role("request", func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in NewOffer
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		o, err := s.MakeOffer(r.Context(), a, mux.Vars(r)["id"], in)
		return httpx.Reply(w, http.StatusCreated, o, err)
	}, provider...)).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/decline", r.Role("request", func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in struct {
			Reason string `json:"reason"`
		}
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		req, err := s.Decline(r.Context(), a, mux.Vars(r)["id"], in.Reason)
		return httpx.Reply(w, http.StatusOK, req, err)
	}, provider...)).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/accept", r.ForCitizen("request", func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in struct {
			Offer string `json:"offer"`
		}
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		c, err := s.Accept(r.Context(), a, mux.Vars(r)["id"], in.Offer)
		return httpx.Reply(w, http.StatusCreated, map[string]string{"case": c.ID}, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/requests/{id}/messages", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.RequestMessages(r.Context(), a, mux.Vars(r)["id"])
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/requests/{id}/messages", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in NewRequestMessage
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		m, err := s.SendRequestMessage(r.Context(), a, mux.Vars(r)["id"], in)
		return httpx.Reply(w, http.StatusCreated, m, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/demand", r.Role("demand", httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Demand(r.Context(), a)
	}), auth.Admin, auth.Officer)).Methods(http.MethodGet)
	s.caseRoutes(r)
}

func (s *Service) caseRoutes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/cases", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		off, lim := page(r)
		return s.CasesPage(r.Context(), a, off, lim)
	}))).Methods(http.MethodGet).MatcherFunc(ownsCases)
	v1.HandleFunc("/cases/"+caseID, r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Case(r.Context(), a, mux.Vars(r)["id"])
	}))).Methods(http.MethodGet).MatcherFunc(isPratica)
	v1.HandleFunc("/cases/"+caseID+"/transitions", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in TransitionRequest
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		c, err := s.Transition(r.Context(), a, mux.Vars(r)["id"], in)
		return httpx.Reply(w, http.StatusOK, c, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/"+caseID+"/messages", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.Messages(r.Context(), a, mux.Vars(r)["id"])
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/cases/"+caseID+"/messages", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in NewMessage
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		m, err := s.Send(r.Context(), a, mux.Vars(r)["id"], in)
		return httpx.Reply(w, http.StatusCreated, m, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/cases/"+caseID+"/payments", r.Authed(httpx.JSON(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return s.CasePayments(r.Context(), a, mux.Vars(r)["id"])
	}))).Methods(http.MethodGet)
	v1.HandleFunc("/cases/"+caseID+"/payments", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in PaymentRequest
		if err := httpx.DecodeJSON(w, r, &in, maxBody); err != nil {
			return err
		}
		p, err := s.RecordPayment(r.Context(), a, mux.Vars(r)["id"], in)
		return httpx.Reply(w, http.StatusCreated, p, err)
	})).Methods(http.MethodPost)
}

// page reads ?offset= and ?limit= (defaults 0 and DefaultLimit).
func page(r *http.Request) (offset, limit int) {
	offset, _ = strconv.Atoi(r.URL.Query().Get("offset"))
	limit, _ = strconv.Atoi(r.URL.Query().Get("limit"))
	return max(0, offset), limit
}
