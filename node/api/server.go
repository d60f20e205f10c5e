package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalog"
	"github.com/difronte/difronte/node/problem"
)

// MaxBody is the largest request body the API reads.
const MaxBody = 1 << 20

// SessionCookie names the browser session cookie.
const SessionCookie = "difronte_session"

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
	Care  *care.Service
	Own   *catalog.Own
	Audit *audit.Log
	Info  func() NodeInfo
	Ready func(context.Context) error
	// Federation is nil on a node run without federation.
	Federation Federation
	Metrics    *prometheus.Registry
	Logger     *slog.Logger
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

// Handler returns the whole HTTP handler with middleware.
func (s *Server) Handler() http.Handler {
	var h http.Handler = s.Router
	h = s.authenticate(h)
	h = http.NewCrossOriginProtection().Handler(h)
	h = securityHeaders(h)
	h = s.observe(h)
	return h
}

func (s *Server) routes() {
	r := s.Router
	r.NotFoundHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasPrefix(r.URL.Path, "/api/") {
			if allow := s.allowed(r); len(allow) > 0 {
				w.Header().Set("Allow", strings.Join(allow, ", "))
				writeError(w, r, problem.New(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"), s.d.Logger)
				return
			}
			writeError(w, r, problem.ErrNotFound, s.d.Logger)
			return
		}
		http.NotFound(w, r)
	})
	r.MethodNotAllowedHandler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeError(w, r, problem.New(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed"), s.d.Logger)
	})
	r.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
	}).Methods(http.MethodGet).Name("healthz")
	r.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		if s.d.Ready != nil {
			if err := s.d.Ready(r.Context()); err != nil {
				writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "unavailable"})
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
	}).Methods(http.MethodGet).Name("readyz")
	if s.d.Metrics != nil {
		r.Handle("/metrics", promhttp.HandlerFor(s.d.Metrics, promhttp.HandlerOpts{})).Methods(http.MethodGet).Name("metrics")
	}

	v1 := r.PathPrefix("/api/v1").Subrouter()
	v1.HandleFunc("/login", s.login).Methods(http.MethodPost)
	v1.HandleFunc("/logout", s.logout).Methods(http.MethodPost)
	v1.HandleFunc("/me", s.me).Methods(http.MethodGet)
	v1.HandleFunc("/node", s.node).Methods(http.MethodGet)
	v1.HandleFunc("/taxonomy", s.taxonomy).Methods(http.MethodGet)
	v1.HandleFunc("/municipalities", s.municipalities).Methods(http.MethodGet)

	v1.HandleFunc("/accounts", s.listAccounts).Methods(http.MethodGet)
	v1.HandleFunc("/accounts", s.createAccount).Methods(http.MethodPost)
	v1.HandleFunc("/accounts/{username}", s.getAccount).Methods(http.MethodGet)
	v1.HandleFunc("/accounts/{username}", s.updateAccount).Methods(http.MethodPut)

	registryRoutes(v1, "beneficiaries", s.d.Care.ListBeneficiariesJSON, s.d.Care.Beneficiary, s.d.Care.CreateBeneficiary, s.d.Care.UpdateBeneficiary, s.d.Care.ArchiveBeneficiary, s)
	registryRoutes(v1, "caregivers", s.d.Care.ListCaregiversJSON, s.d.Care.Caregiver, s.d.Care.CreateCaregiver, s.d.Care.UpdateCaregiver, s.d.Care.ArchiveCaregiver, s)
	registryRoutes(v1, "terminals", s.d.Care.ListTerminalsJSON, s.d.Care.Terminal, s.d.Care.CreateTerminal, s.d.Care.UpdateTerminal, s.d.Care.ArchiveTerminal, s)

	v1.HandleFunc("/offerings", s.endpoint(http.StatusOK, s.listOfferings)).Methods(http.MethodGet)
	v1.HandleFunc("/offerings", s.endpoint(http.StatusCreated, s.createOffering)).Methods(http.MethodPost)
	v1.HandleFunc("/offerings/{id}", s.endpoint(http.StatusOK, s.getOffering)).Methods(http.MethodGet)
	v1.HandleFunc("/offerings/{id}", s.endpoint(http.StatusOK, s.updateOffering)).Methods(http.MethodPut)
	v1.HandleFunc("/offerings/{id}", s.endpoint(http.StatusOK, s.archiveOffering)).Methods(http.MethodDelete)

	v1.HandleFunc("/audit", s.auditList).Methods(http.MethodGet)
	v1.HandleFunc("/audit/verify", s.auditVerify).Methods(http.MethodGet)
	s.federationRoutes()
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
		start := time.Now()
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
					writeError(sw, r, errors.New("panic"), s.d.Logger)
				}
			}
			s.reqs.WithLabelValues(route, r.Method, strconv.Itoa(sw.code)).Inc()
			s.latency.WithLabelValues(route).Observe(time.Since(start).Seconds())
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
// and the usual hardening headers on every answer.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Cross-Origin-Opener-Policy", "same-origin")
		h.Set("Permissions-Policy", "camera=(self), microphone=(self), geolocation=()")
		next.ServeHTTP(w, r)
	})
}

type ctxKey int

const actorKey ctxKey = 0

// authenticate resolves the session cookie or bearer token, if any, into an
// account on the request context. Handlers decide whether one is needed.
func (s *Server) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok := Token(r)
		if tok != "" {
			if a, err := s.d.Auth.Authenticate(tok); err == nil {
				r = r.WithContext(context.WithValue(r.Context(), actorKey, a))
			}
		}
		next.ServeHTTP(w, r)
	})
}

// Token returns the session token of a request: bearer header first, then cookie.
func Token(r *http.Request) string {
	if h := r.Header.Get("Authorization"); h != "" {
		if t, ok := strings.CutPrefix(h, "Bearer "); ok {
			return strings.TrimSpace(t)
		}
		return ""
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return c.Value
	}
	return ""
}

// Account returns the logged-in account of a request, or nil.
func Account(r *http.Request) *auth.Account {
	a, _ := r.Context().Value(actorKey).(*auth.Account)
	return a
}

// Actor returns the domain actor of a logged-in request.
func Actor(r *http.Request) (auth.Actor, bool) {
	a := Account(r)
	if a == nil {
		return auth.Actor{}, false
	}
	return auth.Actor{Username: a.Username, Role: a.Role, CaregiverID: a.CaregiverID, Remote: RemoteIP(r)}, true
}

// RemoteIP is the client address without port.
func RemoteIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}

// decode reads one JSON value from the body strictly: size limit, unknown
// fields refused, no trailing data.
func decode(w http.ResponseWriter, r *http.Request, v any) error {
	return DecodeJSON(w, r, v, MaxBody)
}

// DecodeJSON reads one JSON value from the body strictly: Content-Type
// checked, at most limit bytes (413 past it), unknown fields refused, no
// trailing data. Every JSON handler of the node reads its body with it.
func DecodeJSON(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return problem.New(http.StatusUnsupportedMediaType, "unsupported_media_type", "send application/json")
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		var mbe *http.MaxBytesError
		var ute *json.UnmarshalTypeError
		var se *json.SyntaxError
		switch {
		case errors.As(err, &mbe):
			return problem.New(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body larger than %d bytes", limit))
		case errors.As(err, &ute):
			return problem.BadRequest("bad_json", fmt.Sprintf("field %q has the wrong type: want %s", ute.Field, ute.Type), err)
		case errors.As(err, &se):
			return problem.BadRequest("bad_json", fmt.Sprintf("malformed JSON at byte %d", se.Offset), err)
		case errors.Is(err, io.EOF):
			return problem.BadRequest("bad_json", "empty body", err)
		case strings.HasPrefix(err.Error(), "json: unknown field"):
			return problem.BadRequest("unknown_field", strings.TrimPrefix(err.Error(), "json: "), err)
		default:
			return problem.BadRequest("bad_json", "malformed JSON", err)
		}
	}
	if dec.More() {
		return problem.BadRequest("bad_json", "trailing data after the JSON value", nil)
	}
	if _, err := io.Copy(io.Discard, io.LimitReader(r.Body, 1)); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return problem.New(http.StatusRequestEntityTooLarge, "too_large", fmt.Sprintf("body larger than %d bytes", limit))
		}
	}
	return nil
}

// WriteJSON writes v as a JSON answer that is never cached.
func WriteJSON(w http.ResponseWriter, code int, v any) { writeJSON(w, code, v) }

// jsonAppender is an answer that encodes itself (store.RawPage: records'
// kept encodings), written as is instead of through reflection.
type jsonAppender interface{ AppendJSON([]byte) []byte }

var answerBufs = sync.Pool{New: func() any { return new([]byte) }}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if a, ok := v.(jsonAppender); ok {
		bp := answerBufs.Get().(*[]byte)
		b := append(a.AppendJSON((*bp)[:0]), '\n')
		w.Header().Set("Content-Length", strconv.Itoa(len(b)))
		w.WriteHeader(code)
		_, _ = w.Write(b)
		if cap(b) <= 1<<20 { // do not keep a rare huge answer's buffer
			*bp = b
			answerBufs.Put(bp)
		}
		return
	}
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(true)
	_ = enc.Encode(v)
}

// ErrorBody is the JSON body of every API error.
type ErrorBody struct {
	Error  string            `json:"error"`
	Code   string            `json:"code"`
	Fields map[string]string `json:"fields,omitempty"`
}

func writeError(w http.ResponseWriter, r *http.Request, err error, log *slog.Logger) {
	p := problem.As(err)
	if p.Status >= 500 {
		log.Error("request failed", "component", "http", "method", r.Method, "err", err)
	}
	writeJSON(w, p.Status, ErrorBody{Error: p.Message, Code: p.Code, Fields: p.Fields})
}
