package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// NodeInfo is the public description of the node.
type NodeInfo struct {
	PeerID    string    `json:"peer_id"`
	CoopName  string    `json:"coop_name"`
	Version   string    `json:"version"`
	Commit    string    `json:"commit,omitempty"`
	StartedAt time.Time `json:"started_at"`
	Addrs     []string  `json:"addrs"`
}

// Deps are what the API serves.
type Deps struct {
	Auth  *auth.Service
	Audit *audit.Log
	Info  func() NodeInfo
	Ready func(context.Context) error
	// Domains add their routes through httpx, in this order, after the
	// API's own (node info, sessions and accounts, audit log).
	Domains []httpx.Routes
	Metrics *prometheus.Registry
	Logger  *slog.Logger
	// Secure marks cookies Secure (node served over TLS or behind a TLS proxy).
	Secure bool
}

// Server routes every HTTP request of the node.
type Server struct {
	d       Deps
	Router  *mux.Router
	reqs    *prometheus.CounterVec
	latency *prometheus.HistogramVec
}

// New builds the router with the API routes. The web UI adds its own.
func New(d Deps) *Server {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{d: d, Router: mux.NewRouter()}
	s.reqs = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "difronte_http_requests_total", Help: "HTTP requests by route template, method and status code.",
	}, []string{"route", "method", "code"})
	s.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "difronte_http_request_duration_seconds", Help: "HTTP request latency by route template.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, 1},
	}, []string{"route"})
	if d.Metrics != nil {
		d.Metrics.MustRegister(s.reqs, s.latency)
	}
	s.routes()
	return s
}

// Info is the node's public description, if the server was given one;
// the web UI shows it.
func (s *Server) Info() (NodeInfo, bool) {
	if s.d.Info == nil {
		return NodeInfo{}, false
	}
	return s.d.Info(), true
}

// Handler returns the whole HTTP handler with middleware.
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.Router
	h = httpx.AuditRefusals(h, s.Router, s.d.Audit)
	h = s.authenticate(h)
	h = http.NewCrossOriginProtection().Handler(h)
	h = securityHeaders(h, s.d.Secure)
	h = s.observe(h)
	return h
}

func (s *Server) routes() {
	r := s.Router
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if allow := s.allowed(r); len(allow) > 0 {
				w.Header().Set("Allow", strings.Join(allow, ", "))
				s.writeError(w, r, problem.New(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"))
				return
			}
			s.writeError(w, r, problem.ErrNotFound)
			return
		}
		http.NotFound(w, r)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, problem.New(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"))
	})
	r.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet).Name("healthz")
	r.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.d.Ready != nil {
			if err := s.d.Ready(r.Context()); err != nil {
				httpx.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
				return
			}
		}
		httpx.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}).Methods(http.MethodGet).Name("readyz")
	if s.d.Metrics != nil {
		r.Handle("/metrics", promhttp.HandlerFor(s.d.Metrics, promhttp.HandlerOpts{})).Methods(http.MethodGet).Name("metrics")
	}
	groups := append([]httpx.Routes{httpx.RoutesFunc(s.nodeRoutes), s.sessions(), httpx.RoutesFunc(s.auditRoutes)}, s.d.Domains...)
	for _, g := range groups {
		g.Routes(httpx.NewRouter(r, s.d.Logger, s.d.Audit))
	}
}

// allowed returns the methods the routes matching r's path accept. gorilla/mux
// reports a wrong method on a subrouter's route as "not found" (the
// subrouter's inherited prefix matcher clears the method mismatch), so the
// not-found handler asks this to answer 405 instead of 404.
func (s *Server) allowed(r *http.Request) []string {
	var out []string
	_ = s.Router.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		ms, err := rt.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range ms {
			probe := r.Clone(r.Context())
			probe.Method = m
			var rm mux.RouteMatch
			if rt.Match(probe, &rm) && rm.MatchErr == nil && !slices.Contains(out, m) {
				out = append(out, m)
			}
		}
		return nil
	})
	return out
}

// observe counts and times requests by route template (never by path, which
// may hold record ids), and turns panics into a logged 500.
func (s *Server) observe(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		took := clock.Start()
		sw := &statusWriter{ResponseWriter: w, code: http.StatusOK}
		route := "unmatched"
		var m mux.RouteMatch
		if s.Router.Match(r, &m) && m.Route != nil {
			if t, err := m.Route.GetPathTemplate(); err == nil {
				route = t
			}
		}
		defer func() {
			if p := recover(); p != nil {
				if p == http.ErrAbortHandler {
					panic(p)
				}
				s.d.Logger.Error("panic serving request", "component", "http", "route", route, "panic", fmt.Sprint(p))
				if !sw.wrote {
					s.writeError(sw, r, errors.New("panic"))
				}
			}
			s.reqs.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Inc()
			s.latency.WithLabelValues(route).Observe(took.Elapsed().Seconds())
		}()
		next.ServeHTTP(sw, r)
	})
}

type statusWriter struct {
	http.ResponseWriter
	code  int
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.wrote {
		w.code, w.wrote = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// securityHeaders sets a strict CSP (no inline script or style, no framing)
// and the usual hardening headers on every answer, and HSTS when the node
// is served over TLS (secure: its cookies are Secure), so that a browser
// never sends the session over plain HTTP again.
func securityHeaders(next http.Handler, secure bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		if secure {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

// authenticate resolves the session cookie or bearer token, if any, into an
// account on the request context. Handlers decide whether one is needed.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := httpx.Token(r)
		if tok != "" {
			if a, acting, err := s.d.Auth.AuthenticateSession(tok); err == nil {
				r = r.WithContext(httpx.WithActing(httpx.WithAccount(r.Context(), a), acting))
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	httpx.WriteError(w, r, err, s.d.Logger)
}
