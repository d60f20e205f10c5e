package catalogue

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"slices"
	"sync"

	"github.com/difronte/difronte/schema"
)

// Log is the node's signed federation log as the catalogue publishes into
// it; federation.Federation implements it.
type Log interface {
	Publish(ctx context.Context, kind schema.Kind, key string, body []byte) (*schema.Entry, error)
	Withdraw(ctx context.Context, kind schema.Kind, key string) (*schema.Entry, error)
	PublishChanged(ctx context.Context, kind schema.Kind, key string, body []byte) (bool, error)
	WithdrawLive(ctx context.Context, kind schema.Kind, key string) (bool, error)
	PublishProfile(ctx context.Context, p schema.CoopProfile) error
}

// Publishing hands the own offerings, and the coop profile they imply, to
// the federation's log: it is Own's Publisher on a federated node.
type Publishing struct {
	own      *Own
	log      Log
	coopName string
	logger   *slog.Logger
	// mu orders publishes of own offerings: admin edits and the
	// republish after start.
	mu sync.Mutex
}

// NewPublishing publishes own's offerings, and the profile of the coop
// named coopName, into log.
func NewPublishing(own *Own, log Log, coopName string, logger *slog.Logger) *Publishing {
	return &Publishing{own: own, log: log, coopName: coopName, logger: logger}
}

// Profile is the coop's public profile: its name, and the territory and
// contact of its live offerings (a coop works where it offers services).
// It is not valid, and not published, until the coop has an offering.
func (s *Own) Profile(name string) schema.CoopProfile {
	p := schema.CoopProfile{Name: name, Kind: schema.KindCommunityCoop, Territory: []string{}}
	seen := map[string]bool{}
	// Each, not All: the profile is rebuilt at every publish, and copying
	// every offering each time made loading 20,000 offerings quadratic.
	s.Each(func(o *Offering) {
		if o.Archived {
			return
		}
		for _, a := range o.Areas {
			if !seen[a] && len(p.Territory) < schema.MaxTerritory {
				seen[a] = true
				p.Territory = append(p.Territory, a)
			}
		}
		if p.Contact.Email == "" && p.Contact.Phone == "" && p.Contact.URL == "" {
			p.Contact.Email, p.Contact.Phone, p.Contact.URL = o.Contact.Email, o.Contact.Phone, o.Contact.URL
		}
	})
	slices.Sort(p.Territory)
	return p
}

// PublishProfile publishes the coop profile if it changed.
func (p *Publishing) PublishProfile(ctx context.Context) error {
	return p.log.PublishProfile(ctx, p.own.Profile(p.coopName))
}

// profileQuietly keeps the profile in step with the offerings.
func (p *Publishing) profileQuietly(ctx context.Context) {
	if err := p.PublishProfile(ctx); err != nil {
		p.logger.Debug("coop profile not published", "component", "federation", "err", err)
	}
}

// PublishOffering signs and publishes an offering (Publisher).
func (p *Publishing) PublishOffering(ctx context.Context, o schema.Offering) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	body, err := json.Marshal(o)
	if err != nil {
		return err
	}
	if _, err = p.log.Publish(ctx, schema.KindOffering, o.ID, body); err != nil {
		return err
	}
	p.profileQuietly(ctx)
	return nil
}

// WithdrawOffering publishes an offering's tombstone (Publisher).
func (p *Publishing) WithdrawOffering(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, err := p.log.Withdraw(ctx, schema.KindOffering, id); err != nil {
		return err
	}
	p.profileQuietly(ctx)
	return nil
}

// Republish sends the federation the own offerings whose last change it
// may lack (Own.Unpublished): a crash between storing and publishing, or
// changes made while the node ran without its federation.
func (p *Publishing) Republish(ctx context.Context) error {
	ids, err := p.own.Unpublished(ctx)
	if err != nil {
		return err
	}
	for _, id := range ids {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err := p.republishOne(ctx, id); err != nil {
			return fmt.Errorf("republish offering %s: %w", id, err)
		}
		if err := p.own.Published(ctx, id); err != nil {
			return err
		}
	}
	return p.own.MarksComplete(ctx)
}

// republishOne publishes the stored state of one own offering if the log
// lacks it. It holds mu and reads the offering under it, so it never
// overwrites a newer edit that an admin saved meanwhile with an older copy.
func (p *Publishing) republishOne(ctx context.Context, id string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	o, ok := p.own.Lookup(id)
	if !ok {
		return nil
	}
	var changed bool
	var err error
	if o.Archived {
		changed, err = p.log.WithdrawLive(ctx, schema.KindOffering, o.ID)
	} else {
		body, _ := json.Marshal(o.Offering)
		changed, err = p.log.PublishChanged(ctx, schema.KindOffering, o.ID, body)
	}
	if err == nil && changed {
		p.profileQuietly(ctx)
	}
	return err
}
