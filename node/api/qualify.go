package api

import (
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/schema"
)

// QualifyDeps are the qualification services; Authority is nil on a coop
// node.
type QualifyDeps struct {
	Service   *qualify.Service
	Coop      *qualify.Coop
	Authority *qualify.Authority
}

// MountQualify adds the qualification routes: on every node
// GET /api/v1/qualifications?subject=PEER_ID; the coop's applications;
// on an authority node the review routes and /.well-known/jwks.json.
func MountQualify(s *Server, d QualifyDeps) {
	if d.Service == nil {
		return
	}
	v1 := s.Router.PathPrefix("/api/v1").Subrouter()
	v1.HandleFunc("/qualifications", func(w http.ResponseWriter, r *http.Request) {
		subj := r.URL.Query().Get("subject")
		if _, err := schema.PublicKeyFromPeerID(subj); err != nil {
			writeError(w, r, problem.BadRequest("bad_query", "subject must be a peer ID", err), s.d.Logger)
			return
		}
		res := d.Service.Credentials(subj)
		if res == nil {
			res = []qualify.Result{}
		}
		writeJSON(w, http.StatusOK, map[string]any{"subject": subj, "credentials": res})
	}).Methods(http.MethodGet)
	v1.HandleFunc("/authorities", func(w http.ResponseWriter, r *http.Request) {
		keys := d.Service.Trust().Keys()
		for i := range keys {
			keys[i] = keys[i].Public()
		}
		writeJSON(w, http.StatusOK, map[string]any{"keys": keys})
	}).Methods(http.MethodGet)

	if d.Coop != nil {
		v1.HandleFunc("/applications", func(w http.ResponseWriter, r *http.Request) {
			actor, ok := s.need(w, r)
			if !ok {
				return
			}
			apps, err := d.Coop.List(actor)
			if err != nil {
				writeError(w, r, err, s.d.Logger)
				return
			}
			writeJSON(w, http.StatusOK, map[string]any{"applications": apps})
		}).Methods(http.MethodGet)
		v1.HandleFunc("/applications", func(w http.ResponseWriter, r *http.Request) {
			if _, ok := s.need(w, r); !ok {
				return
			}
			var in struct {
				ID             string                  `json:"id"`
				Authority      string                  `json:"authority"`
				AuthorityName  string                  `json:"authority_name"`
				Categories     []string                `json:"categories"`
				Municipalities []string                `json:"municipalities"`
				Description    string                  `json:"description"`
				Attachments    []federation.Attachment `json:"attachments"`
			}
			if err := decode(w, r, &in); err != nil {
				writeError(w, r, err, s.d.Logger)
				return
			}
			actor, _ := Actor(r)
			app, err := d.Coop.Apply(r.Context(), actor, in.Authority, in.AuthorityName, federation.ApplicationForm{
				ID: in.ID, Categories: in.Categories, Municipalities: in.Municipalities, Description: in.Description, Attachments: in.Attachments,
			})
			if err != nil {
				writeError(w, r, err, s.d.Logger)
				return
			}
			writeJSON(w, http.StatusCreated, app)
		}).Methods(http.MethodPost)
		v1.HandleFunc("/applications/refresh", func(w http.ResponseWriter, r *http.Request) {
			actor, ok := s.need(w, r)
			if !ok {
				return
			}
			if _, err := d.Coop.List(actor); err != nil {
				writeError(w, r, err, s.d.Logger)
				return
			}
			n, err := d.Coop.Refresh(r.Context())
			writeJSON(w, http.StatusOK, map[string]any{"changed": n, "complete": err == nil})
		}).Methods(http.MethodPost)
	}

	a := d.Authority
	if a == nil {
		return
	}
	s.Router.HandleFunc("/.well-known/jwks.json", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/jwk-set+json")
		w.Header().Set("Cache-Control", "max-age=300")
		_, _ = w.Write(a.JWKS())
	}).Methods(http.MethodGet)
	v1.HandleFunc("/authority/applications", func(w http.ResponseWriter, r *http.Request) {
		actor, ok := s.need(w, r)
		if !ok {
			return
		}
		apps, err := a.List(actor)
		if err != nil {
			writeError(w, r, err, s.d.Logger)
			return
		}
		writeJSON(w, http.StatusOK, map[string]any{"applications": apps})
	}).Methods(http.MethodGet)
	v1.HandleFunc("/authority/applications/{coop}/{id}", func(w http.ResponseWriter, r *http.Request) {
		actor, ok := s.need(w, r)
		if !ok {
			return
		}
		v := mux.Vars(r)
		app, err := a.Get(actor, v["coop"]+"/"+v["id"])
		if err != nil {
			writeError(w, r, err, s.d.Logger)
			return
		}
		writeJSON(w, http.StatusOK, app)
	}).Methods(http.MethodGet)
	v1.HandleFunc("/authority/applications/{coop}/{id}/attachments/{n}", func(w http.ResponseWriter, r *http.Request) {
		actor, ok := s.need(w, r)
		if !ok {
			return
		}
		v := mux.Vars(r)
		i, _ := strconv.Atoi(v["n"])
		info, b, err := a.Attachment(r.Context(), actor, v["coop"]+"/"+v["id"], i)
		if err != nil {
			writeError(w, r, err, s.d.Logger)
			return
		}
		w.Header().Set("Content-Type", info.Type)
		w.Header().Set("Content-Disposition", "attachment")
		w.Header().Set("X-Content-Type-Options", "nosniff")
		_, _ = w.Write(b)
	}).Methods(http.MethodGet)
	v1.HandleFunc("/authority/applications/{coop}/{id}/decision", func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.need(w, r); !ok {
			return
		}
		var in struct {
			Action         string    `json:"action"` // changes, approve, reject, revoke
			Message        string    `json:"message"`
			Categories     []string  `json:"categories"`
			Municipalities []string  `json:"municipalities"`
			ValidUntil     time.Time `json:"valid_until"`
		}
		if err := decode(w, r, &in); err != nil {
			writeError(w, r, err, s.d.Logger)
			return
		}
		actor, _ := Actor(r)
		v := mux.Vars(r)
		id := v["coop"] + "/" + v["id"]
		var app qualify.Application
		var err error
		switch in.Action {
		case "changes":
			app, err = a.AskChanges(r.Context(), actor, id, in.Message)
		case "approve":
			app, err = a.Approve(r.Context(), actor, id, qualify.Decision{Categories: in.Categories, Municipalities: in.Municipalities, ValidUntil: in.ValidUntil})
		case "reject":
			app, err = a.Reject(r.Context(), actor, id, in.Message)
		case "revoke":
			app, err = a.Revoke(r.Context(), actor, id, in.Message)
		default:
			err = problem.Invalid(map[string]string{"action": "unknown"})
		}
		if err != nil {
			writeError(w, r, err, s.d.Logger)
			return
		}
		writeJSON(w, http.StatusOK, app)
	}).Methods(http.MethodPost)
}
