package qualify

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	ds "github.com/ipfs/go-datastore"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
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
	Store     ds.Batching
	Audit     *audit.Log
	Publisher Publisher
	Now       func() time.Time
	Logger    *slog.Logger
	// Known says whether a peer is a member of the federation; others'
	// applications are refused.
	Known func(peer string) bool
}

type listState struct {
	Next    int   `json:"next"`
	Revoked []int `json:"revoked"`
	Issued  int64 `json:"issued"` // validFrom of the newest list, Unix seconds
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
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
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
	if err := store.GetJSON(ctx, cfg.Store, "/statuslist", &a.list); err != nil && !errors.Is(err, ds.ErrNotFound) {
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

func officer(actor auth.Actor) error {
	if actor.Role != auth.Officer && actor.Role != auth.Admin {
		return problem.ErrForbidden
	}
	return nil
}

func (a *Authority) note(actor auth.Actor, act audit.Action, id, detail string) {
	a.cfg.Audit.Note(audit.Event{Actor: actor.Username, Role: string(actor.Role), Action: act, Kind: "application", Object: id, Remote: actor.Remote, Detail: detail})
}

// List returns every application, newest first.
func (a *Authority) List(actor auth.Actor) ([]Application, error) {
	if err := officer(actor); err != nil {
		a.note(actor, audit.Denied, "", "list")
		return nil, err
	}
	out := a.apps.Filter(func(*Application) bool { return true })
	slices.SortFunc(out, func(x, y Application) int { return y.Updated.Compare(x.Updated) })
	a.note(actor, audit.List, "", "")
	return out, nil
}

// Get returns one application.
func (a *Authority) Get(actor auth.Actor, id string) (Application, error) {
	if err := officer(actor); err != nil {
		a.note(actor, audit.Denied, id, "read")
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

func attKey(id string, i int) ds.Key {
	return ds.NewKey("/att/" + strings.ReplaceAll(id, "/", "_") + "/" + strconv.Itoa(i))
}

func badState(state string) error {
	return problem.New(http.StatusConflict, "bad_state", "the application is "+state)
}

// AskChanges sends the application back to the coop with a message.
func (a *Authority) AskChanges(ctx context.Context, actor auth.Actor, id, message string) (Application, error) {
	return a.decide(ctx, actor, id, ActChanges, Changes, message, []string{Submitted})
}

// Reject closes the application.
func (a *Authority) Reject(ctx context.Context, actor auth.Actor, id, message string) (Application, error) {
	return a.decide(ctx, actor, id, ActReject, Rejected, message, []string{Submitted, Changes})
}

func checkMessage(m string, required bool) error {
	m = strings.TrimSpace(m)
	if required && m == "" {
		return problem.Invalid(map[string]string{"message": "required"})
	}
	if utf8.RuneCountInString(m) > MaxMessage {
		return problem.Invalid(map[string]string{"message": "too_long"})
	}
	return nil
}

func (a *Authority) decide(ctx context.Context, actor auth.Actor, id string, act audit.Action, to, message string, from []string) (Application, error) {
	if err := officer(actor); err != nil {
		a.note(actor, audit.Denied, id, string(act))
		return Application{}, err
	}
	if err := checkMessage(message, true); err != nil {
		return Application{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	app, ok := a.apps.Get(id)
	if !ok {
		return app, problem.ErrNotFound
	}
	if !slices.Contains(from, app.State) {
		return app, badState(app.State)
	}
	now := a.cfg.Now().UTC()
	app.State, app.Message, app.Updated = to, strings.TrimSpace(message), now
	app.History = append(app.History, Step{At: now, Actor: actor.Username, State: to, Message: app.Message})
	if err := a.apps.Put(ctx, app); err != nil {
		return app, err
	}
	if err := a.cfg.Audit.Record(ctx, audit.Event{Actor: actor.Username, Role: string(actor.Role), Action: act, Kind: "application", Object: id, Remote: actor.Remote}); err != nil {
		return app, err
	}
	return app, nil
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// Approve issues the qualification and publishes it.
func (a *Authority) Approve(ctx context.Context, actor auth.Actor, id string, d Decision) (Application, error) {
	if err := officer(actor); err != nil {
		a.note(actor, audit.Denied, id, "approve")
		return Application{}, err
	}
	now := a.cfg.Now().UTC()
	fields := map[string]string{}
	if len(d.Categories) == 0 {
		fields["categories"] = "required"
	}
	for _, c := range d.Categories {
		if !schema.KnownTerm(c) {
			fields["categories"] = "unknown"
		}
	}
	if len(d.Municipalities) == 0 {
		fields["municipalities"] = "required"
	}
	probe := schema.AuthorityKey{Territory: a.cfg.Territory}
	for _, m := range d.Municipalities {
		if !schema.ValidMunicipality(m) {
			fields["municipalities"] = "unknown"
		} else if !probe.InTerritory(m) {
			fields["municipalities"] = "outside_territory"
		}
	}
	if !d.ValidUntil.After(now.Add(time.Hour)) {
		fields["valid_until"] = "past"
	}
	if err := problem.Invalid(fields); err != nil {
		return Application{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	app, ok := a.apps.Get(id)
	if !ok {
		return app, problem.ErrNotFound
	}
	if app.State != Submitted && app.State != Changes {
		return app, badState(app.State)
	}
	if a.list.Next >= schema.StatusListBits {
		return app, errors.New("status list full")
	}
	idx := a.list.Next
	q := schema.Qualification{
		Context: []string{schema.CredentialsV2Context},
		ID:      "urn:uuid:" + newUUID(),
		Type:    []string{schema.VerifiableCredential, schema.QualificationType},
		Issuer:  schema.Issuer{ID: a.key.Issuer, Name: a.cfg.Name},
		// validFrom is the key's clock second; it must not precede the
		// key's own start.
		ValidFrom:  schema.FormatTime(now),
		ValidUntil: schema.FormatTime(d.ValidUntil),
		CredentialSubject: schema.QualificationSubject{
			ID:             schema.PeerURNPrefix + app.Coop,
			Categories:     slices.Clone(d.Categories),
			Municipalities: slices.Clone(d.Municipalities),
		},
		CredentialStatus: schema.StatusEntry{
			ID:                   a.listID + "#" + strconv.Itoa(idx),
			Type:                 schema.StatusEntryType,
			StatusPurpose:        schema.StatusPurpose,
			StatusListIndex:      strconv.Itoa(idx),
			StatusListCredential: a.listID,
		},
	}
	if err := q.Validate(); err != nil {
		return app, fmt.Errorf("issue credential: %w", err)
	}
	tok, err := schema.SignCredential(a.priv, a.key.Kid, q)
	if err != nil {
		return app, err
	}
	a.list.Next++
	if err := store.PutJSON(ctx, a.cfg.Store, "/statuslist", a.list); err != nil {
		return app, err
	}
	app.State, app.Message, app.Updated = Approved, "", now
	app.CredentialID, app.Credential, app.StatusIndex, app.ValidUntil = q.ID, tok, idx, d.ValidUntil.UTC().Truncate(time.Second)
	app.History = append(app.History, Step{At: now, Actor: actor.Username, State: Approved})
	if err := a.apps.Put(ctx, app); err != nil {
		return app, err
	}
	if err := a.cfg.Audit.Record(ctx, audit.Event{Actor: actor.Username, Role: string(actor.Role), Action: ActApprove, Kind: "application", Object: id, Remote: actor.Remote, Detail: q.ID}); err != nil {
		return app, err
	}
	if a.list.Issued == 0 {
		if err := a.publishListLocked(ctx); err != nil {
			return app, err
		}
	}
	if _, err := a.cfg.Publisher.Publish(ctx, schema.KindQualification, q.ID, schema.CredentialEntryBody(tok)); err != nil {
		return app, fmt.Errorf("publish qualification: %w", err)
	}
	a.log.Info("qualification issued", "application", id, "credential", q.ID)
	return app, nil
}

// Revoke sets the credential's status bit and publishes the new list.
func (a *Authority) Revoke(ctx context.Context, actor auth.Actor, id, reason string) (Application, error) {
	if err := officer(actor); err != nil {
		a.note(actor, audit.Denied, id, "revoke")
		return Application{}, err
	}
	if err := checkMessage(reason, true); err != nil {
		return Application{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	app, ok := a.apps.Get(id)
	if !ok {
		return app, problem.ErrNotFound
	}
	if app.State != Approved {
		return app, badState(app.State)
	}
	now := a.cfg.Now().UTC()
	if !slices.Contains(a.list.Revoked, app.StatusIndex) {
		a.list.Revoked = append(a.list.Revoked, app.StatusIndex)
	}
	app.State, app.Message, app.Updated = Revoked, strings.TrimSpace(reason), now
	app.History = append(app.History, Step{At: now, Actor: actor.Username, State: Revoked, Message: app.Message})
	if err := a.apps.Put(ctx, app); err != nil {
		return app, err
	}
	if err := a.cfg.Audit.Record(ctx, audit.Event{Actor: actor.Username, Role: string(actor.Role), Action: ActRevoke, Kind: "application", Object: id, Remote: actor.Remote, Detail: app.CredentialID}); err != nil {
		return app, err
	}
	if err := a.publishListLocked(ctx); err != nil {
		return app, err
	}
	a.log.Info("qualification revoked", "application", id, "credential", app.CredentialID)
	return app, nil
}

// publishListLocked signs and publishes the status list with a validFrom
// strictly after the previous one (lists only move forward; credential
// times have one-second precision).
func (a *Authority) publishListLocked(ctx context.Context) error {
	at := a.cfg.Now().UTC().Truncate(time.Second)
	if at.Unix() <= a.list.Issued {
		at = time.Unix(a.list.Issued+1, 0).UTC()
	}
	bits := schema.NewBitstring()
	for _, i := range a.list.Revoked {
		schema.SetBit(bits, i)
	}
	l := schema.StatusList{
		Context:   []string{schema.CredentialsV2Context},
		ID:        a.listID,
		Type:      []string{schema.VerifiableCredential, schema.StatusListType},
		Issuer:    schema.Issuer{ID: a.key.Issuer, Name: a.cfg.Name},
		ValidFrom: schema.FormatTime(at),
		CredentialSubject: schema.StatusListSubject{
			ID: a.listID + "#list", Type: "BitstringStatusList", StatusPurpose: schema.StatusPurpose,
			EncodedList: schema.EncodeBitstring(bits),
		},
	}
	tok, err := schema.SignCredential(a.priv, a.key.Kid, l)
	if err != nil {
		return err
	}
	a.list.Issued = at.Unix()
	if err := store.PutJSON(ctx, a.cfg.Store, "/statuslist", a.list); err != nil {
		return err
	}
	if _, err := a.cfg.Publisher.Publish(ctx, schema.KindStatusList, a.listID, schema.CredentialEntryBody(tok)); err != nil {
		return fmt.Errorf("publish status list: %w", err)
	}
	return nil
}

// HandleApply answers the apply protocol (federation.ApplyHandler).
func (a *Authority) HandleApply(ctx context.Context, from peer.ID, req federation.ApplyRequest) federation.ApplyResponse {
	coop := from.String()
	sys := auth.Actor{Username: "peer:" + coop}
	if a.cfg.Known != nil && !a.cfg.Known(coop) {
		a.refuse(sys, "", "unknown node")
		return federation.ApplyResponse{Error: "unknown node: not a member of the federation"}
	}
	switch req.Op {
	case federation.ApplyStatus:
		return federation.ApplyResponse{Applications: a.states(coop)}
	case federation.ApplySubmit:
		if req.Form == nil {
			return federation.ApplyResponse{Error: "no form"}
		}
		st, err := a.submit(ctx, coop, req.Form)
		if err != nil {
			a.refuse(sys, req.Form.ID, err.Error())
			return federation.ApplyResponse{Error: err.Error()}
		}
		return federation.ApplyResponse{Applications: []federation.ApplicationState{st}}
	}
	a.refuse(sys, "", "unknown operation")
	return federation.ApplyResponse{Error: "unknown operation"}
}

func (a *Authority) refuse(actor auth.Actor, id, reason string) {
	a.note(actor, ActRefused, id, reason)
	a.log.Info("application refused", "from", actor.Username, "reason", reason)
}

func stateOf(app Application) federation.ApplicationState {
	return federation.ApplicationState{ID: app.FormID, State: app.State, Message: app.Message, Updated: app.Updated, Credential: app.Credential}
}

func (a *Authority) states(coop string) []federation.ApplicationState {
	var out []federation.ApplicationState
	for _, app := range a.apps.Filter(func(x *Application) bool { return x.Coop == coop }) {
		out = append(out, stateOf(app))
	}
	return out
}

var (
	magicPDF  = []byte("%PDF-")
	magicPNG  = []byte("\x89PNG\r\n\x1a\n")
	magicJPEG = []byte{0xff, 0xd8, 0xff}
)

// CheckAttachment checks type, size and that the bytes are what the type
// says (so a "PDF" is not an executable).
func CheckAttachment(at federation.Attachment) error {
	if len(at.Data) == 0 || len(at.Data) > federation.MaxAttachmentSize {
		return fmt.Errorf("attachment %q of %d bytes (limit %d)", at.Name, len(at.Data), federation.MaxAttachmentSize)
	}
	if at.Name == "" || len(at.Name) > 200 || !utf8.ValidString(at.Name) || strings.ContainsAny(at.Name, "/\\\x00") {
		return fmt.Errorf("attachment name %q not allowed", at.Name)
	}
	var magic []byte
	switch at.Type {
	case "application/pdf":
		magic = magicPDF
	case "image/png":
		magic = magicPNG
	case "image/jpeg":
		magic = magicJPEG
	default:
		return fmt.Errorf("attachment type %q not allowed (PDF, PNG, JPEG)", at.Type)
	}
	if !bytes.HasPrefix(at.Data, magic) {
		return fmt.Errorf("attachment %q is not a %s", at.Name, at.Type)
	}
	return nil
}

// CheckForm validates an application form against a territory.
func CheckForm(f *federation.ApplicationForm, territory []string) error {
	if f.ID == "" || len(f.ID) > 64 || strings.ContainsAny(f.ID, "/ \t\n") {
		return errors.New("bad application id")
	}
	if len(f.CoopName) > 200 {
		return errors.New("coop name too long")
	}
	if len(f.Categories) == 0 || len(f.Categories) > 50 {
		return errors.New("categories: 1 to 50")
	}
	for _, c := range f.Categories {
		if !schema.KnownTerm(c) {
			return fmt.Errorf("unknown category %q", c)
		}
	}
	if len(f.Municipalities) == 0 || len(f.Municipalities) > schema.MaxAreas {
		return errors.New("municipalities: at least one")
	}
	probe := schema.AuthorityKey{Territory: territory}
	for _, m := range f.Municipalities {
		if !schema.ValidMunicipality(m) {
			return fmt.Errorf("unknown municipality %q", m)
		}
		if territory != nil && !probe.InTerritory(m) {
			return fmt.Errorf("municipality %s is outside the authority's territory", m)
		}
	}
	if strings.TrimSpace(f.Description) == "" || utf8.RuneCountInString(f.Description) > MaxDescription {
		return errors.New("description: required, at most 10000 characters")
	}
	if len(f.Attachments) > federation.MaxAttachments {
		return fmt.Errorf("%d attachments (limit %d)", len(f.Attachments), federation.MaxAttachments)
	}
	for _, at := range f.Attachments {
		if err := CheckAttachment(at); err != nil {
			return err
		}
	}
	return nil
}

func (a *Authority) submit(ctx context.Context, coop string, f *federation.ApplicationForm) (federation.ApplicationState, error) {
	if err := CheckForm(f, a.cfg.Territory); err != nil {
		return federation.ApplicationState{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	id := coop + "/" + f.ID
	now := a.cfg.Now().UTC()
	app, exists := a.apps.Get(id)
	if exists && app.State != Changes {
		if app.State == Submitted {
			return stateOf(app), nil // a retry of the same submission
		}
		return federation.ApplicationState{}, fmt.Errorf("application already %s", app.State)
	}
	if !exists {
		app = Application{ID: id, FormID: f.ID, Coop: coop, Submitted: now}
	}
	app.CoopName, app.Categories, app.Municipalities, app.Description = f.CoopName, f.Categories, f.Municipalities, f.Description
	app.State, app.Message, app.Updated = Submitted, "", now
	app.History = append(app.History, Step{At: now, Actor: "peer:" + coop, State: Submitted})
	b, err := a.cfg.Store.Batch(ctx)
	if err != nil {
		return federation.ApplicationState{}, err
	}
	// Attachments of a re-submission replace the earlier ones only when
	// new ones come.
	if len(f.Attachments) > 0 {
		app.Attachments = nil
		for i, at := range f.Attachments {
			if err := b.Put(ctx, attKey(id, i), at.Data); err != nil {
				return federation.ApplicationState{}, err
			}
			app.Attachments = append(app.Attachments, AttachmentInfo{Name: at.Name, Type: at.Type, Size: len(at.Data)})
		}
	}
	if err := b.Commit(ctx); err != nil {
		return federation.ApplicationState{}, fmt.Errorf("store attachments: %w", err)
	}
	if err := a.apps.Put(ctx, app); err != nil {
		return federation.ApplicationState{}, err
	}
	if err := a.cfg.Audit.Record(ctx, audit.Event{Actor: "peer:" + coop, Action: ActApply, Kind: "application", Object: id}); err != nil {
		return federation.ApplicationState{}, err
	}
	return stateOf(app), nil
}
