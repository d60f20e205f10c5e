package httpx

import (
	"log/slog"
	"net/http"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// Routes is a domain's HTTP surface: it adds its routes to r. node/api's
// assembly calls it once for every domain, each with a Router of its own.
type Routes interface{ Routes(r *Router) }

// RoutesFunc lets a function be a domain's Routes.
type RoutesFunc func(r *Router)

// Routes calls f.
func (f RoutesFunc) Routes(r *Router) { f(r) }

// Router is where one domain registers its routes: the node's whole router
// for paths outside the JSON API (sockets, feeds, /hsds, /.well-known) and
// a /api/v1 subrouter of its own for the JSON API. It also holds what the
// endpoint wrappers need: the logger for server errors and the audit log
// that records refused roles.
type Router struct {
	root  *mux.Router
	v1    *mux.Router
	log   *slog.Logger
	audit *audit.Log
}

// NewRouter returns a Router on root for one domain. log may be nil (no
// error logs); audit may be nil only if the domain uses no role check.
func NewRouter(root *mux.Router, log *slog.Logger, audit *audit.Log) *Router {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Router{root: root, log: log, audit: audit}
}

// Root is the node's whole router.
func (rt *Router) Root() *mux.Router { return rt.root }

// API is the domain's subrouter under /api/v1. Every domain has its own,
// as each mounted its own before the routes moved into the domains, so a
// wrong method on a route answers as it always has.
func (rt *Router) API() *mux.Router {
	if rt.v1 == nil {
		rt.v1 = rt.root.PathPrefix("/api/v1").Subrouter()
	}
	return rt.v1
}

// Error answers err as the error body, logging a server error.
func (rt *Router) Error(w http.ResponseWriter, r *http.Request, err error) {
	WriteError(w, r, err, rt.log)
}

// Endpoint answers the request of a logged-in actor: it writes the answer
// itself, or returns an error that becomes the error body.
type Endpoint func(w http.ResponseWriter, r *http.Request, a auth.Actor) error

// Public answers a request that needs no account, like Endpoint.
type Public func(w http.ResponseWriter, r *http.Request) error

// Authed lets only logged-in requests through to h: 401 without a
// session; h's error becomes the error body (logged when a server error).
func (rt *Router) Authed(h Endpoint) http.HandlerFunc {
	return rt.Role("", h)
}

// Role is Authed that also lets only the given roles through (Allow): any
// other role gets 403, and the refusal is audited under kind with the
// method and route template. Without roles it is Authed.
func (rt *Router) Role(kind string, h Endpoint, roles ...auth.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := Allow(r, rt.audit, kind, roles...)
		if err != nil {
			rt.Error(w, r, err)
			return
		}
		if err := h(w, r, a); err != nil {
			rt.Error(w, r, err)
		}
	}
}

// Public wraps a handler that needs no account: its error becomes the
// error body.
// ForCitizen wraps an endpoint that works on a citizen's own data: a
// citizen for themselves, or an operator or admin in the "act for citizen"
// mode of their session. The endpoint sees both: a.Username and a.Role
// are who acts, a.Citizen() whose data it is, and a.Event(...) records
// "X for citizen Y". Anyone else is refused (403, audited).
func (rt *Router) ForCitizen(kind string, h Endpoint) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, err := Allow(r, rt.audit, kind)
		if err == nil && a.Citizen() == "" {
			deny(r, rt.audit, a, kind, routeOf(r))
			err = problem.New(http.StatusForbidden, "not_acting_for_citizen", "log in as a citizen, or act for one")
		}
		if err != nil {
			rt.Error(w, r, err)
			return
		}
		if err := h(w, r, a); err != nil {
			rt.Error(w, r, err)
		}
	}
}

func (rt *Router) Public(h Public) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if err := h(w, r); err != nil {
			rt.Error(w, r, err)
		}
	}
}

// JSON is an Endpoint that answers fn's value with status.
func JSON(status int, fn func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error)) Endpoint {
	return func(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
		v, err := fn(w, r, a)
		return Reply(w, status, v, err)
	}
}

// Reply answers v with code unless err is set, which it returns for the
// wrapper to answer.
func Reply(w http.ResponseWriter, code int, v any, err error) error {
	if err != nil {
		return err
	}
	WriteJSON(w, code, v)
	return nil
}

func routeOf(r *http.Request) string {
	if rt := mux.CurrentRoute(r); rt != nil {
		if t, err := rt.GetPathTemplate(); err == nil {
			return t
		}
	}
	return "?"
}
