package auth

import (
	"context"
	"errors"
	"net/http"
	"net/mail"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// Accounts is the audited use of the accounts that the JSON API and the
// web UI share: logging in and out, and an admin creating or changing an
// account. Every step is written to the audit log.
type Accounts struct {
	Auth  *Service
	Audit *audit.Log
}

// LoginRequest is the body of POST /api/v1/login.
type LoginRequest struct {
	Username string `json:"username"`
	Password string `json:"password"`
}

// AccountRequest creates or changes an account.
type AccountRequest struct {
	Username    string `json:"username"`
	Role        Role   `json:"role"`
	DisplayName string `json:"display_name"`
	CaregiverID string `json:"caregiver_id"`
	Lang        string `json:"lang"`
	Email       string `json:"email"`
	Disabled    bool   `json:"disabled"`
	Password    string `json:"password"`
}

// Login checks credentials from the client at remote, audits the attempt
// and returns a session token.
func (x Accounts) Login(ctx context.Context, remote, username, password string) (string, *Session, error) {
	tok, se, err := x.Auth.Login(ctx, username, password, remote)
	ev := audit.Event{Actor: username, Action: audit.Login, Kind: "session", Remote: remote}
	if len(ev.Actor) > 64 {
		ev.Actor = ev.Actor[:64]
	}
	switch {
	case errors.Is(err, ErrRateLimited):
		ev.Action, ev.Detail = audit.Failed, "rate_limited"
		_ = x.Audit.Record(ctx, ev)
		p := problem.New(http.StatusTooManyRequests, "rate_limited", err.Error())
		p.Err = err // keeps the wait, for Retry-After
		return "", nil, p
	case errors.Is(err, ErrBadCredentials):
		ev.Action = audit.Failed
		_ = x.Audit.Record(ctx, ev)
		return "", nil, problem.New(http.StatusUnauthorized, "bad_credentials", err.Error())
	case err != nil:
		return "", nil, err
	}
	ev.Role = string(se.Role)
	if err := x.Audit.Record(ctx, ev); err != nil {
		return "", nil, err
	}
	return tok, se, nil
}

// Logout ends the session of tok (if any) and audits it for a, the
// logged-in actor (nil when the request had no valid session).
func (x Accounts) Logout(ctx context.Context, tok string, a *Actor) {
	if tok != "" {
		_ = x.Auth.Logout(ctx, tok)
	}
	if a != nil {
		_ = x.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Logout, Kind: "session", Remote: a.Remote})
	}
}

// AccountError maps account errors to problems.
func AccountError(err error) error {
	var weak *PasswordError
	switch {
	case errors.Is(err, ErrExists):
		return problem.Invalid(map[string]string{"username": "taken"})
	case errors.Is(err, ErrBadUsername):
		return problem.Invalid(map[string]string{"username": "bad_username"})
	case errors.As(err, &weak):
		return problem.Invalid(map[string]string{"password": weak.Code})
	case errors.Is(err, ErrBadRole):
		return problem.Invalid(map[string]string{"role": "bad_choice"})
	case errors.Is(err, ErrNotFound):
		return problem.ErrNotFound
	}
	return err
}

// MaxDisplayName bounds an account's display name, in characters.
const MaxDisplayName = 100

// checkText refuses a display name that is too long or holds a control
// character or a direction override (schema.TextFault), and an e-mail
// that is not one bare address.
func checkText(req AccountRequest) error {
	if code := schema.TextFault(req.DisplayName, MaxDisplayName, false); code != "" {
		return problem.Invalid(map[string]string{"display_name": code})
	}
	if req.Email != "" {
		if a, err := mail.ParseAddress(req.Email); err != nil || a.Address != req.Email || len(req.Email) > 254 {
			return problem.Invalid(map[string]string{"email": "bad_email"})
		}
	}
	return nil
}

// Create creates an account for an admin and audits it.
func (x Accounts) Create(ctx context.Context, a Actor, req AccountRequest) (*Account, error) {
	if err := checkText(req); err != nil {
		return nil, err
	}
	acc, err := x.Auth.Create(ctx, Account{Username: req.Username, Role: req.Role, DisplayName: req.DisplayName, CaregiverID: req.CaregiverID, Lang: req.Lang, Email: req.Email}, req.Password)
	if err != nil {
		return nil, AccountError(err)
	}
	return acc, x.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Create, Kind: "account", Object: acc.Username, Remote: a.Remote})
}

// Update changes an account for an admin and audits it. An admin cannot
// disable or demote their own account, so a node always keeps one.
func (x Accounts) Update(ctx context.Context, a Actor, req AccountRequest) (*Account, error) {
	if req.Username == a.Username && (req.Disabled || req.Role != Admin) {
		return nil, problem.Invalid(map[string]string{"role": "cannot_demote_self"})
	}
	if err := checkText(req); err != nil {
		return nil, err
	}
	acc, err := x.Auth.Update(ctx, Account{Username: req.Username, Role: req.Role, DisplayName: req.DisplayName, CaregiverID: req.CaregiverID, Lang: req.Lang, Email: req.Email, Disabled: req.Disabled}, req.Password)
	if err != nil {
		return nil, AccountError(err)
	}
	return acc, x.Audit.Record(ctx, audit.Event{Actor: a.Username, Role: string(a.Role), Action: audit.Update, Kind: "account", Object: acc.Username, Remote: a.Remote})
}
