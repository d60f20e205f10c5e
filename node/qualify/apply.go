package qualify

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/schema"
)

// The authority's side of the apply protocol: a member coop's node asks
// for the state of its applications or submits a form, which is checked
// and stored with its attachments.

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
	if strings.TrimSpace(f.Description) == "" || schema.TextFault(f.Description, MaxDescription, true) != "" {
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
	now := a.cfg.Clock.Now().UTC()
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
	app.step(Submitted, "peer:"+coop, "", now)
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
	if err := a.record(ctx, auth.Actor{Username: "peer:" + coop}, ActApply, id, ""); err != nil {
		return federation.ApplicationState{}, err
	}
	return stateOf(app), nil
}
