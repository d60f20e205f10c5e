package auth

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/store"
)

// Role is what an account may do on the node.
type Role string

// The roles of the node's users.
const (
	Admin       Role = "admin"        // coop admin: everything on the node
	Caregiver   Role = "caregiver"    // peer caregiver: own beneficiaries, calls
	Operator    Role = "operator"     // proximity-point helper: catalogue on behalf of citizens
	Refurbisher Role = "refurbisher"  // refurbishment worker: terminals
	Officer     Role = "officer"      // authority officer: qualification console
	Citizen     Role = "citizen"      // a citizen whose home node this is: own requests and cases
	CaseManager Role = "case_manager" // coop case manager: incoming requests, offers, the coop's cases
)

// System is the role of the node itself acting on its own timers (an
// alert escalating, a window closing). It is not in Roles: no account can
// have it, so no login acts as the system.
const System Role = "system"

// SystemUser is the name the node acts under for what another node sends
// it (a call grant over the signal protocol) and in its own audit events.
// Those events keep the form they have always had: Actor "system", no role.
const SystemUser = "system"

// Roles lists every role an account may have, in the order the UI shows them.
var Roles = []Role{Admin, Caregiver, Operator, Refurbisher, Officer, CaseManager, Citizen}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return slices.Contains(Roles, r) }

// Account is a user of the node.
type Account struct {
	Username    string `json:"username"`
	Role        Role   `json:"role"`
	DisplayName string `json:"display_name,omitempty"`
	CaregiverID string `json:"caregiver_id,omitempty"` // the caregiver record of a caregiver account
	Lang        string `json:"lang,omitempty"`
	// Email is where a staff account reads the node's mail about its work
	// (citizens' requests for admins and case managers); optional.
	Email     string    `json:"email,omitempty"`
	Disabled  bool      `json:"disabled,omitempty"`
	Hash      string    `json:"hash"`
	CreatedAt time.Time `json:"created_at"`
}

// Session is a logged-in user.
type Session struct {
	Username  string    `json:"username"`
	Role      Role      `json:"role"`
	Expires   time.Time `json:"expires"`
	CreatedAt time.Time `json:"created_at"`
	// ActingFor is the citizen an operator acts for in this session
	// (empty: the account acts for itself). See ActFor.
	ActingFor string `json:"acting_for,omitempty"`
}

// Errors callers branch on.
var (
	ErrBadCredentials = errors.New("wrong username or password")
	ErrRateLimited    = errors.New("too many failed logins, try again later")
	ErrExists         = errors.New("account already exists")
	ErrNoSession      = errors.New("no valid session")
	ErrBadRole        = errors.New("unknown role")
	ErrNotFound       = errors.New("no such account")
	ErrBadUsername    = errors.New("username must be 3-32 characters: lower-case letters, digits, dot, dash, underscore")
)

// Params are the argon2id cost parameters.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32
	Threads uint8
}

// DefaultParams follow the OWASP recommendation for argon2id.
var DefaultParams = Params{Memory: 19 * 1024, Time: 2, Threads: 1}

// Config configures the account service.
type Config struct {
	Params     Params
	SessionTTL time.Duration // default 12 h
	Clock      clock.Clock   // default: the real clock
	CoopName   string        // a word no password may be built on
}

// Service manages accounts and sessions.
type Service struct {
	ds      store.Namespace
	params  Params
	ttl     time.Duration
	clk     clock.Clock
	limiter *Limiter
	coop    string
	dummy   string                     // hash checked for unknown users
	check   func(hash, pw string) bool // CheckPassword; tests count calls

	mu       sync.RWMutex
	accounts map[string]*Account
	sessions map[string]*Session // by token hash
}

var usernameRE = regexp.MustCompile(`^[a-z0-9._-]{3,32}$`)

// Open loads accounts and live sessions from d.
func Open(ctx context.Context, d store.Namespace, cfg Config) (*Service, error) {
	if cfg.Params == (Params{}) {
		cfg.Params = DefaultParams
	}
	if cfg.SessionTTL == 0 {
		cfg.SessionTTL = 12 * time.Hour
	}
	cfg.Clock = clock.Or(cfg.Clock)
	// The stand-in hash for unknown users costs what a real one costs.
	dummy, err := HashPassword(NewPassword(), cfg.Params)
	if err != nil {
		return nil, err
	}
	s := &Service{ds: d, params: cfg.Params, ttl: cfg.SessionTTL, clk: cfg.Clock, coop: cfg.CoopName, dummy: dummy, check: CheckPassword,
		limiter: NewLimiter(cfg.Clock), accounts: map[string]*Account{}, sessions: map[string]*Session{}}
	err = store.Each(ctx, d, "/accounts/", func(k string, v []byte) error {
		var a Account
		if err := jsonUnmarshal(v, &a); err != nil {
			return err
		}
		s.accounts[a.Username] = &a
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load accounts: %w", err)
	}
	now := s.clk.Now()
	err = store.Each(ctx, d, "/sessions/", func(k string, v []byte) error {
		var se Session
		if err := jsonUnmarshal(v, &se); err != nil {
			return err
		}
		id := strings.TrimPrefix(k, "/sessions/")
		if se.Expires.Before(now) {
			return d.Delete(ctx, store.NewKey(k))
		}
		s.sessions[id] = &se
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load sessions: %w", err)
	}
	return s, nil
}

// HashPassword hashes pw with argon2id in the PHC string format.
func HashPassword(pw string, p Params) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, 32)
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, p.Memory, p.Time, p.Threads,
		base64.RawStdEncoding.EncodeToString(salt), base64.RawStdEncoding.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches the PHC hash.
func CheckPassword(hash, pw string) bool {
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false
	}
	var p Params
	var threads uint32
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || threads == 0 || threads > 255 || p.Memory > 1<<21 || p.Time > 64 {
		return false
	}
	salt, err1 := base64.RawStdEncoding.DecodeString(parts[4])
	want, err2 := base64.RawStdEncoding.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, uint8(threads), uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// NewPassword returns a random password for a generated account.
func NewPassword() string {
	b := make([]byte, 12)
	rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// Create adds an account.
func (s *Service) Create(ctx context.Context, a Account, password string) (*Account, error) {
	if !usernameRE.MatchString(a.Username) {
		return nil, ErrBadUsername
	}
	if !a.Role.Valid() {
		return nil, fmt.Errorf("%w %q", ErrBadRole, a.Role)
	}
	if err := ValidatePassword(password, a.Username, a.DisplayName, s.coop); err != nil {
		return nil, err
	}
	h, err := HashPassword(password, s.params)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.accounts[a.Username]; ok {
		return nil, ErrExists
	}
	a.Hash = h
	a.CreatedAt = s.clk.Now().UTC()
	if err := store.PutJSON(ctx, s.ds, "/accounts/"+a.Username, &a); err != nil {
		return nil, err
	}
	s.accounts[a.Username] = &a
	out := a
	return &out, nil
}

// Update changes an account's role, display name, caregiver link, language,
// e-mail, disabled flag, and password when newPassword is not empty. Disabling an
// account ends its sessions.
func (s *Service) Update(ctx context.Context, a Account, newPassword string) (*Account, error) {
	if !a.Role.Valid() {
		return nil, fmt.Errorf("%w %q", ErrBadRole, a.Role)
	}
	var h string
	if newPassword != "" {
		if err := ValidatePassword(newPassword, a.Username, a.DisplayName, s.coop); err != nil {
			return nil, err
		}
		var err error
		if h, err = HashPassword(newPassword, s.params); err != nil {
			return nil, err
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	cur, ok := s.accounts[a.Username]
	if !ok {
		return nil, ErrNotFound
	}
	next := *cur
	next.Role, next.DisplayName, next.CaregiverID, next.Lang, next.Email, next.Disabled = a.Role, a.DisplayName, a.CaregiverID, a.Lang, a.Email, a.Disabled
	if h != "" {
		next.Hash = h
	}
	if err := store.PutJSON(ctx, s.ds, "/accounts/"+a.Username, &next); err != nil {
		return nil, err
	}
	s.accounts[a.Username] = &next
	if next.Disabled || h != "" || next.Role != cur.Role {
		s.dropSessionsLocked(ctx, a.Username)
	}
	out := next
	return &out, nil
}

func (s *Service) dropSessionsLocked(ctx context.Context, username string) {
	for id, se := range s.sessions {
		if se.Username == username {
			delete(s.sessions, id)
			_ = s.ds.Delete(ctx, store.NewKey("/sessions/"+id))
		}
	}
}

// Get returns an account.
func (s *Service) Get(username string) (*Account, bool) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	a, ok := s.accounts[username]
	if !ok {
		return nil, false
	}
	out := *a
	return &out, true
}

// List returns every account sorted by username.
func (s *Service) List() []Account {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]Account, 0, len(s.accounts))
	for _, a := range s.accounts {
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Account) int { return strings.Compare(a.Username, b.Username) })
	return out
}

// Count returns the number of accounts.
func (s *Service) Count() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.accounts)
}

// Login checks the credentials and opens a session. Failures are throttled
// by remote and username (see Limiter); a throttled attempt returns a
// *RateLimitError, which is an ErrRateLimited. An unknown or disabled user
// costs the same argon2 check as a wrong password, so usernames cannot be
// found by timing.
func (s *Service) Login(ctx context.Context, username, password, remote string) (token string, se *Session, err error) {
	if wait := s.limiter.Allow(username, remote); wait > 0 {
		return "", nil, &RateLimitError{Wait: wait}
	}
	s.mu.RLock()
	a, ok := s.accounts[username]
	s.mu.RUnlock()
	live := ok && !a.Disabled
	hash := s.dummy
	if live {
		hash = a.Hash
	}
	if !s.check(hash, password) || !live {
		s.limiter.Fail(username, remote)
		return "", nil, ErrBadCredentials
	}
	s.limiter.Succeed(username, remote)
	return s.newSession(ctx, a)
}

// newSession opens a session for a and returns its token.
func (s *Service) newSession(ctx context.Context, a *Account) (token string, se *Session, err error) {
	raw := make([]byte, 32)
	if _, err := rand.Read(raw); err != nil {
		return "", nil, err
	}
	token = base64.RawURLEncoding.EncodeToString(raw)
	now := s.clk.Now().UTC()
	se = &Session{Username: a.Username, Role: a.Role, CreatedAt: now, Expires: now.Add(s.ttl)}
	id := tokenID(token)
	if err := store.PutJSON(ctx, s.ds, "/sessions/"+id, se); err != nil {
		return "", nil, err
	}
	s.mu.Lock()
	s.sessions[id] = se
	s.mu.Unlock()
	return token, se, nil
}

// tokenID is what the store keeps of a token: its SHA-256, so a copy of the
// store does not hold usable tokens.
func tokenID(token string) string {
	h := sha256.Sum256([]byte(token))
	return hex.EncodeToString(h[:])
}

// Authenticate returns the account behind a token.
func (s *Service) Authenticate(token string) (*Account, error) {
	a, _, err := s.AuthenticateSession(token)
	return a, err
}

// AuthenticateSession returns the account behind a token and the citizen
// the session acts for ("" when it acts for the account itself).
func (s *Service) AuthenticateSession(token string) (*Account, string, error) {
	if token == "" || len(token) > 100 {
		return nil, "", ErrNoSession
	}
	id := tokenID(token)
	s.mu.RLock()
	se, ok := s.sessions[id]
	var a *Account
	var acting string
	if ok {
		a, acting = s.accounts[se.Username], se.ActingFor
	}
	s.mu.RUnlock()
	if !ok || a == nil || a.Disabled || se.Expires.Before(s.clk.Now()) {
		return nil, "", ErrNoSession
	}
	out := *a
	return &out, acting, nil
}

// Logout ends the session of token.
func (s *Service) Logout(ctx context.Context, token string) error {
	id := tokenID(token)
	s.mu.Lock()
	delete(s.sessions, id)
	s.mu.Unlock()
	return s.ds.Delete(ctx, store.NewKey("/sessions/"+id))
}

// Actor is who does something, as the domain services see it.
type Actor struct {
	Username    string
	Role        Role
	CaregiverID string // for caregivers: their caregiver record
	Remote      string // client address, for the audit log
	// For is the citizen the actor acts for (an operator's "act for
	// citizen" mode, see Service.ActFor); empty when acting for itself.
	For string
}
