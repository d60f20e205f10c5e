// Package families is the family side of issue 16: a family's private
// request for a family assistant, kept on its home node and never sent
// anywhere; matching it against the node's replica of public worker
// profiles (node/workers); the history of its matches; and the count of
// requests without a match by municipality and kind of work, with no
// personal data, for demand analytics.
//
// Requests are filed by a citizen for their family, by an operator (at a
// proximity point, or acting for a citizen, whose request it then is) or
// by the coop's admin. The contact through the coop, which asks a
// matched worker to meet the family, is node/contacts'.
//
// node (wiring) imports it; it imports no transport.
package families

import (
	"context"
	"crypto/rand"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/node/workers"
	"github.com/difronte/difronte/schema"
)

// Request is a family's private description of the help it needs.
type Request struct {
	ID           string          `json:"id"`
	Work         schema.WorkKind `json:"work"`
	HoursPerWeek int             `json:"hours_per_week"`
	LiveIn       bool            `json:"live_in,omitempty"`
	Languages    []string        `json:"languages,omitempty"`
	Municipality string          `json:"municipality"`
	StartDate    string          `json:"start_date,omitempty"` // YYYY-MM-DD
	BudgetCents  int64           `json:"budget_cents,omitempty"`
	Notes        string          `json:"notes,omitempty"`
	// Who asks: the family's contact, for the coop; never shown to workers
	// before the contact flow, never sent.
	ContactName  string `json:"contact_name,omitempty"`
	ContactPhone string `json:"contact_phone,omitempty"`
	ContactEmail string `json:"contact_email,omitempty"`

	Owner   string    `json:"owner"`
	Created time.Time `json:"created"`
	// History lists the matches the family was shown, newest last.
	History []Shown `json:"history,omitempty"`
	// Unmatched is set once the request has been counted as without match.
	Unmatched bool `json:"unmatched,omitempty"`
}

// LogValue logs only the id.
func (r Request) LogValue() slog.Value { return slog.StringValue(r.ID) }

// Shown is one matching run: when, and which profiles (publisher/id).
type Shown struct {
	At       time.Time `json:"at"`
	Profiles []string  `json:"profiles"`
}

// maxHistory bounds a request's history.
const maxHistory = 20

// Demand is one count of requests without a match.
type Demand struct {
	Municipality string          `json:"municipality"`
	Work         schema.WorkKind `json:"work"`
	Requests     int             `json:"requests"`
}

// Service keeps the requests and matches them.
type Service struct {
	col      *store.Collection[Request]
	demand   *store.Collection[Demand]
	audit    *audit.Log
	clk      clock.Clock
	profiles *workers.Profiles // nil without federation: no matches
	texts    *workers.Texts
	mu       sync.Mutex
}

// Open loads the requests from d (the node's /families namespace).
func Open(ctx context.Context, d store.Namespace, log *audit.Log, clk clock.Clock, profiles *workers.Profiles, texts *workers.Texts) (*Service, error) {
	s := &Service{audit: log, clk: clock.Or(clk), profiles: profiles, texts: texts}
	l := store.NewLoader(ctx, d)
	store.Load(l, &s.col, "request", func(r *Request) string { return r.ID })
	store.Load(l, &s.demand, "demand", func(x *Demand) string { return demandKey(x.Municipality, x.Work) })
	if l.Err != nil {
		return nil, l.Err
	}
	return s, nil
}

func demandKey(m string, w schema.WorkKind) string { return m + "-" + string(w) }

// mayAsk: a citizen for their own family, an operator (at a proximity
// point, for a family, or acting for a citizen) and the coop's admin.
func mayAsk(a auth.Actor) bool {
	return a.Role == auth.Admin || a.Role == auth.Operator || a.Role == auth.Citizen
}

// ownerOf is whose a new request is: the citizen the actor is or acts
// for, else the staff account that filed it.
func ownerOf(a auth.Actor) string {
	if c := a.Citizen(); c != "" {
		return c
	}
	return a.Username
}

// maySee: the request's owner (also through an operator acting for
// them), or the coop's admin, who sees the family's match history.
func maySee(a auth.Actor, r *Request) bool {
	return a.Role == auth.Admin || a.Username == r.Owner || a.Citizen() == r.Owner
}

func (s *Service) event(a auth.Actor, act audit.Action, id, detail string) audit.Event {
	ev := a.Event(act, "family_request", id)
	ev.Detail = detail
	return ev
}

func (s *Service) deny(ctx context.Context, a auth.Actor, id string) error {
	_ = s.audit.Record(ctx, s.event(a, audit.Denied, id, "family_request"))
	return problem.ErrForbidden
}

// Create files a request.
func (s *Service) Create(ctx context.Context, a auth.Actor, r Request) (Request, error) {
	if !mayAsk(a) {
		return Request{}, s.deny(ctx, a, "")
	}
	r.ID, r.Owner, r.Created, r.History, r.Unmatched = strings.ToLower(rand.Text()), ownerOf(a), s.clk.Now().UTC(), nil, false
	if err := validate(&r); err != nil {
		return Request{}, err
	}
	if err := s.col.Put(ctx, r); err != nil {
		return Request{}, err
	}
	return r, s.audit.Record(ctx, s.event(a, audit.Create, r.ID, ""))
}

// Get returns a request to its owner or the admin, audited.
func (s *Service) Get(ctx context.Context, a auth.Actor, id string) (Request, error) {
	r, ok := s.col.Get(id)
	if !ok || !maySee(a, &r) {
		if a.Role == auth.Admin {
			return Request{}, problem.ErrNotFound
		}
		return Request{}, s.deny(ctx, a, id)
	}
	s.audit.Note(s.event(a, audit.Read, id, ""))
	return r, nil
}

// List returns the requests the actor may see, newest first: a family's
// own, or every one to the coop's admin (with their match history).
func (s *Service) List(ctx context.Context, a auth.Actor) ([]Request, error) {
	if !mayAsk(a) {
		return nil, s.deny(ctx, a, "")
	}
	out := s.col.Filter(func(r *Request) bool { return maySee(a, r) })
	sort.Slice(out, func(i, j int) bool { return out[i].Created.After(out[j].Created) })
	s.audit.Note(s.event(a, audit.List, "", ""))
	if out == nil {
		out = []Request{} // a list, also when empty: "requests": [], not null
	}
	return out, nil
}

// Matches ranks the public profiles for the request, with reasons and
// gaps in lang, records the run in the request's history and, the first
// time a request finds nobody, counts it in the demand.
func (s *Service) Matches(ctx context.Context, a auth.Actor, id, lang string) ([]workers.Match, error) {
	r, err := s.Get(ctx, a, id)
	if err != nil {
		return nil, err
	}
	if s.profiles == nil {
		return nil, problem.New(http.StatusServiceUnavailable, "no_federation", "this node runs without federation")
	}
	ms := s.profiles.Match(workers.Need{Work: r.Work, HoursPerWeek: r.HoursPerWeek, LiveIn: r.LiveIn,
		Languages: r.Languages, Municipality: r.Municipality, BudgetCents: r.BudgetCents})
	if s.texts != nil {
		s.texts.Render(lang, ms)
	}
	return ms, s.remember(ctx, id, ms)
}

func (s *Service) remember(ctx context.Context, id string, ms []workers.Match) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	r, ok := s.col.Get(id)
	if !ok {
		return nil
	}
	shown := Shown{At: s.clk.Now().UTC(), Profiles: []string{}}
	for _, m := range ms {
		shown.Profiles = append(shown.Profiles, m.Profile.Ref())
	}
	r.History = append(slices.Clone(r.History), shown)
	if len(r.History) > maxHistory {
		r.History = r.History[len(r.History)-maxHistory:]
	}
	if len(ms) == 0 && !r.Unmatched {
		r.Unmatched = true
		d, _ := s.demand.Get(demandKey(r.Municipality, r.Work))
		d.Municipality, d.Work = r.Municipality, r.Work
		d.Requests++
		if err := s.demand.Put(ctx, d); err != nil {
			return err
		}
	}
	return s.col.Put(ctx, r)
}

// Demand returns the counts of requests without a match, largest first
// (the coop's admin only; the counts hold no personal data).
func (s *Service) Demand(ctx context.Context, a auth.Actor) ([]Demand, error) {
	if a.Role != auth.Admin {
		return nil, s.deny(ctx, a, "demand")
	}
	out := s.demand.Filter(func(*Demand) bool { return true })
	sort.Slice(out, func(i, j int) bool {
		if out[i].Requests != out[j].Requests {
			return out[i].Requests > out[j].Requests
		}
		return demandKey(out[i].Municipality, out[i].Work) < demandKey(out[j].Municipality, out[j].Work)
	})
	return out, nil
}

// validate checks a request's fields.
func validate(r *Request) error {
	f := map[string]string{}
	if !r.Work.Valid() {
		f["work"] = "must be one of elderly, night, domestic, babysitting, disability"
	}
	if r.HoursPerWeek < 1 || r.HoursPerWeek > schema.MaxHoursPerWeek {
		f["hours_per_week"] = fmt.Sprintf("must be between 1 and %d", schema.MaxHoursPerWeek)
	}
	if !schema.ValidMunicipality(r.Municipality) {
		f["municipality"] = "is not an ISTAT municipality code"
	}
	if len(r.Languages) > schema.MaxWorkerLanguages {
		f["languages"] = "too many languages"
	}
	for i, l := range r.Languages {
		if len(l) < 2 || len(l) > 12 || strings.ContainsAny(l, " \t/") {
			f[fmt.Sprintf("languages[%d]", i)] = "is not a language code"
		}
	}
	if r.StartDate != "" {
		if _, err := time.Parse(time.DateOnly, r.StartDate); err != nil {
			f["start_date"] = "must be a date YYYY-MM-DD"
		}
	}
	if r.BudgetCents < 0 || r.BudgetCents > schema.MaxWorkerPayCents {
		f["budget_cents"] = "is out of range"
	}
	for field, v := range map[string]struct {
		s   string
		max int
		ml  bool
	}{"notes": {r.Notes, 2000, true}, "contact_name": {r.ContactName, 200, false}, "contact_phone": {r.ContactPhone, 40, false}, "contact_email": {r.ContactEmail, 200, false}} {
		if code := schema.TextFault(v.s, v.max, v.ml); code != "" {
			f[field] = code
		}
	}
	return problem.Invalid(f)
}
