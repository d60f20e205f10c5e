package care

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/photo"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

// A caregiver's photo is shown to the people she calls: on the terminal
// when she rings, and beside her name in the coop's lists. It is private
// data of the coop like the rest of her record: stored in the coop's
// store only (never gossiped, never in a backup of anything but the
// node), read by the coop's staff and by the paired terminal of a person
// she calls, every change and read audited. The bytes are kept apart from
// the record, so that lists (held in memory, answered from each record's
// kept JSON) stay small; the record holds a short hash of the photo.

// MaxPhoto is the largest photo a caregiver's profile takes, in bytes.
const MaxPhoto = 512 << 10

// Photo is a stored picture.
type Photo struct {
	Type  string // image/jpeg or image/png
	Bytes []byte
	Tag   string // the record's Photo: changes when the photo does
}

// Callers tells which terminal may see a caregiver's photo: the device of
// credential is paired with the terminal of a person that caregiver calls.
// The calls domain implements it (the wiring hands it over), as it owns
// devices and who calls whom.
type Callers interface {
	MayShowCaller(credential, caregiver string) (device string, ok bool)
}

// SetCallers hands the registry the devices' rule (see Callers).
func (s *Service) SetCallers(c Callers) { s.callers.Store(&c) }

func photoKey(id string) store.Key { return store.NewKey("/photo/caregiver/" + id) }

// photoError is the field error of a refused picture.
func photoError(err error) error {
	code := "photo_type"
	switch {
	case errors.Is(err, photo.ErrMissing):
		code = "required"
	case errors.Is(err, photo.ErrSize):
		code = "photo_too_large"
	case errors.Is(err, photo.ErrPixels):
		code = "photo_too_big"
	}
	return problem.Invalid(map[string]string{"photo": code})
}

// photoWriter checks that a may change the photo of caregiver id (an admin,
// or the caregiver herself) and returns the record.
func (s *Service) photoWriter(ctx context.Context, a auth.Actor, id, what string) (Caregiver, error) {
	r := s.caregivers
	c, ok := r.col.Get(id)
	if !ok || c.Archived {
		return Caregiver{}, r.missing(ctx, s.audit, a, id, what, true)
	}
	if a.Role != auth.Admin && (a.Role != auth.Caregiver || a.CaregiverID == "" || a.CaregiverID != id) {
		return Caregiver{}, r.deny(ctx, s.audit, a, id, what)
	}
	return c, nil
}

// SetCaregiverPhoto stores b, a JPEG or PNG of at most MaxPhoto bytes, as
// the photo of caregiver id, encoded again (pixels only, no metadata).
func (s *Service) SetCaregiverPhoto(ctx context.Context, a auth.Actor, id string, b []byte) (Caregiver, error) {
	s.caregivers.mu.Lock() // one change of the record at a time: bytes and record in step
	defer s.caregivers.mu.Unlock()
	c, err := s.photoWriter(ctx, a, id, "photo")
	if err != nil {
		return Caregiver{}, err
	}
	p, err := photo.Check(b, MaxPhoto)
	if err != nil {
		_ = s.audit.Record(ctx, s.caregivers.event(a, audit.Denied, id, "photo "+err.Error()))
		return Caregiver{}, photoError(err)
	}
	sum := sha256.Sum256(p.Bytes)
	// The picture first, then the record that names it: a crash between
	// the two leaves the old tag, which reads the new picture.
	if err := s.photos.Put(ctx, photoKey(id), p.Bytes); err != nil {
		return Caregiver{}, fmt.Errorf("store photo: %w", err)
	}
	c.Photo = hex.EncodeToString(sum[:6])
	c.UpdatedAt = s.clk.Now().UTC()
	if err := s.caregivers.col.Put(ctx, c); err != nil {
		return Caregiver{}, fmt.Errorf("store caregiver: %w", err)
	}
	if err := s.audit.Record(ctx, s.caregivers.event(a, audit.Update, id, "photo")); err != nil {
		return Caregiver{}, fmt.Errorf("audit photo: %w", err)
	}
	return c, nil
}

// RemoveCaregiverPhoto removes the photo of caregiver id (the avatar
// stands in again).
func (s *Service) RemoveCaregiverPhoto(ctx context.Context, a auth.Actor, id string) (Caregiver, error) {
	s.caregivers.mu.Lock() // one change of the record at a time: bytes and record in step
	defer s.caregivers.mu.Unlock()
	c, err := s.photoWriter(ctx, a, id, "photo")
	if err != nil {
		return Caregiver{}, err
	}
	if c.Photo == "" {
		return c, nil
	}
	c.Photo = ""
	c.UpdatedAt = s.clk.Now().UTC()
	if err := s.caregivers.col.Put(ctx, c); err != nil {
		return Caregiver{}, fmt.Errorf("store caregiver: %w", err)
	}
	if err := s.photos.Delete(ctx, photoKey(id)); err != nil && !errors.Is(err, store.ErrNotFound) {
		return Caregiver{}, fmt.Errorf("delete photo: %w", err)
	}
	if err := s.audit.Record(ctx, s.caregivers.event(a, audit.Update, id, "photo_removed")); err != nil {
		return Caregiver{}, fmt.Errorf("audit photo: %w", err)
	}
	return c, nil
}

// CaregiverPhoto returns the photo of caregiver id to the coop's staff (its
// admins and caregivers); problem.ErrNotFound when she has none.
func (s *Service) CaregiverPhoto(ctx context.Context, a auth.Actor, id string) (Photo, error) {
	r := s.caregivers
	if a.Role != auth.Admin && a.Role != auth.Caregiver {
		return Photo{}, r.deny(ctx, s.audit, a, id, "photo")
	}
	p, err := s.loadPhoto(ctx, id)
	if err != nil {
		return Photo{}, err
	}
	s.audit.Note(r.event(a, audit.Read, id, "photo"))
	return p, nil
}

// CallerPhoto returns the photo of caregiver id to the terminal whose
// device credential is given, if that terminal's person is one she calls
// (Callers). Anything else is refused, audited, with the same answer
// whether or not the caregiver or her photo exists.
func (s *Service) CallerPhoto(ctx context.Context, credential, id, remote string) (Photo, error) {
	cp := s.callers.Load()
	device, ok := "", false
	if cp != nil && credential != "" {
		device, ok = (*cp).MayShowCaller(credential, id)
	}
	if !ok {
		_ = s.audit.Record(ctx, audit.Event{Actor: "terminal", Action: audit.Denied, Kind: "caregiver", Object: id, Remote: remote, Detail: "photo"})
		return Photo{}, problem.ErrForbidden
	}
	p, err := s.loadPhoto(ctx, id)
	if err != nil {
		return Photo{}, err
	}
	s.audit.Note(audit.Event{Actor: "terminal:" + device, Action: audit.Read, Kind: "caregiver", Object: id, Remote: remote, Detail: "photo"})
	return p, nil
}

func (s *Service) loadPhoto(ctx context.Context, id string) (Photo, error) {
	c, ok := s.caregivers.col.Get(id)
	if !ok || c.Archived || c.Photo == "" {
		return Photo{}, problem.ErrNotFound
	}
	b, err := s.photos.Get(ctx, photoKey(id))
	if errors.Is(err, store.ErrNotFound) {
		return Photo{}, problem.ErrNotFound
	} else if err != nil {
		return Photo{}, fmt.Errorf("read photo: %w", err)
	}
	ct, _ := photo.Sniff(b)
	return Photo{Type: ct, Bytes: b, Tag: c.Photo}, nil
}
