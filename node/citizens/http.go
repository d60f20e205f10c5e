package citizens

import (
	"net/http"
	"net/url"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

// API serves the citizens' routes; Secure marks the cookies it sets.
type API struct {
	*Service
	Secure bool
}

// Routes adds the citizens' routes (docs/api.md, "Citizens").
func (x API) Routes(r *httpx.Router) {
	v1 := r.API()
	v1.HandleFunc("/citizens/signup", r.Public(x.signup)).Methods(http.MethodPost)
	v1.HandleFunc("/citizens/verify", r.Public(x.verify)).Methods(http.MethodPost)
	op := func(h httpx.Endpoint) http.HandlerFunc { return r.Role("citizen", h, auth.Operator) }
	v1.HandleFunc("/citizens", op(x.register)).Methods(http.MethodPost)
	v1.HandleFunc("/citizens", op(x.assisted)).Methods(http.MethodGet)
	v1.HandleFunc("/acting", op(x.actFor)).Methods(http.MethodPut)
	v1.HandleFunc("/acting", op(x.stopActing)).Methods(http.MethodDelete)
	me := func(h httpx.Endpoint) http.HandlerFunc { return r.ForCitizen("citizen", h) }
	v1.HandleFunc("/me/citizen", me(x.profile)).Methods(http.MethodGet)
	v1.HandleFunc("/me/citizen", me(x.updateProfile)).Methods(http.MethodPut)
	v1.HandleFunc("/me/citizen", me(x.delete)).Methods(http.MethodDelete)
	v1.HandleFunc("/me/activity", me(x.activity)).Methods(http.MethodGet)
	v1.HandleFunc("/me/export", me(x.export)).Methods(http.MethodGet)
	root := r.Root()
	root.HandleFunc(OIDCLoginPath, x.oidcLogin).Methods(http.MethodGet)
	root.HandleFunc(OIDCCallbackPath, x.oidcCallback).Methods(http.MethodGet)
}

// SignupAnswer is the answer to a sign-up: the account is "active" at
// once (no mail server) or "pending" until the e-mailed link is opened.
type SignupAnswer struct {
	Username     string `json:"username"`
	State        string `json:"state"`
	Verification string `json:"verification"` // "email_sent" or "none"
	Message      string `json:"message"`
}

func (x API) signup(w http.ResponseWriter, r *http.Request) error {
	var req SignupRequest
	if err := httpx.DecodeJSON(w, r, &req, 64<<10); err != nil {
		return err
	}
	c, err := x.Signup(r.Context(), httpx.RemoteIP(r), req)
	if err != nil {
		if ra := auth.RetryAfter(err); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		return err
	}
	ans := SignupAnswer{Username: c.Username, State: c.State, Verification: "none", Message: "account active: no e-mail verification on this node, log in now"}
	if c.State == Pending {
		ans.Verification, ans.Message = "email_sent", "open the link sent to your e-mail to activate the account"
	}
	httpx.WriteJSON(w, http.StatusCreated, ans)
	return nil
}

func (x API) verify(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Token string `json:"token"`
	}
	if err := httpx.DecodeJSON(w, r, &req, 4<<10); err != nil {
		return err
	}
	c, err := x.Verify(r.Context(), httpx.RemoteIP(r), req.Token)
	return httpx.Reply(w, http.StatusOK, map[string]string{"username": c.Username, "state": c.State}, err)
}

func (x API) register(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var req RegisterRequest
	if err := httpx.DecodeJSON(w, r, &req, 64<<10); err != nil {
		return err
	}
	c, err := x.Register(r.Context(), a, req)
	return httpx.Reply(w, http.StatusCreated, map[string]any{"username": c.Username, "state": c.State, "consent": c.Consent}, err)
}

// AssistedDTO is an assisted citizen as an operator sees them in a list.
type AssistedDTO struct {
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Consent     *Consent  `json:"consent"`
	CreatedAt   time.Time `json:"created_at"`
}

// AssistedList returns the assisted citizens with their names (audited).
func (s *Service) AssistedList(a auth.Actor) []AssistedDTO {
	out := []AssistedDTO{}
	for _, c := range s.Assisted() {
		d := AssistedDTO{Username: c.Username, Consent: c.Consent, CreatedAt: c.CreatedAt}
		if acc, ok := s.cfg.Auth.Get(c.Username); ok {
			d.DisplayName = acc.DisplayName
		}
		out = append(out, d)
	}
	s.cfg.Audit.Note(a.Event(audit.List, "citizen", ""))
	return out
}

func (x API) assisted(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	out := x.AssistedList(a)
	httpx.WriteJSON(w, http.StatusOK, map[string]any{"total": len(out), "items": out})
	return nil
}

func (x API) actFor(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var req struct {
		Citizen string `json:"citizen"`
	}
	if err := httpx.DecodeJSON(w, r, &req, 4<<10); err != nil {
		return err
	}
	if req.Citizen == "" {
		return problem.Invalid(map[string]string{"citizen": "required"})
	}
	if err := x.ActFor(r.Context(), a, httpx.Token(r), req.Citizen); err != nil {
		return err
	}
	httpx.WriteJSON(w, http.StatusOK, map[string]string{"acting_for": req.Citizen})
	return nil
}

func (x API) stopActing(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := x.ActFor(r.Context(), a, httpx.Token(r), ""); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (x API) profile(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	p, err := x.Profile(r.Context(), a)
	return httpx.Reply(w, http.StatusOK, p, err)
}

func (x API) updateProfile(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	var req ProfileRequest
	if err := httpx.DecodeJSON(w, r, &req, 64<<10); err != nil {
		return err
	}
	p, err := x.UpdateProfile(r.Context(), a, req)
	return httpx.Reply(w, http.StatusOK, p, err)
}

func (x API) activity(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	act, err := x.Activity(r.Context(), a)
	return httpx.Reply(w, http.StatusOK, map[string]any{"items": act}, err)
}

func (x API) export(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	e, err := x.Export(r.Context(), a)
	if err != nil {
		return err
	}
	w.Header().Set("Content-Disposition", `attachment; filename="`+e.Profile.Username+`-export.json"`)
	httpx.WriteJSON(w, http.StatusOK, e)
	return nil
}

func (x API) delete(w http.ResponseWriter, r *http.Request, a auth.Actor) error {
	if err := x.Delete(r.Context(), a); err != nil {
		return err
	}
	if a.For == "" {
		httpx.ClearSessionCookie(w, x.Secure)
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (x API) oidcLogin(w http.ResponseWriter, r *http.Request) {
	to, state, err := x.OIDCStart(r.Context())
	if err != nil {
		http.Redirect(w, r, "/login?oidc=failed", http.StatusSeeOther)
		return
	}
	// Lax, not Strict: the provider's redirect back is a cross-site
	// top-level navigation, which must carry the cookie.
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: state, Path: OIDCCallbackPath, MaxAge: 600,
		HttpOnly: true, Secure: x.Secure, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, to, http.StatusFound)
}

func (x API) oidcCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	var cookie string
	if c, err := r.Cookie(oidcCookie); err == nil {
		cookie = c.Value
	}
	http.SetCookie(w, &http.Cookie{Name: oidcCookie, Value: "", Path: OIDCCallbackPath, MaxAge: -1, HttpOnly: true, Secure: x.Secure, SameSite: http.SameSiteLaxMode})
	tok, se, err := x.OIDCFinish(r.Context(), httpx.RemoteIP(r), cookie, q.Get("state"), q.Get("code"))
	if err != nil {
		x.cfg.Logger.Info("oidc login refused", "component", "citizens", "err", err)
		http.Redirect(w, r, "/login?oidc=failed", http.StatusSeeOther)
		return
	}
	httpx.SetSessionCookie(w, tok, se.Expires, x.Secure)
	http.Redirect(w, r, "/area-personale", http.StatusSeeOther)
}

// verifyURL is the link a verification e-mail carries.
func verifyURL(base, tok string) string {
	return base + VerifyPath + "?token=" + url.QueryEscape(tok)
}
