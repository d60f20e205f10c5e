package citizens

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

// Entry is one line of a section of the private area (a request, a case,
// a message, a payment), as the domain that owns it shows it.
type Entry struct {
	ID     string    `json:"id"`
	Title  string    `json:"title"`
	Status string    `json:"status,omitempty"`
	Href   string    `json:"href,omitempty"`
	At     time.Time `json:"at,omitzero"`
}

// Feed lists one kind of a citizen's records.
type Feed interface {
	List(ctx context.Context, citizen string) ([]Entry, error)
}

// Exporter is a Feed that can also hand over every field of a citizen's
// records for the export; a Feed without it exports its entries.
type Exporter interface {
	Export(ctx context.Context, citizen string) (any, error)
}

// Feeds are the sections of the private area another domain fills; a nil
// Feed is an empty section. Erase, if set, erases (or, where the law
// keeps them, closes and pseudonymises) a deleted citizen's records.
type Feeds struct {
	Requests, Cases, Messages, Payments Feed
	Erase                               func(ctx context.Context, citizen string) error
}

// Section names, in the order the private area shows them.
var Sections = []string{"requests", "cases", "messages", "payments"}

func (f Feeds) feed(name string) Feed {
	switch name {
	case "requests":
		return f.Requests
	case "cases":
		return f.Cases
	case "messages":
		return f.Messages
	case "payments":
		return f.Payments
	}
	return nil
}

// SetFeeds hands the private area the domain that owns requests, cases,
// messages and payments, when it opens after this one (the wiring).
func (s *Service) SetFeeds(f Feeds) {
	s.mu.Lock()
	s.cfg.Feeds = f
	s.mu.Unlock()
}

func (s *Service) feeds() Feeds {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.cfg.Feeds
}

// Profile is a citizen's own view of their account.
type Profile struct {
	Username     string    `json:"username"`
	DisplayName  string    `json:"display_name"`
	Email        string    `json:"email,omitempty"`
	PendingEmail string    `json:"pending_email,omitempty"`
	Lang         string    `json:"lang,omitempty"`
	State        string    `json:"state"`
	Origin       string    `json:"origin"`
	Consent      *Consent  `json:"consent,omitempty"`
	OIDCSubject  string    `json:"oidc_subject,omitempty"`
	FiscalCode   string    `json:"fiscal_code,omitempty"`
	CreatedAt    time.Time `json:"created_at"`
	VerifiedAt   time.Time `json:"verified_at,omitzero"`
}

func (s *Service) owner(a auth.Actor) (Citizen, *auth.Account, error) {
	name := a.Citizen()
	c, ok := s.Get(name)
	acc, ok2 := s.cfg.Auth.Get(name)
	if name == "" || !ok || !ok2 {
		return Citizen{}, nil, problem.ErrNotFound
	}
	return c, acc, nil
}

func profileOf(c Citizen, acc *auth.Account) Profile {
	return Profile{Username: c.Username, DisplayName: acc.DisplayName, Email: c.Email, PendingEmail: c.PendingEmail, Lang: acc.Lang, State: c.State, Origin: c.Origin,
		Consent: c.Consent, OIDCSubject: c.OIDCSubject, FiscalCode: c.FiscalCode, CreatedAt: c.CreatedAt, VerifiedAt: c.VerifiedAt}
}

// Profile returns the profile of the citizen a acts for (or is); the
// read is audited.
func (s *Service) Profile(ctx context.Context, a auth.Actor) (Profile, error) {
	c, acc, err := s.owner(a)
	if err != nil {
		return Profile{}, err
	}
	s.cfg.Audit.Note(a.Event(audit.Read, "citizen", c.Username))
	return profileOf(c, acc), nil
}

// ProfileRequest changes a citizen's profile.
type ProfileRequest struct {
	DisplayName string `json:"display_name"`
	Email       string `json:"email"`
	Lang        string `json:"lang"`
}

// UpdateProfile changes the display name, e-mail and language.
func (s *Service) UpdateProfile(ctx context.Context, a auth.Actor, req ProfileRequest) (Profile, error) {
	c, acc, err := s.owner(a)
	if err != nil {
		return Profile{}, err
	}
	f := map[string]string{}
	name := strings.TrimSpace(req.DisplayName)
	if code := schema.TextFault(name, auth.MaxDisplayName, false); code != "" {
		f["display_name"] = code
	} else if name == "" {
		f["display_name"] = "required"
	}
	email := ""
	if strings.TrimSpace(req.Email) != "" {
		var ok bool
		if email, ok = checkEmail(req.Email); !ok {
			f["email"] = "bad_email"
		}
	} else if c.Origin == FromSignup {
		f["email"] = "required"
	}
	if req.Lang != "" && req.Lang != "it" && req.Lang != "en" {
		f["lang"] = "bad_choice"
	}
	if len(f) > 0 {
		return Profile{}, problem.Invalid(f)
	}
	acc.DisplayName, acc.Lang = name, req.Lang
	if _, err := s.cfg.Auth.Update(ctx, *acc, ""); err != nil {
		return Profile{}, auth.AccountError(err)
	}
	switch {
	case email == c.Email:
		c.PendingEmail = ""
	case s.MailEnabled() && email != "":
		// A new address is used once its owner opened the link sent
		// to it: a typo must not send the citizen's mail to a stranger.
		if err := s.sendLink(ctx, c.Username, email, email, acc.Lang, name); err != nil {
			return Profile{}, err
		}
		c.PendingEmail = email
	default:
		c.Email, c.PendingEmail = email, ""
	}
	if err := s.put(ctx, &c); err != nil {
		return Profile{}, err
	}
	if err := s.cfg.Audit.Record(ctx, a.Event(audit.Update, "citizen", c.Username)); err != nil {
		return Profile{}, err
	}
	return profileOf(c, acc), nil
}

// Activity is one thing done on a citizen's behalf.
type Activity struct {
	At     time.Time    `json:"at"`
	Actor  string       `json:"actor"`
	Role   string       `json:"role,omitempty"`
	Action audit.Action `json:"action"`
	Kind   string       `json:"kind"`
	Object string       `json:"object,omitempty"`
}

// Activity returns what operators did on the citizen's behalf, newest
// first, from the audit log.
func (s *Service) Activity(ctx context.Context, a auth.Actor) ([]Activity, error) {
	c, _, err := s.owner(a)
	if err != nil {
		return nil, err
	}
	evs, err := s.cfg.Audit.ForCitizen(ctx, c.Username, 200)
	if err != nil {
		return nil, err
	}
	out := make([]Activity, 0, len(evs))
	for _, e := range evs {
		out = append(out, Activity{At: e.Time, Actor: e.Actor, Role: e.Role, Action: e.Action, Kind: e.Kind, Object: e.Object})
	}
	return out, nil
}

// Section lists one section of the private area ("nessuna richiesta"
// when the feed is missing or empty).
func (s *Service) Section(ctx context.Context, a auth.Actor, name string) ([]Entry, error) {
	c, _, err := s.owner(a)
	if err != nil {
		return nil, err
	}
	f := s.feeds().feed(name)
	if f == nil {
		return nil, nil
	}
	return f.List(ctx, c.Username)
}

// Export is every datum the node holds about a citizen.
type Export struct {
	ExportedAt time.Time  `json:"exported_at"`
	Node       string     `json:"node,omitempty"`
	Profile    Profile    `json:"profile"`
	Activity   []Activity `json:"activity"`
	// OwnEvents are the audit events of the citizen's own actions
	// (logins, changes), newest first, at most 500.
	OwnEvents []Activity     `json:"own_events"`
	Sections  map[string]any `json:"sections"`
}

// Export gathers all the citizen's data (audited).
func (s *Service) Export(ctx context.Context, a auth.Actor) (Export, error) {
	c, acc, err := s.owner(a)
	if err != nil {
		return Export{}, err
	}
	act, err := s.Activity(ctx, a)
	if err != nil {
		return Export{}, err
	}
	own, err := s.cfg.Audit.Query(ctx, audit.Filter{Actor: c.Username, Limit: 500})
	if err != nil {
		return Export{}, err
	}
	out := Export{ExportedAt: s.cfg.Clock.Now().UTC(), Profile: profileOf(c, acc), Activity: act, OwnEvents: []Activity{}, Sections: map[string]any{}}
	for _, e := range own {
		out.OwnEvents = append(out.OwnEvents, Activity{At: e.Time, Actor: e.Actor, Role: e.Role, Action: e.Action, Kind: e.Kind, Object: e.Object})
	}
	for _, name := range Sections {
		f := s.feeds().feed(name)
		var v any = []Entry{}
		if x, ok := f.(Exporter); ok {
			if v, err = x.Export(ctx, c.Username); err != nil {
				return Export{}, fmt.Errorf("export %s: %w", name, err)
			}
		} else if f != nil {
			if v, err = f.List(ctx, c.Username); err != nil {
				return Export{}, fmt.Errorf("export %s: %w", name, err)
			}
		}
		out.Sections[name] = v
	}
	return out, s.cfg.Audit.Record(ctx, a.Event(audit.Export, "citizen", c.Username))
}

// Delete erases the citizen's account (docs/RETENTION.md): their other
// records through Feeds.Erase, the account and every session (their own
// and any operator's acting for them), the citizen record, pending
// verification links and the OpenID link. The username is kept, hashed,
// so it is never given to someone else; audit events stay as they are.
func (s *Service) Delete(ctx context.Context, a auth.Actor) error {
	c, _, err := s.owner(a)
	if err != nil {
		return err
	}
	if erase := s.feeds().Erase; erase != nil {
		if err := erase(ctx, c.Username); err != nil {
			return fmt.Errorf("erase records: %w", err)
		}
	}
	if err := store.PutJSON(ctx, s.cfg.Store, "/deleted/"+hashOf(c.Username), map[string]time.Time{"at": s.cfg.Clock.Now().UTC()}); err != nil {
		return err
	}
	if err := s.cfg.Auth.Delete(ctx, c.Username); err != nil {
		return err
	}
	s.dropVerifications(ctx, c.Username)
	if err := s.cfg.Store.Delete(ctx, store.NewKey("/c/"+c.Username)); err != nil {
		return err
	}
	s.mu.Lock()
	delete(s.citizens, c.Username)
	if c.OIDCSubject != "" {
		delete(s.subjects, c.OIDCSubject)
	}
	s.mu.Unlock()
	return s.cfg.Audit.Record(ctx, a.Event(Erase, "citizen", c.Username))
}
