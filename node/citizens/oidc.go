package citizens

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"golang.org/x/oauth2"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
)

// OIDCConfig is the OpenID Connect provider the node lets citizens log in
// with (Italy's SPID and CIE gateways speak OIDC).
type OIDCConfig struct {
	Issuer       string
	ClientID     string
	ClientSecret string
	RedirectURL  string // the node's /auth/oidc/callback, as registered at the provider
	// FiscalCodeClaim names the claim holding the fiscal code (default
	// "fiscal_number", SPID's); kept private on the citizen's record.
	FiscalCodeClaim string
	// HTTPClient talks to the provider (default: http.DefaultClient).
	HTTPClient *http.Client
}

// Paths of the OIDC login.
const (
	OIDCLoginPath    = "/auth/oidc/login"
	OIDCCallbackPath = "/auth/oidc/callback"
	oidcCookie       = "difronte_oidc"
)

// oidcLogin is the OpenID Connect side of the service. The provider is
// discovered at the first login, not at start: a provider that is down
// must not keep the node from starting.
type oidcLogin struct {
	cfg OIDCConfig

	mu       sync.Mutex
	provider *oidc.Provider
	pending  map[string]oidcState // by state; each is used once
}

type oidcState struct {
	nonce, verifier string
	expires         time.Time
}

const maxPendingStates = 10000

// EnableOIDC configures the OpenID Connect login.
func (s *Service) EnableOIDC(cfg OIDCConfig) error {
	if cfg.Issuer == "" || cfg.ClientID == "" || cfg.RedirectURL == "" {
		return errors.New("oidc: issuer, client id and redirect URL required")
	}
	if cfg.FiscalCodeClaim == "" {
		cfg.FiscalCodeClaim = "fiscal_number"
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = http.DefaultClient
	}
	s.oidc = &oidcLogin{cfg: cfg, pending: map[string]oidcState{}}
	return nil
}

// OIDCEnabled reports whether citizens may log in through a provider.
func (s *Service) OIDCEnabled() bool { return s.oidc != nil }

func (o *oidcLogin) setup(ctx context.Context) (*oidc.Provider, *oauth2.Config, error) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.provider == nil {
		p, err := oidc.NewProvider(oidc.ClientContext(ctx, o.cfg.HTTPClient), o.cfg.Issuer)
		if err != nil {
			return nil, nil, fmt.Errorf("oidc discovery: %w", err)
		}
		o.provider = p
	}
	oc := &oauth2.Config{ClientID: o.cfg.ClientID, ClientSecret: o.cfg.ClientSecret, RedirectURL: o.cfg.RedirectURL,
		Endpoint: o.provider.Endpoint(), Scopes: []string{oidc.ScopeOpenID, "profile", "email"}}
	return o.provider, oc, nil
}

// OIDCStart begins a login: it returns the provider's URL to send the
// browser to, and the state to keep in the browser's cookie.
func (s *Service) OIDCStart(ctx context.Context) (to, state string, err error) {
	if s.oidc == nil {
		return "", "", errors.New("oidc not configured")
	}
	_, oc, err := s.oidc.setup(ctx)
	if err != nil {
		return "", "", err
	}
	state, nonce, verifier := newToken(), newToken(), oauth2.GenerateVerifier()
	now := s.cfg.Clock.Now()
	o := s.oidc
	o.mu.Lock()
	for k, v := range o.pending {
		if v.expires.Before(now) || len(o.pending) >= maxPendingStates {
			delete(o.pending, k)
		}
	}
	o.pending[state] = oidcState{nonce: nonce, verifier: verifier, expires: now.Add(10 * time.Minute)}
	o.mu.Unlock()
	return oc.AuthCodeURL(state, oidc.Nonce(nonce), oauth2.S256ChallengeOption(verifier)), state, nil
}

// ErrOIDC is a refused OpenID Connect login.
var ErrOIDC = errors.New("oidc login refused")

// OIDCFinish completes a login from the provider's redirect: the state
// must be one this node issued to this browser (cookie), unused and
// fresh; the ID token must be signed by the provider for this client,
// with the nonce of that state. It returns the session token.
func (s *Service) OIDCFinish(ctx context.Context, remote, cookieState, state, code string) (string, *auth.Session, error) {
	tok, se, user, err := s.oidcFinish(ctx, cookieState, state, code)
	ev := audit.Event{Actor: "oidc", Action: audit.Failed, Kind: "session", Remote: remote, Detail: "oidc"}
	if err == nil {
		ev.Actor, ev.Role, ev.Action = user, string(auth.Citizen), audit.Login
	}
	if aerr := s.cfg.Audit.Record(ctx, ev); err == nil && aerr != nil {
		return "", nil, aerr
	}
	return tok, se, err
}

func (s *Service) oidcFinish(ctx context.Context, cookieState, state, code string) (string, *auth.Session, string, error) {
	if s.oidc == nil {
		return "", nil, "", ErrOIDC
	}
	o := s.oidc
	o.mu.Lock()
	st, ok := o.pending[state]
	delete(o.pending, state) // single use, whatever follows
	o.mu.Unlock()
	if !ok || state == "" || cookieState != state || st.expires.Before(s.cfg.Clock.Now()) {
		return "", nil, "", fmt.Errorf("%w: unknown, used or expired state", ErrOIDC)
	}
	p, oc, err := o.setup(ctx)
	if err != nil {
		return "", nil, "", err
	}
	cctx := oidc.ClientContext(ctx, o.cfg.HTTPClient)
	t, err := oc.Exchange(cctx, code, oauth2.VerifierOption(st.verifier))
	if err != nil {
		return "", nil, "", fmt.Errorf("%w: code exchange: %v", ErrOIDC, err)
	}
	raw, _ := t.Extra("id_token").(string)
	if raw == "" {
		return "", nil, "", fmt.Errorf("%w: no id_token", ErrOIDC)
	}
	v := p.Verifier(&oidc.Config{ClientID: o.cfg.ClientID, Now: s.cfg.Clock.Now})
	idt, err := v.Verify(cctx, raw)
	if err != nil {
		return "", nil, "", fmt.Errorf("%w: %v", ErrOIDC, err)
	}
	if idt.Nonce != st.nonce {
		return "", nil, "", fmt.Errorf("%w: nonce mismatch", ErrOIDC)
	}
	var claims map[string]any
	if err := idt.Claims(&claims); err != nil {
		return "", nil, "", fmt.Errorf("%w: claims: %v", ErrOIDC, err)
	}
	user, err := s.oidcAccount(ctx, idt.Issuer, idt.Subject, claims)
	if err != nil {
		return "", nil, "", err
	}
	tok, se, err := s.cfg.Auth.OpenSession(ctx, user)
	return tok, se, user, err
}

// oidcAccount returns the citizen of an issuer's subject, creating the
// account at the first login.
func (s *Service) oidcAccount(ctx context.Context, issuer, subject string, claims map[string]any) (string, error) {
	key := issuer + " " + subject
	s.mu.RLock()
	user, ok := s.subjects[key]
	s.mu.RUnlock()
	if ok {
		return user, nil
	}
	str := func(name string) string { v, _ := claims[name].(string); return strings.TrimSpace(v) }
	name := str("name")
	if name == "" {
		name = strings.TrimSpace(str("given_name") + " " + str("family_name"))
	}
	if len([]rune(name)) > 100 {
		name = string([]rune(name)[:100])
	}
	c := Citizen{Username: s.oidcUsername(ctx, key), State: Active, Origin: FromOIDC, OIDCSubject: key, FiscalCode: str(s.oidc.cfg.FiscalCodeClaim)}
	if verified, _ := claims["email_verified"].(bool); verified {
		if e, ok := checkEmail(str("email")); ok {
			c.Email = e
		}
	}
	acc := auth.Account{Username: c.Username, Role: auth.Citizen, DisplayName: name}
	if err := s.create(ctx, &c, acc, auth.NewPassword()+"-"+auth.NewPassword()); err != nil {
		return "", err
	}
	ev := audit.Event{Actor: c.Username, Role: string(auth.Citizen), Action: audit.Create, Kind: "citizen", Object: c.Username, Detail: "oidc"}
	return c.Username, s.cfg.Audit.Record(ctx, ev)
}

// oidcUsername derives the username of a new account from the issuer and
// subject. A person who deleted their account and comes back gets a new
// name: the old one is never given again (wasDeleted).
func (s *Service) oidcUsername(ctx context.Context, key string) string {
	name := "c-" + hashOf(key)[:16]
	for i := 1; i < 100 && s.wasDeleted(ctx, name); i++ {
		name = "c-" + hashOf(fmt.Sprintf("%s#%d", key, i))[:16]
	}
	return name
}
