package httpx

import (
	"context"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/difronte/difronte/node/auth"
)

// SessionCookie names the browser session cookie.
const SessionCookie = "difronte_session"

type ctxKey int

const accountKey ctxKey = 0

// WithAccount returns ctx carrying the logged-in account of a request; the
// API's authentication middleware calls it.
func WithAccount(ctx context.Context, a *auth.Account) context.Context {
	return context.WithValue(ctx, accountKey, a)
}

// Account returns the logged-in account of a request, or nil.
func Account(r *http.Request) *auth.Account {
	a, _ := r.Context().Value(accountKey).(*auth.Account)
	return a
}

// Actor returns the domain actor of a logged-in request.
func Actor(r *http.Request) (auth.Actor, bool) {
	a := Account(r)
	if a == nil {
		return auth.Actor{}, false
	}
	return auth.Actor{Username: a.Username, Role: a.Role, CaregiverID: a.CaregiverID, Remote: RemoteIP(r), For: ActingFor(r)}, true
}

const actingKey ctxKey = 1

// WithActing marks the request as made in the "act for citizen" mode of
// its session (auth.Service.ActFor): the actor is the operator, For the
// citizen.
func WithActing(ctx context.Context, citizen string) context.Context {
	if citizen == "" {
		return ctx
	}
	return context.WithValue(ctx, actingKey, citizen)
}

// ActingFor is the citizen the request's session acts for, or "".
func ActingFor(r *http.Request) string {
	c, _ := r.Context().Value(actingKey).(string)
	return c
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

// SetSessionCookie gives the browser its session; secure marks it Secure
// (node served over TLS or behind a TLS proxy).
func SetSessionCookie(w http.ResponseWriter, tok string, expires time.Time, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: tok, Path: "/", Expires: expires,
		HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
}

// ClearSessionCookie makes the browser forget its session.
func ClearSessionCookie(w http.ResponseWriter, secure bool) {
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
}

// RemoteIP is the client address without port.
func RemoteIP(r *http.Request) string {
	h, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return h
}
