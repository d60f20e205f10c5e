package qualify

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
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

// Application states.
const (
	Submitted = "submitted"
	Changes   = "changes" // the officer asked for changes
	Approved  = "approved"
	Rejected  = "rejected"
	Revoked   = "revoked"
)

// Audit actions of the qualification flow.
const (
	ActApply   audit.Action = "apply"
	ActChanges audit.Action = "ask_changes"
	ActApprove audit.Action = "approve"
	ActReject  audit.Action = "reject"
	ActRevoke  audit.Action = "revoke"
	ActRefused audit.Action = "refused"
)

// Limits of an application.
const (
	MaxDescription = 10_000
	MaxMessage     = 2_000
)

// AttachmentInfo describes a stored attachment.
type AttachmentInfo struct {
	Name string `json:"name"`
	Type string `json:"type"`
	Size int    `json:"size"`
}

// Step is one event of an application's history.
type Step struct {
	At      time.Time `json:"at"`
	Actor   string    `json:"actor"`
	State   string    `json:"state"`
	Message string    `json:"message,omitempty"`
}

// Application is an application as the authority stores it.
type Application struct {
	ID             string           `json:"id"` // coop peer + "/" + the coop's form id
	FormID         string           `json:"form_id"`
	Coop           string           `json:"coop"`
	CoopName       string           `json:"coop_name"`
	Categories     []string         `json:"categories"`
	Municipalities []string         `json:"municipalities"`
	Description    string           `json:"description"`
	Attachments    []AttachmentInfo `json:"attachments,omitempty"`
	State          string           `json:"state"`
	Message        string           `json:"message,omitempty"`
	Submitted      time.Time        `json:"submitted"`
	Updated        time.Time        `json:"updated"`
	History        []Step           `json:"history"`
	CredentialID   string           `json:"credential_id,omitempty"`
	Credential     string           `json:"credential,omitempty"`
	StatusIndex    int              `json:"status_index,omitempty"`
	ValidUntil     time.Time        `json:"valid_until,omitzero"`
}

// Decision is what an officer grants on approval.
type Decision struct {
	Categories     []string
	Municipalities []string
	ValidUntil     time.Time
}

// Publisher puts an entry on the node's federated log.
type Publisher interface {
	Publish(ctx context.Context, kind schema.Kind, key string, body []byte) (*schema.Entry, error)
}

// AuthorityConfig configures the authority side of a node.
type AuthorityConfig struct {
	Keys      *KeyFile
	Name      string
	Territory []string
	Peer      string // this node's peer ID, published in the JWKS
	Store     store.Namespace
	Audit     *audit.Log
	Publisher Publisher
	Clock     clock.Clock // default: the real clock
	Logger    *slog.Logger
	// Known says whether a peer is a member of the federation; others'
	// applications are refused.
	Known func(peer string) bool
}

// Authority is the authority side: applications, review, credentials,
// revocation.
type Authority struct {
	cfg    AuthorityConfig
	priv   ed25519.PrivateKey
	key    PrivateKey
	log    *slog.Logger
	apps   *store.Collection[Application]
	listID string

	mu   sync.Mutex // serialises decisions and the status list
	list listState
}

// OpenAuthority loads the applications and the status list state.
func OpenAuthority(ctx context.Context, cfg AuthorityConfig) (*Authority, error) {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	priv, key, err := cfg.Keys.Current()
	if err != nil {
		return nil, err
	}
	if cfg.Name == "" || len(cfg.Territory) == 0 {
		return nil, errors.New("an authority needs a name and a territory")
	}
	for _, k := range cfg.Keys.Public(cfg.Name, cfg.Territory, cfg.Peer) {
		if err := k.Check(); err != nil {
			return nil, fmt.Errorf("authority key: %w", err)
		}
	}
	apps, err := store.LoadCollection(ctx, cfg.Store, "/apps", func(a *Application) string { return a.ID })
	if err != nil {
		return nil, fmt.Errorf("load applications: %w", err)
	}
	a := &Authority{cfg: cfg, priv: priv, key: key, log: cfg.Logger.With("component", "authority"), apps: apps,
		listID: schema.StatusListID(key.Issuer, 1)}
	if err := store.GetJSON(ctx, cfg.Store, "/statuslist", &a.list); err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, fmt.Errorf("load status list: %w", err)
	}
	return a, nil
}

// Start publishes the status list if it has never been published, so that
// every node holds it before the first revocation.
func (a *Authority) Start(ctx context.Context) error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.list.Issued != 0 {
		return nil
	}
	return a.publishListLocked(ctx)
}

// Keys returns the public keys (current and retired) for the JWKS.
func (a *Authority) Keys() []schema.AuthorityKey {
	return a.cfg.Keys.Public(a.cfg.Name, a.cfg.Territory, a.cfg.Peer)
}

// JWKS returns the JWKS document of /.well-known/jwks.json.
func (a *Authority) JWKS() []byte {
	b, _ := schema.MarshalJWKS(a.Keys())
	return b
}

// Name returns the authority's name.
func (a *Authority) Name() string { return a.cfg.Name }

// Territory returns the authority's territory.
func (a *Authority) Territory() []string { return slices.Clone(a.cfg.Territory) }

// officer lets officers through; anyone else, the node's admin included
// (who creates the officers' accounts but does not review), is refused,
// and the refusal of what they tried on application id is noted.
func (a *Authority) officer(actor auth.Actor, id, what string) error {
	if actor.Role != auth.Officer {
		a.note(actor, audit.Denied, id, what)
		return problem.ErrForbidden
	}
	return nil
}

// event is the audit event of actor's act on application id.
func event(actor auth.Actor, act audit.Action, id, detail string) audit.Event {
	return audit.Event{Actor: actor.Username, Role: string(actor.Role), Action: act, Kind: "application", Object: id, Remote: actor.Remote, Detail: detail}
}

func (a *Authority) note(actor auth.Actor, act audit.Action, id, detail string) {
	a.cfg.Audit.Note(event(actor, act, id, detail))
}

// record writes the audit event of a decision that changed an application.
func (a *Authority) record(ctx context.Context, actor auth.Actor, act audit.Action, id, detail string) error {
	return a.cfg.Audit.Record(ctx, event(actor, act, id, detail))
}

// List returns every application, newest first.
func (a *Authority) List(actor auth.Actor) ([]Application, error) {
	if err := a.officer(actor, "", "list"); err != nil {
		return nil, err
	}
	out := a.apps.Filter(func(*Application) bool { return true })
	slices.SortFunc(out, func(x, y Application) int { return y.Updated.Compare(x.Updated) })
	a.note(actor, audit.List, "", "")
	return out, nil
}

// Get returns one application.
func (a *Authority) Get(actor auth.Actor, id string) (Application, error) {
	if err := a.officer(actor, id, "read"); err != nil {
		return Application{}, err
	}
	app, ok := a.apps.Get(id)
	if !ok {
		return app, problem.ErrNotFound
	}
	a.note(actor, audit.Read, id, "")
	return app, nil
}

// Attachment returns attachment i of an application.
func (a *Authority) Attachment(ctx context.Context, actor auth.Actor, id string, i int) (AttachmentInfo, []byte, error) {
	app, err := a.Get(actor, id)
	if err != nil {
		return AttachmentInfo{}, nil, err
	}
	if i < 0 || i >= len(app.Attachments) {
		return AttachmentInfo{}, nil, problem.ErrNotFound
	}
	b, err := a.cfg.Store.Get(ctx, attKey(id, i))
	if err != nil {
		return AttachmentInfo{}, nil, fmt.Errorf("read attachment: %w", err)
	}
	return app.Attachments[i], b, nil
}

func attKey(id string, i int) store.Key {
	return store.NewKey("/att/" + strings.ReplaceAll(id, "/", "_") + "/" + strconv.Itoa(i))
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
