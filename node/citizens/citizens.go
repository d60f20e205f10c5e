package citizens

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// Account states.
const (
	Pending = "pending" // signed up, e-mail not verified yet
	Active  = "active"
)

// Origins of an account.
const (
	FromSignup   = "signup"
	FromOperator = "operator"
	FromOIDC     = "oidc"
)

// Consent methods an operator may record.
var ConsentMethods = []string{"signed_form", "verbal_witness", "digital_signature"}

// Citizen is what the node keeps of a citizen beside their auth account
// (which holds the password, display name and language).
type Citizen struct {
	Username string `json:"username"`
	Email    string `json:"email,omitempty"`
	// PendingEmail is a changed address waiting for its own verification
	// (with mail): mail keeps going to Email until then.
	PendingEmail string    `json:"pending_email,omitempty"`
	State        string    `json:"state"`
	Origin       string    `json:"origin"`
	Consent      *Consent  `json:"consent,omitempty"`
	OIDCSubject  string    `json:"oidc_subject,omitempty"` // issuer and subject
	FiscalCode   string    `json:"fiscal_code,omitempty"`  // from the provider's claim; private
	CreatedAt    time.Time `json:"created_at"`
	VerifiedAt   time.Time `json:"verified_at,omitzero"`
}

// LogValue keeps a citizen's data out of logs: only the username.
func (c Citizen) LogValue() slog.Value { return slog.StringValue(c.Username) }

// Consent is the citizen's consent to be registered and assisted by a
// proximity point: who recorded it, when, and how it was given.
type Consent struct {
	Operator string    `json:"operator"`
	At       time.Time `json:"at"`
	Method   string    `json:"method"`
	Witness  string    `json:"witness,omitempty"`
	Note     string    `json:"note,omitempty"`
}

// Mailer sends one e-mail; id makes a retried send one message.
type Mailer func(ctx context.Context, id, to, subject, body string) error

// Translator renders a catalogue message in a language.
type Translator func(lang, key string, args ...any) string

// Config configures the service.
type Config struct {
	Store store.Namespace
	Auth  *auth.Service
	Audit *audit.Log
	// Mail sends the verification e-mails; nil: the node has no mail
	// server and a signed-up account is active at once.
	Mail      Mailer
	Translate Translator // for the e-mails; nil: the message keys
	BaseURL   string     // the node's public address, for the link
	Clock     clock.Clock
	VerifyTTL time.Duration // how long a verification link works (48 h)
	Feeds     Feeds         // requests, cases, messages, payments
	Logger    *slog.Logger
}

// Service manages the citizens of the node.
type Service struct {
	cfg     Config
	limiter *auth.Limiter

	mu       sync.RWMutex
	citizens map[string]*Citizen
	subjects map[string]string // OIDC issuer and subject -> username

	oidc *oidcLogin // nil: no OpenID Connect login
}

// Errors callers branch on.
var (
	ErrBadToken = errors.New("verification link unknown, used or expired")
	ErrDeleted  = errors.New("username belonged to a deleted account")
)

// Open loads the citizens from the store.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Auth == nil || cfg.Audit == nil {
		return nil, errors.New("citizens: store, auth and audit required")
	}
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.VerifyTTL == 0 {
		cfg.VerifyTTL = 48 * time.Hour
	}
	if cfg.Translate == nil {
		cfg.Translate = func(_, key string, _ ...any) string { return key }
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg, limiter: auth.NewLimiter(cfg.Clock), citizens: map[string]*Citizen{}, subjects: map[string]string{}}
	err := store.Each(ctx, cfg.Store, "/c/", func(_ string, v []byte) error {
		var c Citizen
		if err := jsonUnmarshal(v, &c); err != nil {
			return err
		}
		s.citizens[c.Username] = &c
		if c.OIDCSubject != "" {
			s.subjects[c.OIDCSubject] = c.Username
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load citizens: %w", err)
	}
	return s, nil
}

// MailEnabled reports whether sign-ups wait for an e-mail verification.
func (s *Service) MailEnabled() bool { return s.cfg.Mail != nil }

// Get returns a citizen.
func (s *Service) Get(username string) (Citizen, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	c, ok := s.citizens[username]
	if !ok {
		return Citizen{}, false
	}
	return *c, true
}

// Assisted returns the citizens registered by an operator, by username.
func (s *Service) Assisted() []Citizen {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Citizen
	for _, c := range s.citizens {
		if c.Consent != nil {
			out = append(out, *c)
		}
	}
	slices.SortFunc(out, func(a, b Citizen) int { return strings.Compare(a.Username, b.Username) })
	return out
}

// SignupRequest is the body of POST /api/v1/citizens/signup.
type SignupRequest struct {
	Username    string `json:"username"`
	Password    string `json:"password"`
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Lang        string `json:"lang,omitempty"`
}

// checkEmail returns the address if it is one plain address.
func checkEmail(s string) (string, bool) {
	s = strings.TrimSpace(s)
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" || len(s) > 254 {
		return "", false
	}
	return s, true
}

func (s *Service) throttle(remote string) error {
	if wait := s.limiter.Allow("signup", remote); wait > 0 {
		p := problem.New(http.StatusTooManyRequests, "rate_limited", "too many sign-ups from this address, try again later")
		p.Err = &auth.RateLimitError{Wait: wait}
		return p
	}
	// Every sign-up counts: an address gets ten, then growing waits.
	s.limiter.Fail("signup", remote)
	return nil
}

// Signup creates a citizen's account. With mail, the account is pending
// until the link of the verification e-mail is opened; without, it is
// active at once.
func (s *Service) Signup(ctx context.Context, remote string, req SignupRequest) (Citizen, error) {
	if err := s.throttle(remote); err != nil {
		return Citizen{}, err
	}
	email, ok := checkEmail(req.Email)
	if !ok {
		return Citizen{}, problem.Invalid(map[string]string{"email": "bad_email"})
	}
	state := Active
	if s.MailEnabled() {
		state = Pending
	}
	if err := s.dropStalePending(ctx, req.Username); err != nil {
		return Citizen{}, err
	}
	c := Citizen{Username: req.Username, Email: email, State: state, Origin: FromSignup}
	acc := auth.Account{Username: req.Username, Role: auth.Citizen, DisplayName: strings.TrimSpace(req.DisplayName), Lang: req.Lang, Disabled: state == Pending}
	if err := s.create(ctx, &c, acc, req.Password); err != nil {
		return Citizen{}, err
	}
	ev := audit.Event{Actor: c.Username, Role: string(auth.Citizen), Action: audit.Create, Kind: "citizen", Object: c.Username, Remote: remote, Detail: "signup"}
	if err := s.cfg.Audit.Record(ctx, ev); err != nil {
		return Citizen{}, err
	}
	if state == Pending {
		if err := s.sendVerification(ctx, c, acc.Lang, acc.DisplayName); err != nil {
			return Citizen{}, err
		}
	}
	return c, nil
}

// create adds the auth account and the citizen record.
func (s *Service) create(ctx context.Context, c *Citizen, acc auth.Account, password string) error {
	if code := schema.TextFault(acc.DisplayName, auth.MaxDisplayName, false); code != "" {
		return problem.Invalid(map[string]string{"display_name": code})
	}
	if acc.Lang != "" && acc.Lang != "it" && acc.Lang != "en" {
		return problem.Invalid(map[string]string{"lang": "bad_choice"})
	}
	if s.wasDeleted(ctx, acc.Username) {
		return problem.Invalid(map[string]string{"username": "taken"})
	}
	if _, err := s.cfg.Auth.Create(ctx, acc, password); err != nil {
		return auth.AccountError(err)
	}
	c.CreatedAt = s.cfg.Clock.Now().UTC()
	if err := s.put(ctx, c); err != nil {
		_ = s.cfg.Auth.Delete(ctx, acc.Username)
		return err
	}
	return nil
}

func (s *Service) put(ctx context.Context, c *Citizen) error {
	if err := store.PutJSON(ctx, s.cfg.Store, "/c/"+c.Username, c); err != nil {
		return err
	}
	s.mu.Lock()
	cp := *c
	s.citizens[c.Username] = &cp
	if c.OIDCSubject != "" {
		s.subjects[c.OIDCSubject] = c.Username
	}
	s.mu.Unlock()
	return nil
}

// verification is a pending e-mail verification, stored by the SHA-256
// of its token so a copy of the store holds no usable link.
type verification struct {
	Username string    `json:"username"`
	Email    string    `json:"email,omitempty"` // a changed address to confirm; empty: the sign-up
	Expires  time.Time `json:"expires"`
}

func newToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

func hashOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// VerifyPath is the page that opens a verification link.
const VerifyPath = "/registrati/conferma"

func (s *Service) sendVerification(ctx context.Context, c Citizen, lang, name string) error {
	return s.sendLink(ctx, c.Username, c.Email, "", lang, name)
}

// sendLink mails a verification link to address: of the sign-up
// (newEmail "") or of a changed address (newEmail = address).
func (s *Service) sendLink(ctx context.Context, username, address, newEmail, lang, name string) error {
	tok := newToken()
	v := verification{Username: username, Email: newEmail, Expires: s.cfg.Clock.Now().UTC().Add(s.cfg.VerifyTTL)}
	if err := store.PutJSON(ctx, s.cfg.Store, "/verify/"+hashOf(tok), &v); err != nil {
		return err
	}
	if lang == "" {
		lang = "it"
	}
	link := verifyURL(strings.TrimRight(s.cfg.BaseURL, "/"), tok)
	hours := int(s.cfg.VerifyTTL / time.Hour)
	subject := s.cfg.Translate(lang, "citizen.mail.verify_subject")
	body := s.cfg.Translate(lang, "citizen.mail.verify_body", "Name", name, "Link", link, "Hours", hours)
	return s.cfg.Mail(ctx, "verify-"+hashOf(tok)[:32], address, subject, body)
}

// Verify activates the account of a verification token. A token works
// once, until it expires.
func (s *Service) Verify(ctx context.Context, remote, token string) (Citizen, error) {
	if wait := s.limiter.Allow("verify", remote); wait > 0 {
		return Citizen{}, problem.New(http.StatusTooManyRequests, "rate_limited", "too many attempts, try again later")
	}
	bad := func() (Citizen, error) {
		s.limiter.Fail("verify", remote)
		return Citizen{}, problem.New(http.StatusBadRequest, "bad_token", ErrBadToken.Error())
	}
	if token == "" || len(token) > 100 {
		return bad()
	}
	key := "/verify/" + hashOf(token)
	var v verification
	if err := store.GetJSON(ctx, s.cfg.Store, key, &v); err != nil {
		return bad()
	}
	// Single use: the token is gone before the account opens.
	if err := s.cfg.Store.Delete(ctx, store.NewKey(key)); err != nil {
		return Citizen{}, err
	}
	c, ok := s.Get(v.Username)
	if !ok || v.Expires.Before(s.cfg.Clock.Now()) {
		return bad()
	}
	detail := "email_verified"
	if v.Email != "" {
		if c.PendingEmail != v.Email { // a newer change superseded this link
			return bad()
		}
		c.Email, c.PendingEmail, detail = v.Email, "", "email_changed"
		if err := s.put(ctx, &c); err != nil {
			return Citizen{}, err
		}
	} else if c.State != Active {
		acc, ok := s.cfg.Auth.Get(c.Username)
		if !ok {
			return bad()
		}
		acc.Disabled = false
		if _, err := s.cfg.Auth.Update(ctx, *acc, ""); err != nil {
			return Citizen{}, err
		}
		c.State, c.VerifiedAt = Active, s.cfg.Clock.Now().UTC()
		if err := s.put(ctx, &c); err != nil {
			return Citizen{}, err
		}
	}
	ev := audit.Event{Actor: c.Username, Role: string(auth.Citizen), Action: audit.Update, Kind: "citizen", Object: c.Username, Remote: remote, Detail: detail}
	return c, s.cfg.Audit.Record(ctx, ev)
}

// wasDeleted reports whether username belonged to a deleted account:
// such a name is never given again, so that the audit events that name
// it keep naming one person.
func (s *Service) wasDeleted(ctx context.Context, username string) bool {
	ok, err := s.cfg.Store.Has(ctx, store.NewKey("/deleted/"+hashOf(username)))
	return err == nil && ok
}

// dropStalePending frees a username held by a sign-up whose e-mail was
// never verified and whose link has expired, so that nobody can hold a
// name by signing up with an address they do not own.
func (s *Service) dropStalePending(ctx context.Context, username string) error {
	c, ok := s.Get(username)
	if !ok || c.State != Pending || !c.CreatedAt.Add(s.cfg.VerifyTTL).Before(s.cfg.Clock.Now()) {
		return nil
	}
	if err := s.cfg.Auth.Delete(ctx, username); err != nil && !errors.Is(err, auth.ErrNotFound) {
		return err
	}
	s.dropVerifications(ctx, username)
	if err := s.cfg.Store.Delete(ctx, store.NewKey("/c/"+username)); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.citizens, username)
	s.mu.Unlock()
	return s.cfg.Audit.Record(ctx, audit.Event{Actor: auth.SystemUser, Action: Erase, Kind: "citizen", Object: username, Detail: "unverified"})
}

// dropVerifications deletes the pending verification links of username.
func (s *Service) dropVerifications(ctx context.Context, username string) {
	var stale []string
	_ = store.Each(ctx, s.cfg.Store, "/verify/", func(k string, v []byte) error {
		var ver verification
		if jsonUnmarshal(v, &ver) == nil && ver.Username == username {
			stale = append(stale, k)
		}
		return nil
	})
	for _, k := range stale {
		_ = s.cfg.Store.Delete(ctx, store.NewKey(k))
	}
}
