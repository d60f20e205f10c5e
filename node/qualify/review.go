package qualify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// The officer's decisions on an application: ask for changes, reject,
// approve (issuing the credential) and revoke (through the status list).

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
	if code := schema.TextFault(m, MaxMessage, true); code != "" {
		return problem.Invalid(map[string]string{"message": code})
	}
	return nil
}

// inState returns the application id, if it is in one of the states from;
// a.mu is held.
func (a *Authority) inState(id string, from ...string) (Application, error) {
	app, ok := a.apps.Get(id)
	if !ok {
		return app, problem.ErrNotFound
	}
	if !slices.Contains(from, app.State) {
		return app, badState(app.State)
	}
	return app, nil
}

// step moves the application to state, by actor, with a message (may be
// empty), and adds the step to its history.
func (app *Application) step(state, actor, message string, at time.Time) {
	app.State, app.Message, app.Updated = state, message, at
	app.History = append(app.History, Step{At: at, Actor: actor, State: state, Message: message})
}

func (a *Authority) decide(ctx context.Context, actor auth.Actor, id string, act audit.Action, to, message string, from []string) (Application, error) {
	if err := a.officer(actor, id, string(act)); err != nil {
		return Application{}, err
	}
	if err := checkMessage(message, true); err != nil {
		return Application{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.inState(id, from...)
	if err != nil {
		return app, err
	}
	app.step(to, actor.Username, strings.TrimSpace(message), a.cfg.Clock.Now().UTC())
	if err := a.apps.Put(ctx, app); err != nil {
		return app, err
	}
	if err := a.record(ctx, actor, act, id, ""); err != nil {
		return app, err
	}
	return app, nil
}

// Approve issues the qualification and publishes it.
func (a *Authority) Approve(ctx context.Context, actor auth.Actor, id string, d Decision) (Application, error) {
	if err := a.officer(actor, id, "approve"); err != nil {
		return Application{}, err
	}
	now := a.cfg.Clock.Now().UTC()
	if err := a.checkDecision(d, now); err != nil {
		return Application{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.inState(id, Submitted, Changes)
	if err != nil {
		return app, err
	}
	if a.list.Next >= schema.StatusListBits {
		return app, errors.New("status list full")
	}
	idx := a.list.Next
	q := a.qualification(app.Coop, d, idx, now)
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
	app.step(Approved, actor.Username, "", now)
	app.CredentialID, app.Credential, app.StatusIndex, app.ValidUntil = q.ID, tok, idx, d.ValidUntil.UTC().Truncate(time.Second)
	if err := a.apps.Put(ctx, app); err != nil {
		return app, err
	}
	if err := a.record(ctx, actor, ActApprove, id, q.ID); err != nil {
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

// checkDecision checks what an officer grants: known categories,
// municipalities of the authority's territory, an end at least an hour
// away.
func (a *Authority) checkDecision(d Decision, now time.Time) error {
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
	return problem.Invalid(fields)
}

// qualification is the credential granting d to coop, with status list
// entry idx.
func (a *Authority) qualification(coop string, d Decision, idx int, now time.Time) schema.Qualification {
	return schema.Qualification{
		Context: []string{schema.CredentialsV2Context},
		ID:      "urn:uuid:" + newUUID(),
		Type:    []string{schema.VerifiableCredential, schema.QualificationType},
		Issuer:  schema.Issuer{ID: a.key.Issuer, Name: a.cfg.Name},
		// validFrom is the key's clock second; it must not precede the
		// key's own start.
		ValidFrom:  schema.FormatTime(now),
		ValidUntil: schema.FormatTime(d.ValidUntil),
		CredentialSubject: schema.QualificationSubject{
			ID:             schema.PeerURNPrefix + coop,
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
}

// Revoke sets the credential's status bit and publishes the new list.
func (a *Authority) Revoke(ctx context.Context, actor auth.Actor, id, reason string) (Application, error) {
	if err := a.officer(actor, id, "revoke"); err != nil {
		return Application{}, err
	}
	if err := checkMessage(reason, true); err != nil {
		return Application{}, err
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	app, err := a.inState(id, Approved)
	if err != nil {
		return app, err
	}
	now := a.cfg.Clock.Now().UTC()
	if !slices.Contains(a.list.Revoked, app.StatusIndex) {
		a.list.Revoked = append(a.list.Revoked, app.StatusIndex)
	}
	app.step(Revoked, actor.Username, strings.TrimSpace(reason), now)
	if err := a.apps.Put(ctx, app); err != nil {
		return app, err
	}
	if err := a.record(ctx, actor, ActRevoke, id, app.CredentialID); err != nil {
		return app, err
	}
	if err := a.publishListLocked(ctx); err != nil {
		return app, err
	}
	a.log.Info("qualification revoked", "application", id, "credential", app.CredentialID)
	return app, nil
}

type listState struct {
	Next    int   `json:"next"`
	Revoked []int `json:"revoked"`
	Issued  int64 `json:"issued"` // validFrom of the newest list, Unix seconds
}

// publishListLocked signs and publishes the status list with a validFrom
// strictly after the previous one (lists only move forward; credential
// times have one-second precision).
func (a *Authority) publishListLocked(ctx context.Context) error {
	at := a.cfg.Clock.Now().UTC().Truncate(time.Second)
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
