package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// need returns the actor of a logged-in request, or writes 401.
func (s *Server) need(w http.ResponseWriter, r *http.Request) (auth.Actor, bool) {
	a, ok := Actor(r)
	if !ok {
		writeError(w, r, problem.ErrUnauthorized, s.d.Logger)
	}
	return a, ok
}

// needRole is need plus a role check; a refusal is audited.
func (s *Server) needRole(w http.ResponseWriter, r *http.Request, kind string, roles ...auth.Role) (auth.Actor, bool) {
	a, ok := s.need(w, r)
	if !ok {
		return a, false
	}
	for _, role := range roles {
		if a.Role == role {
			return a, true
		}
	}
	_ = s.d.Audit.Record(r.Context(), audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Denied, Kind: kind, Remote: a.Remote, Detail: r.Method + " " + routeOf(r)})
	writeError(w, r, problem.ErrForbidden, s.d.Logger)
	return a, false
}

func routeOf(r *http.Request) string {
	if rt := mux.CurrentRoute(r); rt != nil {
		if t, err := rt.GetPathTemplate(); err == nil {
			return t
		}
	}
	return "?"
}

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

func (s *Server) login(w http.ResponseWriter, r *http.Request) {
	var req LoginRequest
	if err := decode(w, r, &req); err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	tok, se, err := s.Login(r, req.Username, req.Password)
	if err != nil {
		if ra := auth.RetryAfter(err); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		writeError(w, r, err, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"token": tok, "expires": se.Expires, "role": se.Role})
}

// Login checks credentials, audits the attempt and returns a session token.
// The web UI's login form uses it too.
func (s *Server) Login(r *http.Request, username, password string) (string, *auth.Session, error) {
	remote := RemoteIP(r)
	tok, se, err := s.d.Auth.Login(r.Context(), username, password, remote)
	ev := audit.Event{Actor: username, Action: audit.Login, Kind: "session", Remote: remote}
	if len(ev.Actor) > 64 {
		ev.Actor = ev.Actor[:64]
	}
	switch {
	case errors.Is(err, auth.ErrRateLimited):
		ev.Action, ev.Detail = audit.Failed, "rate_limited"
		_ = s.d.Audit.Record(r.Context(), ev)
		p := problem.New(http.StatusTooManyRequests, "rate_limited", err.Error())
		p.Err = err // keeps the wait, for Retry-After
		return "", nil, p
	case errors.Is(err, auth.ErrBadCredentials):
		ev.Action = audit.Failed
		_ = s.d.Audit.Record(r.Context(), ev)
		return "", nil, problem.New(http.StatusUnauthorized, "bad_credentials", err.Error())
	case err != nil:
		return "", nil, err
	}
	ev.Role = string(se.Role)
	if err := s.d.Audit.Record(r.Context(), ev); err != nil {
		return "", nil, err
	}
	return tok, se, nil
}

// SetSessionCookie gives the browser its session.
func (s *Server) SetSessionCookie(w http.ResponseWriter, tok string, expires time.Time) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: tok, Path: "/", Expires: expires,
		HttpOnly: true, Secure: s.d.Secure, SameSite: http.SameSiteStrictMode})
}

// Logout ends the request's session and clears the cookie.
func (s *Server) Logout(w http.ResponseWriter, r *http.Request) {
	if tok := Token(r); tok != "" {
		_ = s.d.Auth.Logout(r.Context(), tok)
	}
	if a, ok := Actor(r); ok {
		_ = s.d.Audit.Record(r.Context(), audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Logout, Kind: "session", Remote: a.Remote})
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: s.d.Secure, SameSite: http.SameSiteStrictMode})
}

func (s *Server) logout(w http.ResponseWriter, r *http.Request) {
	s.Logout(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (s *Server) me(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.need(w, r); !ok {
		return
	}
	a := Account(r)
	writeJSON(w, http.StatusOK, accountDTO(*a))
}

func (s *Server) node(w http.ResponseWriter, r *http.Request) {
	info := s.d.Info()
	if info.Addrs == nil {
		info.Addrs = []string{}
	}
	writeJSON(w, http.StatusOK, info)
}

func (s *Server) taxonomy(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"terms": schema.Taxonomy()})
}

func (s *Server) municipalities(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query().Get("q")
	if len(q) > 100 {
		writeError(w, r, problem.BadRequest("bad_query", "query longer than 100 bytes", nil), s.d.Logger)
		return
	}
	limit := 10
	if q == "" {
		writeJSON(w, http.StatusOK, map[string]any{"results": []schema.Municipality{}})
		return
	}
	res := schema.SearchMunicipalities(q, limit)
	if res == nil {
		res = []schema.Municipality{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"results": res})
}

// Accounts.

// AccountDTO is an account as the API shows it: never the hash.
type AccountDTO struct {
	Username    string    `json:"username"`
	Role        auth.Role `json:"role"`
	DisplayName string    `json:"display_name,omitempty"`
	CaregiverID string    `json:"caregiver_id,omitempty"`
	Lang        string    `json:"lang,omitempty"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
}

func accountDTO(a auth.Account) AccountDTO {
	return AccountDTO{Username: a.Username, Role: a.Role, DisplayName: a.DisplayName, CaregiverID: a.CaregiverID, Lang: a.Lang, Disabled: a.Disabled, CreatedAt: a.CreatedAt}
}

// AccountRequest creates or changes an account.
type AccountRequest struct {
	Username    string    `json:"username"`
	Role        auth.Role `json:"role"`
	DisplayName string    `json:"display_name"`
	CaregiverID string    `json:"caregiver_id"`
	Lang        string    `json:"lang"`
	Disabled    bool      `json:"disabled"`
	Password    string    `json:"password"`
}

func (s *Server) listAccounts(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.needRole(w, r, "account", auth.Admin); !ok {
		return
	}
	out := []AccountDTO{}
	for _, a := range s.d.Auth.List() {
		out = append(out, accountDTO(a))
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": len(out), "items": out})
}

func (s *Server) getAccount(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.needRole(w, r, "account", auth.Admin); !ok {
		return
	}
	a, ok := s.d.Auth.Get(mux.Vars(r)["username"])
	if !ok {
		writeError(w, r, problem.ErrNotFound, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusOK, accountDTO(*a))
}

// AccountError maps account errors to problems.
func AccountError(err error) error {
	var weak *auth.PasswordError
	switch {
	case errors.Is(err, auth.ErrExists):
		return problem.Invalid(map[string]string{"username": "taken"})
	case errors.Is(err, auth.ErrBadUsername):
		return problem.Invalid(map[string]string{"username": "bad_username"})
	case errors.As(err, &weak):
		return problem.Invalid(map[string]string{"password": weak.Code})
	case errors.Is(err, auth.ErrBadRole):
		return problem.Invalid(map[string]string{"role": "bad_choice"})
	case errors.Is(err, auth.ErrNotFound):
		return problem.ErrNotFound
	}
	return err
}

func (s *Server) createAccount(w http.ResponseWriter, r *http.Request) {
	a, ok := s.needRole(w, r, "account", auth.Admin)
	if !ok {
		return
	}
	var req AccountRequest
	if err := decode(w, r, &req); err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	acc, err := s.CreateAccount(r.Context(), a, req)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusCreated, accountDTO(*acc))
}

// CreateAccount creates an account for an admin and audits it.
func (s *Server) CreateAccount(ctx context.Context, a auth.Actor, req AccountRequest) (*auth.Account, error) {
	acc, err := s.d.Auth.Create(ctx, auth.Account{Username: req.Username, Role: req.Role, DisplayName: req.DisplayName, CaregiverID: req.CaregiverID, Lang: req.Lang}, req.Password)
	if err != nil {
		return nil, AccountError(err)
	}
	return acc, s.d.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Create, Kind: "account", Object: acc.Username, Remote: a.Remote})
}

func (s *Server) updateAccount(w http.ResponseWriter, r *http.Request) {
	a, ok := s.needRole(w, r, "account", auth.Admin)
	if !ok {
		return
	}
	var req AccountRequest
	if err := decode(w, r, &req); err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	req.Username = mux.Vars(r)["username"]
	acc, err := s.UpdateAccount(r.Context(), a, req)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusOK, accountDTO(*acc))
}

// UpdateAccount changes an account for an admin and audits it. An admin
// cannot disable or demote their own account, so a node always keeps one.
func (s *Server) UpdateAccount(ctx context.Context, a auth.Actor, req AccountRequest) (*auth.Account, error) {
	if req.Username == a.Username && (req.Disabled || req.Role != auth.Admin) {
		return nil, problem.Invalid(map[string]string{"role": "cannot_demote_self"})
	}
	acc, err := s.d.Auth.Update(ctx, auth.Account{Username: req.Username, Role: req.Role, DisplayName: req.DisplayName, CaregiverID: req.CaregiverID, Lang: req.Lang, Disabled: req.Disabled}, req.Password)
	if err != nil {
		return nil, AccountError(err)
	}
	return acc, s.d.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Update, Kind: "account", Object: acc.Username, Remote: a.Remote})
}

// Private registry.

// listQuery reads ?q=&archived=&offset=&limit= strictly.
func listQuery(r *http.Request) (care.Query, error) {
	v := r.URL.Query()
	q := care.Query{Search: v.Get("q")}
	if len(q.Search) > 200 {
		return q, problem.BadRequest("bad_query", "q longer than 200 bytes", nil)
	}
	var err error
	num := func(name string, max int) int {
		s := v.Get(name)
		if s == "" || err != nil {
			return 0
		}
		n, e := strconv.Atoi(s)
		if e != nil || n < 0 || n > max {
			err = problem.BadRequest("bad_query", name+" must be a number between 0 and "+strconv.Itoa(max), nil)
		}
		return n
	}
	q.Offset = num("offset", 1_000_000)
	q.Limit = num("limit", 500)
	switch v.Get("archived") {
	case "", "0", "false":
	case "1", "true":
		q.Archived = true
	default:
		err = problem.BadRequest("bad_query", "archived must be true or false", nil)
	}
	return q, err
}

// endpoint is a JSON handler that needs a logged-in actor: 401 without a
// session, the problem's status when fn fails, status and fn's value
// otherwise.
func (s *Server) endpoint(status int, fn func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		a, ok := s.need(w, r)
		if !ok {
			return
		}
		out, err := fn(w, r, a)
		if err != nil {
			writeError(w, r, err, s.d.Logger)
			return
		}
		writeJSON(w, status, out)
	}
}

func registryRoutes[T any](
	v1 *mux.Router, name string,
	list func(context.Context, auth.Actor, care.Query) (store.RawPage, error),
	get func(context.Context, auth.Actor, string) (T, error),
	create func(context.Context, auth.Actor, T) (T, error),
	update func(context.Context, auth.Actor, string, T) (T, error),
	archive func(context.Context, auth.Actor, string) (T, error),
	s *Server,
) {
	v1.HandleFunc("/"+name, s.endpoint(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		q, err := listQuery(r)
		if err != nil {
			return nil, err
		}
		return list(r.Context(), a, q)
	})).Methods(http.MethodGet)
	v1.HandleFunc("/"+name, s.endpoint(http.StatusCreated, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var t T
		if err := decode(w, r, &t); err != nil {
			return nil, err
		}
		return create(r.Context(), a, t)
	})).Methods(http.MethodPost)
	v1.HandleFunc("/"+name+"/{id}", s.endpoint(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return get(r.Context(), a, mux.Vars(r)["id"])
	})).Methods(http.MethodGet)
	v1.HandleFunc("/"+name+"/{id}", s.endpoint(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		var t T
		if err := decode(w, r, &t); err != nil {
			return nil, err
		}
		return update(r.Context(), a, mux.Vars(r)["id"], t)
	})).Methods(http.MethodPut)
	v1.HandleFunc("/"+name+"/{id}", s.endpoint(http.StatusOK, func(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
		return archive(r.Context(), a, mux.Vars(r)["id"])
	})).Methods(http.MethodDelete)
}

// Own offerings.

func (s *Server) listOfferings(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	q, err := listQuery(r)
	if err != nil {
		return nil, err
	}
	return s.d.Own.ListJSON(r.Context(), a, q.Search, q.Archived, q.Offset, q.Limit)
}

func (s *Server) getOffering(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	return s.d.Own.Get(r.Context(), a, mux.Vars(r)["id"])
}

func (s *Server) createOffering(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	var o schema.Offering
	if err := decode(w, r, &o); err != nil {
		return nil, err
	}
	rec, err := s.d.Own.Create(r.Context(), a, o)
	if err != nil {
		return nil, err
	}
	return map[string]string{"id": rec.ID}, nil
}

func (s *Server) updateOffering(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	var o schema.Offering
	if err := decode(w, r, &o); err != nil {
		return nil, err
	}
	return s.d.Own.Update(r.Context(), a, mux.Vars(r)["id"], o)
}

func (s *Server) archiveOffering(w http.ResponseWriter, r *http.Request, a auth.Actor) (any, error) {
	return s.d.Own.Archive(r.Context(), a, mux.Vars(r)["id"])
}

// Audit.

func (s *Server) auditList(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.needRole(w, r, "audit", auth.Admin); !ok {
		return
	}
	v := r.URL.Query()
	f := audit.Filter{Kind: v.Get("kind"), Object: v.Get("object"), Actor: v.Get("actor")}
	if b := v.Get("before"); b != "" {
		n, err := strconv.ParseUint(b, 10, 64)
		if err != nil {
			writeError(w, r, problem.BadRequest("bad_query", "before must be a number", err), s.d.Logger)
			return
		}
		f.Before = n
	}
	if l := v.Get("limit"); l != "" {
		n, err := strconv.Atoi(l)
		if err != nil || n < 1 || n > 500 {
			writeError(w, r, problem.BadRequest("bad_query", "limit must be between 1 and 500", err), s.d.Logger)
			return
		}
		f.Limit = n
	}
	evs, err := s.d.Audit.Query(r.Context(), f)
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	if evs == nil {
		evs = []audit.Event{}
	}
	n, head := s.d.Audit.Head()
	writeJSON(w, http.StatusOK, map[string]any{"events": evs, "count": n, "head": head})
}

func (s *Server) auditVerify(w http.ResponseWriter, r *http.Request) {
	if _, ok := s.needRole(w, r, "audit", auth.Admin); !ok {
		return
	}
	n, err := s.d.Audit.Verify(r.Context())
	if errors.Is(err, audit.ErrBroken) {
		writeJSON(w, http.StatusOK, map[string]any{"ok": false, "checked": n, "error": err.Error()})
		return
	}
	if err != nil {
		writeError(w, r, err, s.d.Logger)
		return
	}
	writeJSON(w, http.StatusOK, map[string]any{"ok": true, "checked": n})
}
