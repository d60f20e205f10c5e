package authhttp

import (
	"net/http"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// API serves sessions and accounts under /api/v1.
type API struct {
	Accounts auth.Accounts
	// Secure marks cookies Secure (node served over TLS or behind a TLS proxy).
	Secure bool
}

// Routes adds the session and account routes.
func (x API) Routes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/login", r.Public(x.login)).Methods(http.MethodPost)
	v1.HandleFunc("/logout", x.logout).Methods(http.MethodPost)
	v1.HandleFunc("/me", r.Authed(x.me)).Methods(http.MethodGet)

	admin := func(h httpx.Endpoint) http.HandlerFunc { return r.Role("account", h, auth.Admin) }
	v1.HandleFunc("/accounts", admin(x.list)).Methods(http.MethodGet)
	v1.HandleFunc("/accounts", admin(x.create)).Methods(http.MethodPost)
	v1.HandleFunc("/accounts/{username}", admin(x.get)).Methods(http.MethodGet)
	v1.HandleFunc("/accounts/{username}", admin(x.update)).Methods(http.MethodPut)
}

func (x API) login(w http.ResponseWriter, r *http.Request) error {
	var req auth.LoginRequest
	if err := httpx.DecodeJSON(w, r, &req, httpx.MaxBody); err != nil {
		return err
	}
	tok, se, err := x.Accounts.Login(r.Context(), httpx.RemoteIP(r), req.Username, req.Password)
	if err != nil {
		if ra := auth.RetryAfter(err); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"token": tok, "expires": se.Expires, "role": se.Role})
	return nil
}

// SetSessionCookie gives the browser its session.
func (x API) SetSessionCookie(w http.ResponseWriter, tok string, expires time.Time) {
	httpx.SetSessionCookie(w, tok, expires, x.Secure)
}

// Logout ends the request's session, audits it and clears the cookie.
func (x API) Logout(w http.ResponseWriter, r *http.Request) {
	var actor *auth.Actor
	if a, ok := httpx.Actor(r); ok {
		actor = &a
	}
	x.Accounts.Logout(r.Context(), httpx.Token(r), actor)
	httpx.ClearSessionCookie(w, x.Secure)
}

func (x API) logout(w http.ResponseWriter, r *http.Request) {
	x.Logout(w, r)
	w.WriteHeader(http.StatusNoContent)
}

func (x API) me(w http.ResponseWriter, r *http.Request, _ auth.Actor) error {
	httpx.WriteJSON(w, http.StatusOK, accountDTO(*httpx.Account(r)))
	return nil
}

// AccountDTO is an account as the API shows it: never the hash.
type AccountDTO struct {
	Username    string    `json:"username"`
	Role        auth.Role `json:"role"`
	DisplayName string    `json:"display_name,omitempty"`
	CaregiverID string    `json:"caregiver_id,omitempty"`
	Lang        string    `json:"lang,omitempty"`
	Email       string    `json:"email,omitempty"`
	Disabled    bool      `json:"disabled"`
	CreatedAt   time.Time `json:"created_at"`
}

func accountDTO(a auth.Account) AccountDTO {
	return AccountDTO{Username: a.Username, Role: a.Role, DisplayName: a.DisplayName, CaregiverID: a.CaregiverID, Lang: a.Lang, Email: a.Email, Disabled: a.Disabled, CreatedAt: a.CreatedAt}
}

func (x API) list(w http.ResponseWriter, r *http.Request, _ auth.Actor) error {
	out := []AccountDTO{}
	for _, a := range x.Accounts.Auth.List() {
		out = append(out, accountDTO(a))
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"total": len(out), "items": out})
	return nil
}

func (x API) get(w http.ResponseWriter, r *http.Request, _ auth.Actor) error {
	a, ok := x.Accounts.Auth.Get(mux.Vars(r)["username"])
	if !ok {
		return problem.ErrNotFound
	}
	httpx.WriteJSON(w, http.StatusOK, accountDTO(*a))
	return nil
}

func (x API) create(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var req auth.AccountRequest
	if err := httpx.DecodeJSON(w, r, &req, httpx.MaxBody); err != nil {
		return err
	}
	acc, err := x.Accounts.Create(r.Context(), a, req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusCreated, accountDTO(*acc))
	return nil
}

func (x API) update(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var req auth.AccountRequest
	if err := httpx.DecodeJSON(w, r, &req, httpx.MaxBody); err != nil {
		return err
	}
	req.Username = mux.Vars(r)["username"]
	acc, err := x.Accounts.Update(r.Context(), a, req)
	if err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, accountDTO(*acc))
	return nil
}
