package httpx

import (
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// Allow is the one role check of the node's HTTP surface, the JSON API's
// endpoints (Router.Role) and the web UI's pages alike: it returns the
// request's actor, problem.ErrUnauthorized without a session, or
// problem.ErrForbidden when roles are given and the actor's is not among
// them. A refusal is audited under kind (the route's first segment when
// empty) with the method and route template.
func Allow(r *http.Request, log *audit.Log, kind string, roles ...auth.Role) (auth.Actor, error) {
	a, ok := Actor(r)
	if !ok {
		return a, problem.ErrUnauthorized
	}
	if len(roles) > 0 && !slices.Contains(roles, a.Role) {
		route := routeOf(r)
		deny(r, log, a, kind, route)
		return a, problem.ErrForbidden
	}
	return a, nil
}

// deny audits the refusal of a's request on route.
func deny(r *http.Request, log *audit.Log, a auth.Actor, kind, route string) {
	if log == nil { // a page test without an audit log
		return
	}
	if kind == "" {
		kind = RouteKind(route)
	}
	_ = log.Record(r.Context(), audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Denied,
		Kind: kind, Remote: a.Remote, Detail: r.Method + " " + route})
}

// AuditRefusals makes sure every 403 answered to a logged-in request is in
// the audit log. A domain that refuses one of its records audits the
// refusal itself, with the record's id, and Allow audits role refusals;
// whatever answers 403 without either (a service's bare ErrForbidden, a
// page) is audited here, once, under the route's first segment, before the
// answer leaves. routes matches the request to its route template.
// Cross-origin refusals happen before the session is known and are not
// requests of an account. It must run inside the session middleware.
func AuditRefusals(next http.Handler, routes *mux.Router, log *audit.Log) http.Handler {
	if log == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		a, ok := Actor(r)
		if !ok {
			next.ServeHTTP(w, r)
			return
		}
		r = r.WithContext(audit.WatchDenials(r.Context()))
		cw := &codeWriter{ResponseWriter: w}
		next.ServeHTTP(cw, r)
		if cw.code == http.StatusForbidden && !audit.DeniedUnder(r.Context()) {
			route := "?"
			var m mux.RouteMatch
			if routes.Match(r, &m) && m.Route != nil {
				if t, err := m.Route.GetPathTemplate(); err == nil {
					route = t
				}
			}
			deny(r, log, a, "", route)
		}
	})
}

// RouteKind is the audit kind of a route template when its handler names
// none: its first segment after /api/v1 ("/api/v1/deliveries/{id}/retry"
// is "deliveries", "/accounts/new" is "accounts", "/" is "home").
func RouteKind(route string) string {
	rest := strings.TrimPrefix(strings.TrimPrefix(route, "/api/v1"), "/")
	seg, _, _ := strings.Cut(rest, "/")
	if seg == "" {
		return "home"
	}
	return seg
}

// codeWriter remembers the status of the answer.
type codeWriter struct {
	http.ResponseWriter
	code int
}

func (w *codeWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *codeWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *codeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
