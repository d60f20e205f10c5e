package care

import (
	"context"
	"errors"
	"testing"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// TestOnlyAdminsWriteBeneficiaries: no other role creates a beneficiary or
// changes one, not even a caregiver assigned to it (the mutation
// care-write-admin in bench/mutate).
func TestOnlyAdminsWriteBeneficiaries(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	c, err := s.CreateCaregiver(ctx, admin, Caregiver{Name: "Anna", Username: "anna"})
	if err != nil {
		t.Fatal(err)
	}
	b := validBeneficiary()
	b.Caregivers = []string{c.ID}
	b, err = s.CreateBeneficiary(ctx, admin, b)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range []auth.Actor{
		{Username: "anna", Role: auth.Caregiver, CaregiverID: c.ID},
		{Username: "op", Role: auth.Operator},
		{Username: "ref", Role: auth.Refurbisher},
		{Username: "off", Role: auth.Officer},
	} {
		if _, err := s.CreateBeneficiary(ctx, a, validBeneficiary()); !errors.Is(err, problem.ErrForbidden) {
			t.Errorf("%s creates a beneficiary: %v", a.Role, err)
		}
		changed := b
		changed.Name = "Someone Else"
		if _, err := s.UpdateBeneficiary(ctx, a, b.ID, changed); !errors.Is(err, problem.ErrForbidden) && !errors.Is(err, problem.ErrNotFound) {
			t.Errorf("%s changes a beneficiary: %v", a.Role, err)
		}
	}
}
