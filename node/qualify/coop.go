package qualify

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// Sender runs one apply exchange with an authority node.
type Sender func(ctx context.Context, authorityPeer string, req federation.ApplyRequest) (federation.ApplyResponse, error)

// CoopConfig configures the coop side.
type CoopConfig struct {
	CoopName string
	Store    store.Namespace
	Audit    *audit.Log
	Send     Sender
	Clock    clock.Clock // default: the real clock
	Logger   *slog.Logger
}

// OwnApplication is an application as the coop sees it.
type OwnApplication struct {
	ID             string           `json:"id"`
	Authority      string           `json:"authority"` // authority node peer ID
	AuthorityName  string           `json:"authority_name"`
	Categories     []string         `json:"categories"`
	Municipalities []string         `json:"municipalities"`
	Description    string           `json:"description"`
	Attachments    []AttachmentInfo `json:"attachments,omitempty"`
	State          string           `json:"state"`
	Message        string           `json:"message,omitempty"`
	Updated        time.Time        `json:"updated"`
	Credential     string           `json:"credential,omitempty"`
}

// Coop is the coop side: apply, re-submit, follow the state.
type Coop struct {
	cfg  CoopConfig
	log  *slog.Logger
	apps *store.Collection[OwnApplication]
	mu   sync.Mutex
}

// OpenCoop loads the coop's applications.
func OpenCoop(ctx context.Context, cfg CoopConfig) (*Coop, error) {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	apps, err := store.LoadCollection(ctx, cfg.Store, "/own-apps", func(a *OwnApplication) string { return a.ID })
	if err != nil {
		return nil, fmt.Errorf("load applications: %w", err)
	}
	return &Coop{cfg: cfg, log: cfg.Logger.With("component", "qualify-coop"), apps: apps}, nil
}

func coopAdmin(actor auth.Actor) error {
	if actor.Role != auth.Admin {
		return problem.ErrForbidden
	}
	return nil
}

// List returns the coop's applications, newest first.
func (c *Coop) List(actor auth.Actor) ([]OwnApplication, error) {
	if err := coopAdmin(actor); err != nil {
		return nil, err
	}
	out := c.apps.Filter(func(*OwnApplication) bool { return true })
	slices.SortFunc(out, func(x, y OwnApplication) int { return y.Updated.Compare(x.Updated) })
	return out, nil
}

// Get returns one application.
func (c *Coop) Get(actor auth.Actor, id string) (OwnApplication, error) {
	if err := coopAdmin(actor); err != nil {
		return OwnApplication{}, err
	}
	a, ok := c.apps.Get(id)
	if !ok {
		return a, problem.ErrNotFound
	}
	return a, nil
}

// Apply sends a new application (form.ID empty) or re-submits one the
// authority sent back (form.ID set), and stores the answer.
func (c *Coop) Apply(ctx context.Context, actor auth.Actor, authority, authorityName string, form federation.ApplicationForm) (OwnApplication, error) {
	if err := coopAdmin(actor); err != nil {
		return OwnApplication{}, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if form.ID == "" {
		form.ID = newUUID()
	} else {
		prev, ok := c.apps.Get(form.ID)
		if !ok {
			return OwnApplication{}, problem.ErrNotFound
		}
		if prev.State != Changes {
			return prev, badState(prev.State)
		}
		authority, authorityName = prev.Authority, prev.AuthorityName
	}
	if _, err := schema.PublicKeyFromPeerID(authority); err != nil {
		return OwnApplication{}, problem.Invalid(map[string]string{"authority": "bad_peer_id"})
	}
	if code := schema.TextFault(authorityName, 200, false); code != "" {
		return OwnApplication{}, problem.Invalid(map[string]string{"authority_name": code})
	}
	form.CoopName = c.cfg.CoopName
	if err := CheckForm(&form, nil); err != nil {
		return OwnApplication{}, problem.BadRequest("invalid_application", err.Error(), err)
	}
	resp, err := c.cfg.Send(ctx, authority, federation.ApplyRequest{Op: federation.ApplySubmit, Form: &form})
	if err != nil {
		c.cfg.Audit.Note(audit.Event{Actor: actor.Username, Role: string(actor.Role), Action: ActRefused, Kind: "own_application", Object: form.ID, Detail: err.Error()})
		if errors.Is(err, federation.ErrApplyRefused) {
			return OwnApplication{}, problem.BadRequest("application_refused", err.Error(), err)
		}
		return OwnApplication{}, &problem.Error{Status: http.StatusBadGateway, Code: "unreachable",
			Message: "the authority could not be reached; send again later", Err: fmt.Errorf("send application: %w", err)}
	}
	a := OwnApplication{
		ID: form.ID, Authority: authority, AuthorityName: authorityName,
		Categories: form.Categories, Municipalities: form.Municipalities, Description: form.Description,
		State: Submitted, Updated: c.cfg.Clock.Now().UTC(),
	}
	if prev, ok := c.apps.Get(form.ID); ok && len(form.Attachments) == 0 {
		a.Attachments = prev.Attachments
	}
	for _, at := range form.Attachments {
		a.Attachments = append(a.Attachments, AttachmentInfo{Name: at.Name, Type: at.Type, Size: len(at.Data)})
	}
	for _, st := range resp.Applications {
		if st.ID == form.ID {
			a.State, a.Message, a.Credential = st.State, st.Message, st.Credential
		}
	}
	if err := c.apps.Put(ctx, a); err != nil {
		return a, err
	}
	if err := c.cfg.Audit.Record(ctx, audit.Event{Actor: actor.Username, Role: string(actor.Role), Action: ActApply, Kind: "own_application", Object: a.ID}); err != nil {
		return a, err
	}
	return a, nil
}

// Refresh asks every authority with an application of ours for their
// states, and stores what changed. It returns how many changed.
func (c *Coop) Refresh(ctx context.Context) (int, error) {
	auths := map[string]bool{}
	for _, a := range c.apps.Filter(func(*OwnApplication) bool { return true }) {
		auths[a.Authority] = true
	}
	changed := 0
	var errs []error
	for au := range auths {
		resp, err := c.cfg.Send(ctx, au, federation.ApplyRequest{Op: federation.ApplyStatus})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		c.mu.Lock()
		for _, st := range resp.Applications {
			a, ok := c.apps.Get(st.ID)
			if !ok || a.Authority != au {
				continue
			}
			if a.State == st.State && a.Message == st.Message && a.Credential == st.Credential {
				continue
			}
			a.State, a.Message, a.Credential, a.Updated = st.State, st.Message, st.Credential, st.Updated
			if err := c.apps.Put(ctx, a); err != nil {
				errs = append(errs, err)
				continue
			}
			changed++
		}
		c.mu.Unlock()
	}
	return changed, errors.Join(errs...)
}
