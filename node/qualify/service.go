package qualify

import (
	"context"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/schema"
)

// Replica is the part of the federation replica the service reads.
type Replica interface {
	Current(ctx context.Context, kind schema.Kind, fn func(*schema.Entry) error) error
	OnChange(fn func(old, cur *schema.Entry))
}

// held is one credential entry as this node judges it.
type held struct {
	token     string
	hash      [32]byte
	publisher string // who published the entry (normally the authority node)
	subject   string // claimed subject, from the unverified payload
	q         *schema.Qualification
	k         *schema.AuthorityKey
	err       error // refusal by this node's trust set (time-independent part)
}

type list struct {
	l      *schema.StatusList
	bits   []byte
	issued time.Time
}

// Service is every node's view of qualifications: it watches the replica's
// credential and status list entries, verifies them against this node's
// own trust set, and answers whether an offering is qualified. A node never
// takes another node's word for it.
type Service struct {
	clk clock.Clock
	log *slog.Logger
	ver *Verifier

	mu     sync.RWMutex
	trust  *schema.TrustSet
	bySubj map[string]map[[32]byte]*held // subject peer → token hash → credential
	lists  map[string]*list              // status list id → newest verified list
	subs   []func(publisher string)
}

// NewService returns a service trusting ts (nil trusts nobody).
func NewService(ts *schema.TrustSet, clk clock.Clock, log *slog.Logger) *Service {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if ts == nil {
		ts, _ = schema.NewTrustSet(nil)
	}
	return &Service{
		clk: clock.Or(clk), log: log.With("component", "qualify"), ver: NewVerifier(ts, 0),
		trust: ts, bySubj: map[string]map[[32]byte]*held{}, lists: map[string]*list{},
	}
}

// Trust returns the trust set in use.
func (s *Service) Trust() *schema.TrustSet {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.trust
}

// Attach loads what the replica holds and follows its changes.
func (s *Service) Attach(ctx context.Context, r Replica) error {
	r.OnChange(func(old, cur *schema.Entry) { s.apply(old, cur) })
	for _, k := range []schema.Kind{schema.KindStatusList, schema.KindQualification} {
		if err := r.Current(ctx, k, func(e *schema.Entry) error { s.apply(nil, e); return nil }); err != nil {
			return fmt.Errorf("load %s entries: %w", k, err)
		}
	}
	return nil
}

// OnChange registers fn, called with a subject's peer ID whenever what
// this node believes about its qualifications may have changed (a new or
// withdrawn credential, a new status list: then every affected subject).
func (s *Service) OnChange(fn func(publisher string)) {
	s.mu.Lock()
	s.subs = append(s.subs, fn)
	s.mu.Unlock()
}

func (s *Service) notify(subjects []string) {
	s.mu.RLock()
	subs := slices.Clone(s.subs)
	s.mu.RUnlock()
	for _, p := range subjects {
		for _, fn := range subs {
			fn(p)
		}
	}
}

func (s *Service) apply(old, cur *schema.Entry) {
	if cur == nil {
		return
	}
	switch cur.Kind {
	case schema.KindQualification:
		s.notify(s.applyCredential(old, cur))
	case schema.KindStatusList:
		s.notify(s.applyList(cur))
	}
}

func bodyToken(e *schema.Entry) (string, bool) {
	t, err := schema.CredentialBody(e.Kind, e.Key, e.Body)
	if err != nil {
		return "", false
	}
	return t.Raw, true
}

func (s *Service) applyCredential(old, cur *schema.Entry) []string {
	var changed []string
	s.mu.Lock()
	defer s.mu.Unlock()
	if old != nil && !old.Tombstone {
		if tok, ok := bodyToken(old); ok {
			h := sha256.Sum256([]byte(tok))
			for subj, m := range s.bySubj {
				if c, ok := m[h]; ok && c.publisher == old.Publisher {
					delete(m, h)
					changed = append(changed, subj)
				}
			}
		}
	}
	if cur.Tombstone {
		return changed
	}
	tok, ok := bodyToken(cur)
	if !ok {
		return changed // the topic validator checked it; stored data is trusted to be well-formed
	}
	c := s.judge(tok, cur.Publisher)
	m := s.bySubj[c.subject]
	if m == nil {
		m = map[[32]byte]*held{}
		s.bySubj[c.subject] = m
	}
	m[c.hash] = c
	if c.err != nil {
		s.log.Info("credential not trusted", "credential", cur.Key, "subject", c.subject, "reason", c.err.Error())
	}
	return append(changed, c.subject)
}

// judge verifies a token against the current trust set (cached).
func (s *Service) judge(tok, publisher string) *held {
	c := &held{token: tok, hash: sha256.Sum256([]byte(tok)), publisher: publisher}
	r := s.ver.Check(tok)
	c.q, c.k, c.err = r.Q, r.Key, r.Err
	if c.q != nil {
		c.subject = c.q.Subject()
	} else if t, err := schema.ParseToken(tok); err == nil {
		if q, err := schema.DecodeQualification(t.Payload()); err == nil {
			c.subject = q.Subject()
		}
	}
	return c
}

func (s *Service) applyList(cur *schema.Entry) []string {
	if cur.Tombstone {
		return nil // a status list is never withdrawn; ignoring keeps revocations
	}
	tok, ok := bodyToken(cur)
	if !ok {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l, _, err := s.trust.VerifyStatusList(tok)
	if err != nil {
		s.log.Info("status list not trusted", "list", cur.Key, "reason", err.Error())
		return nil
	}
	prev := s.lists[l.ID]
	if prev != nil && !l.Issued().After(prev.issued) {
		return nil // lists only move forward: a replayed older list changes nothing
	}
	bits, err := schema.DecodeBitstring(l.CredentialSubject.EncodedList)
	if err != nil {
		return nil
	}
	s.lists[l.ID] = &list{l: l, bits: bits, issued: l.Issued()}
	var affected []string
	for subj, m := range s.bySubj {
		for _, c := range m {
			if c.q != nil && c.q.CredentialStatus.StatusListCredential == l.ID {
				affected = append(affected, subj)
				break
			}
		}
	}
	return affected
}

// SetTrust replaces the trust set and re-judges every credential.
func (s *Service) SetTrust(ts *schema.TrustSet) {
	s.mu.Lock()
	s.trust = ts
	s.ver = NewVerifier(ts, 0)
	var subjects []string
	for subj, m := range s.bySubj {
		for h, c := range m {
			m[h] = s.judge(c.token, c.publisher)
		}
		subjects = append(subjects, subj)
	}
	s.mu.Unlock()
	s.notify(subjects)
}

// Result is one credential with this node's verdict on it now.
type Result struct {
	Token      string    `json:"token"`
	ID         string    `json:"id,omitempty"`
	Subject    string    `json:"subject"`
	Publisher  string    `json:"publisher"`
	Authority  string    `json:"authority,omitempty"`
	Issuer     string    `json:"issuer,omitempty"`
	Categories []string  `json:"categories,omitempty"`
	Areas      []string  `json:"municipalities,omitempty"`
	ValidFrom  time.Time `json:"valid_from,omitzero"`
	ValidUntil time.Time `json:"valid_until,omitzero"`
	Valid      bool      `json:"valid"`
	Revoked    bool      `json:"revoked"`
	Reason     string    `json:"reason,omitempty"`
}

// status decides a held credential at now; callers hold mu.
func (s *Service) status(c *held, now time.Time) (valid, revoked bool, reason string) {
	if c.err != nil {
		return false, false, c.err.Error()
	}
	if err := schema.CurrentAt(c.q, c.k, now); err != nil {
		return false, false, err.Error()
	}
	st := c.q.CredentialStatus
	if l, ok := s.lists[st.StatusListCredential]; ok && l.l.Issuer.ID == c.q.Issuer.ID {
		i, _ := st.Index()
		if schema.BitSet(l.bits, i) {
			return false, true, "revoked by " + c.k.Name
		}
	}
	return true, false, ""
}

// Credentials returns the credentials held about subject, newest first,
// each with its verification result now.
func (s *Service) Credentials(subject string) []Result {
	now := s.clk.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	var out []Result
	for _, c := range s.bySubj[subject] {
		r := Result{Token: c.token, Subject: subject, Publisher: c.publisher}
		if c.q != nil {
			r.ID, r.Issuer = c.q.ID, c.q.Issuer.ID
			r.Categories, r.Areas = c.q.CredentialSubject.Categories, c.q.CredentialSubject.Municipalities
			r.ValidFrom, r.ValidUntil = c.q.Window()
		}
		if c.k != nil {
			r.Authority = c.k.Name
		}
		r.Valid, r.Revoked, r.Reason = s.status(c, now)
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b Result) int { return b.ValidFrom.Compare(a.ValidFrom) })
	return out
}

// Qualified reports whether publisher holds, now, a valid unrevoked
// credential from a trusted authority covering o's category in every
// municipality of its areas; it names the authority and the end of the
// validity.
func (s *Service) Qualified(publisher string, o schema.Offering) (authority string, until time.Time, ok bool) {
	authority, until, _, ok = s.Explain(publisher, o)
	return authority, until, ok
}

// Explain is Qualified with the reason when the offering is not covered
// (for the coop admin: the most specific reason found).
func (s *Service) Explain(publisher string, o schema.Offering) (authority string, until time.Time, reason string, ok bool) {
	now := s.clk.Now()
	s.mu.RLock()
	defer s.mu.RUnlock()
	reason = "no qualification"
	for _, c := range s.bySubj[publisher] {
		valid, _, why := s.status(c, now)
		if !valid {
			reason = why
			continue
		}
		covers, why := c.q.Covers(o.Category, o.Areas)
		if !covers {
			reason = why
			continue
		}
		_, u := c.q.Window()
		if !ok || u.After(until) {
			authority, until, ok = c.k.Name, u, true
		}
	}
	if ok {
		reason = ""
	}
	return authority, until, reason, ok
}

// Subjects returns every subject with at least one credential held.
func (s *Service) Subjects() []string {
	s.mu.RLock()
	defer s.mu.RUnlock()
	out := make([]string, 0, len(s.bySubj))
	for p := range s.bySubj {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}
