package qualify

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// Services are the qualification services of a node; Coop and Authority
// are nil on a node without them (Authority: on every node but an
// authority's).
type Services struct {
	Service   *Service
	Coop      *Coop
	Authority *Authority
}

// Routes adds the qualification routes: on every node
// GET /api/v1/qualifications?subject=PEER_ID and the pinned authorities;
// the coop's applications; on an authority node the review routes and
// /.well-known/jwks.json. Nothing without a Service.
func (d Services) Routes(r *httpx.Router) {
	if d.Service == nil {
		return
	}
	v1 := r.API()
	v1.HandleFunc("/qualifications", r.Public(d.credentials)).Methods(http.MethodGet)
	v1.HandleFunc("/authorities", func(w http.ResponseWriter, r *http.Request) {
		keys := d.Service.Trust().Keys()
		for i := range keys {
			keys[i] = keys[i].Public()
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"keys": keys})
	}).Methods(http.MethodGet)
	if d.Coop != nil {
		coopRoutes(r, d.Coop)
	}
	if d.Authority != nil {
		authorityRoutes(r, d.Authority)
	}
}

func (d Services) credentials(w http.ResponseWriter, r *http.Request) error {
	subj := r.URL.Query().Get("subject")
	if _, err := schema.PublicKeyFromPeerID(subj); err != nil {
		return problem.BadRequest("bad_query", "subject must be a peer ID", err)
	}
	res := d.Service.Credentials(subj)
	if res == nil {
		res = []Result{}
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"subject": subj, "credentials": res})
	return nil
}

// applyRequest is the body of POST /api/v1/applications.
type applyRequest struct {
	ID             string                  `json:"id"`
	Authority      string                  `json:"authority"`
	AuthorityName  string                  `json:"authority_name"`
	Categories     []string                `json:"categories"`
	Municipalities []string                `json:"municipalities"`
	Description    string                  `json:"description"`
	Attachments    []federation.Attachment `json:"attachments"`
}

// coopRoutes are the coop's own applications to authorities.
func coopRoutes(r *httpx.Router, c *Coop) {
	v1 := r.API()
	v1.HandleFunc("/applications", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		apps, err := c.List(a)
		return httpx.Reply(w, http.StatusOK, map[string]any{"applications": apps}, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/applications", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in applyRequest
		if err := httpx.DecodeJSON(w, r, &in, httpx.MaxBody); err != nil {
			return err
		}
		app, err := c.Apply(r.Context(), a, in.Authority, in.AuthorityName, federation.ApplicationForm{
			ID: in.ID, Categories: in.Categories, Municipalities: in.Municipalities, Description: in.Description, Attachments: in.Attachments,
		})
		return httpx.Reply(w, http.StatusCreated, app, err)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/applications/refresh", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		if _, err := c.List(a); err != nil {
			return err
		}
		n, err := c.Refresh(r.Context())
		httpx.WriteJSON(w, http.StatusOK, map[string]any{"changed": n, "complete": err == nil})
		return nil
	})).Methods(http.MethodPost)
}

// decisionRequest is the body of POST .../decision.
type decisionRequest struct {
	Action         string    `json:"action"` // changes, approve, reject, revoke
	Message        string    `json:"message"`
	Categories     []string  `json:"categories"`
	Municipalities []string  `json:"municipalities"`
	ValidUntil     time.Time `json:"valid_until"`
}

// authorityRoutes are the authority's review of the applications it got,
// and its key set.
func authorityRoutes(r *httpx.Router, au *Authority) {
	r.Root().HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(au.JWKS())
	}).Methods(http.MethodGet)
	v1 := r.API()
	v1.HandleFunc("/authority/applications", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		apps, err := au.List(a)
		return httpx.Reply(w, http.StatusOK, map[string]any{"applications": apps}, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/authority/applications/{coop}/{id}", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		app, err := au.Get(a, appID(r))
		return httpx.Reply(w, http.StatusOK, app, err)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/authority/applications/{coop}/{id}/attachments/{n}", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		i, _ := strconv.Atoi(mux.Vars(r)["n"])
		info, b, err := au.Attachment(r.Context(), a, appID(r), i)
		if err != nil {
			return err
		}
		w.Header().Set("Content-Type", info.Type)
		w.Header().Set("Content-Disposition", "attachment")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
		return nil
	})).Methods(http.MethodGet)
	v1.HandleFunc("/authority/applications/{coop}/{id}/decision", r.Authed(func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		var in decisionRequest
		if err := httpx.DecodeJSON(w, r, &in, httpx.MaxBody); err != nil {
			return err
		}
		app, err := decide(r, au, a, in)
		return httpx.Reply(w, http.StatusOK, app, err)
	})).Methods(http.MethodPost)
}

// appID is the application id of a review route: COOP/ID.
func appID(r *http.Request) string {
	v := mux.Vars(r)
	return v["coop"] + "/" + v["id"]
}

func decide(r *http.Request, au *Authority, a auth.Actor, in decisionRequest) (Application, error) {
	id := appID(r)
	switch in.Action {
	case "changes":
		return au.AskChanges(r.Context(), a, id, in.Message)
	case "approve":
		return au.Approve(r.Context(), a, id, Decision{Categories: in.Categories, Municipalities: in.Municipalities, ValidUntil: in.ValidUntil})
	case "reject":
		return au.Reject(r.Context(), a, id, in.Message)
	case "revoke":
		return au.Revoke(r.Context(), a, id, in.Message)
	}
	return Application{}, problem.Invalid(map[string]string{"action": "unknown"})
}
