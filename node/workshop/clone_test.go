package workshop

import (
	"context"
	"maps"
	"testing"
)

// TestDeviceCopiesShareNothing: a device's steps and their checklists, in
// the copies the collection hands out (Get, Filter) and in the view a move
// returns, can be changed in place without the stored device changing:
// memory holds only what was written.
func TestDeviceCopiesShareNothing(t *testing.T) {
	s, reg, _, _ := open(t)
	ctx := context.Background()
	term := reg.add(admin, "T", "M", "wiping")
	v, err := s.Move(ctx, luca, term.ID, Transition{To: "installing", Checklist: complete("wiping", "installing")})
	if err != nil {
		t.Fatal(err)
	}
	stored, _ := s.devices.Get(term.ID)
	if len(stored.Steps) != 1 {
		t.Fatalf("steps after a move: %+v", stored.Steps)
	}
	by, checklist := stored.Steps[0].By, maps.Clone(stored.Steps[0].Checklist)

	change := func(d Device) {
		d.Steps[0].By = "changed"
		for k := range d.Steps[0].Checklist {
			d.Steps[0].Checklist[k] = "changed"
		}
	}
	change(v.Device)
	got, _ := s.devices.Get(term.ID)
	change(got)
	for _, d := range s.devices.Filter(func(*Device) bool { return true }) {
		change(d)
	}
	now, _ := s.devices.Get(term.ID)
	if now.Steps[0].By != by || !maps.Equal(now.Steps[0].Checklist, checklist) {
		t.Fatalf("the stored device's step changed through a copy: %+v, want by %s checklist %v", now.Steps[0], by, checklist)
	}
}
