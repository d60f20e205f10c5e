package escalation

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
)

// Records name the links of a chain by role and an opaque id (Link.Ref:
// "family#3f9c0a1b2d4e"), never by name or address: timelines, alerts,
// webhook payloads and logs carry the ref, and whom it reaches is looked up
// in the registry (or the coop's chain) only when a message goes out.
//
// The id is a keyed hash of the beneficiary and whom the link reaches, so
// it is stable while the contact stays the same and means nothing without
// the node's key, which never leaves the store.

// linkKey is the node's key for link ids, stored once.
type linkKey struct {
	ID     string `json:"id"`
	Secret string `json:"secret"` // hex
}

// loadLinkKey reads the key, making it on first open.
func (s *Service) loadLinkKey(ctx context.Context) error {
	k, ok := s.keys.Get("link")
	if !ok {
		b := make([]byte, 32)
		_, _ = rand.Read(b)
		k = linkKey{ID: "link", Secret: hex.EncodeToString(b)}
		if err := s.keys.Put(ctx, k); err != nil {
			return fmt.Errorf("store link key: %w", err)
		}
	}
	secret, err := hex.DecodeString(k.Secret)
	if err != nil || len(secret) == 0 {
		return fmt.Errorf("link key: bad secret")
	}
	s.linkSecret = secret
	return nil
}

// linkID is the opaque id of a link of ben's chain.
func (s *Service) linkID(ben string, l Link) string {
	mac := hmac.New(sha256.New, s.linkSecret)
	fmt.Fprintf(mac, "%s\x00%s\x00%s\x00%s", ben, l.Kind, l.Channel, l.To)
	return hex.EncodeToString(mac.Sum(nil))[:12]
}

// Ref is how records name the link: its role and opaque id.
func (l Link) Ref() string { return l.Kind + "#" + l.ID }

// bare is the link as an alert keeps it: role, id and channel.
func bare(l Link) Link { return Link{Kind: l.Kind, ID: l.ID, Channel: l.Channel} }

// withIDs sets the id of every link of ben's chain.
func (s *Service) withIDs(ben string, ls []Link) []Link {
	for i := range ls {
		ls[i].ID = s.linkID(ben, ls[i])
	}
	return ls
}

// linksFor orders the chain for an action: the links of the kinds the
// action targets first, then the rest of the chain to escalate to.
func (s *Service) linksFor(ctx context.Context, action string, p Person, reporter string) []Link {
	chain := s.chain(ctx, p)
	var want func(l Link) bool
	switch action {
	case ActAlertSocial:
		want = func(l Link) bool { return l.Kind == "social_services" }
	case ActAlertFamily:
		want = func(l Link) bool { return slices.Contains([]string{"family", "neighbour", "gp", "other"}, l.Kind) }
	case ActAlertCaregivers:
		want = func(l Link) bool { return l.Kind == "caregiver" }
		// The other caregivers of the beneficiary, in-app.
		chain = append(s.caregiverLinks(ctx, p, reporter), chain...)
	default: // missed check-in: the whole chain in order
		return chain
	}
	var first, rest []Link
	for _, l := range chain {
		if want(l) {
			first = append(first, l)
		} else {
			rest = append(rest, l)
		}
	}
	if len(first) == 0 {
		return nil
	}
	return append(first, rest...)
}

// chain is the beneficiary's escalation chain: the stored settings, or the
// contacts with an e-mail address, in the registry's order; each link with
// its opaque id.
func (s *Service) chain(_ context.Context, p Person) []Link {
	if st, ok := s.settings.Get(p.ID); ok && len(st.Chain) > 0 {
		return s.withIDs(p.ID, slices.Clone(st.Chain))
	}
	var out []Link
	for _, c := range p.Contacts {
		if c.Email != "" {
			out = append(out, Link{Kind: c.Kind, Name: c.Name, Channel: "email", To: c.Email, Lang: c.Lang})
		}
	}
	return s.withIDs(p.ID, out)
}

// caregiverLinks are the in-app links to the beneficiary's caregivers
// other than except.
func (s *Service) caregiverLinks(ctx context.Context, p Person, except string) []Link {
	var out []Link
	for _, cg := range p.Caregivers {
		if cg == except {
			continue
		}
		if u, ok := s.cfg.Dir.CaregiverUser(ctx, cg); ok {
			out = append(out, Link{Kind: "caregiver", Channel: "inapp", To: u})
		}
	}
	return s.withIDs(p.ID, out)
}

// resolve finds whom a link of an alert reaches now. False when the
// contact left the chain (or changed address) since the alert began.
func (s *Service) resolve(ctx context.Context, ben string, l Link) (Link, bool) {
	p, ok := s.cfg.Dir.Beneficiary(ctx, ben)
	if !ok {
		return Link{}, false
	}
	all := append(s.chain(ctx, p), s.caregiverLinks(ctx, p, "")...)
	i := slices.IndexFunc(all, func(x Link) bool { return x.ID == l.ID && x.Kind == l.Kind })
	if i < 0 {
		return Link{}, false
	}
	return all[i], true
}

// migrateLinks rewrites alerts stored before links had ids: their links
// keep role, id and channel, and the names the old records used
// ("family:Luca Rossi") become refs in the alert and its case's timeline.
// Run once at open; a record already migrated is left alone. The audit
// log is append-only and keeps what it said then.
func (s *Service) migrateLinks(ctx context.Context) error {
	old := s.alerts.Filter(func(a *Alert) bool {
		return slices.ContainsFunc(a.Links, func(l Link) bool { return l.To != "" || l.Name != "" })
	})
	for _, al := range old {
		var names [][2]string // old text, new ref
		for i, l := range al.Links {
			l.ID = s.linkID(al.Beneficiary, l)
			if l.Name != "" {
				names = append(names, [2]string{l.Kind + ":" + l.Name, l.Ref()})
			}
			al.Links[i] = bare(l)
		}
		// Longest first: "family:Luca" must not eat "family:Luca Rossi".
		slices.SortFunc(names, func(a, b [2]string) int { return cmp.Compare(len(b[0]), len(a[0])) })
		rename := func(x *string) {
			for _, n := range names {
				*x = strings.ReplaceAll(*x, n[0], n[1])
			}
		}
		rename(&al.AckedBy)
		if err := s.alerts.Put(ctx, al); err != nil {
			return fmt.Errorf("migrate alert %s: %w", al.ID, err)
		}
		c, ok := s.cases.Get(al.Case)
		if !ok || len(names) == 0 {
			continue
		}
		for i := range c.Timeline {
			rename(&c.Timeline[i].By)
			rename(&c.Timeline[i].Detail)
		}
		for i := range c.Actions {
			rename(&c.Actions[i].DoneBy)
		}
		if err := s.saveCase(ctx, &c); err != nil {
			return err
		}
	}
	return nil
}
