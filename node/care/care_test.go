package care

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var admin = auth.Actor{Username: "admin", Role: auth.Admin, Remote: "127.0.0.1"}

func open(t *testing.T) (*Service, *audit.Log) {
	t.Helper()
	st := store.NewMemory()
	clk := fakeclock.New(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	al, err := audit.Open(context.Background(), st.Namespace("/audit"), clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	s, err := Open(context.Background(), st.Namespace("/care"), al, clk)
	if err != nil {
		t.Fatal(err)
	}
	return s, al
}

func validBeneficiary() Beneficiary {
	return Beneficiary{Name: "Rosa Greco", Address: "Via Aschenez 12", Municipality: "080063", BirthYear: 1938,
		Contacts: []Contact{{Kind: "family", Name: "Lucia", Phone: "+39 333 1234567"}}}
}

func TestBeneficiaryValidation(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		change func(b *Beneficiary)
		field  string
		code   string
	}{
		{"valid", func(b *Beneficiary) {}, "", ""},
		{"no name", func(b *Beneficiary) { b.Name = "  " }, "name", "required"},
		{"long name", func(b *Beneficiary) { b.Name = strings.Repeat("à", 201) }, "name", "too_long"},
		{"control char", func(b *Beneficiary) { b.Address = "Via\x00Roma" }, "address", "bad_characters"},
		{"bad utf8", func(b *Beneficiary) { b.Notes = "\xff" }, "notes", "bad_characters"},
		{"no municipality", func(b *Beneficiary) { b.Municipality = "" }, "municipality", "required"},
		{"unknown municipality", func(b *Beneficiary) { b.Municipality = "999999" }, "municipality", "bad_municipality"},
		{"future birth", func(b *Beneficiary) { b.BirthYear = 2027 }, "birth_year", "out_of_range"},
		{"bad phone", func(b *Beneficiary) { b.Phone = "call me" }, "phone", "bad_phone"},
		{"bad fragility", func(b *Beneficiary) { b.Fragility = []string{"sad"} }, "fragility", "bad_choice"},
		{"bad contact kind", func(b *Beneficiary) { b.Contacts[0].Kind = "cousin" }, "contacts.0.kind", "bad_choice"},
		{"contact unreachable", func(b *Beneficiary) { b.Contacts[0].Phone = "" }, "contacts.0.phone", "phone_or_email"},
		{"contact bad email", func(b *Beneficiary) { b.Contacts[0].Email = "Lucia <l@x.it>" }, "contacts.0.email", "bad_email"},
		{"consent without date", func(b *Beneficiary) { b.Consent.Given = true }, "consent.date", "required"},
		{"consent bad date", func(b *Beneficiary) { b.Consent = Consent{Given: true, Date: "1/2/2025"} }, "consent.date", "bad_date"},
		{"unknown caregiver", func(b *Beneficiary) { b.Caregivers = []string{"nope"} }, "caregivers", "unknown_caregiver"},
		{"too many contacts", func(b *Beneficiary) { b.Contacts = make([]Contact, 21) }, "contacts", "too_many"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := validBeneficiary()
			c.change(&b)
			before := s.Counts()["beneficiaries"]
			out, err := s.CreateBeneficiary(ctx, admin, b)
			if c.field == "" {
				if err != nil {
					t.Fatal(err)
				}
				if out.ID == "" || out.Fragility == nil || out.Caregivers == nil || out.Contacts == nil {
					t.Fatalf("created %+v: want id and non-nil lists", out)
				}
				return
			}
			var p *problem.Error
			if !errors.As(err, &p) || p.Fields[c.field] != c.code {
				t.Fatalf("error %v, want %s=%s", err, c.field, c.code)
			}
			if s.Counts()["beneficiaries"] != before {
				t.Fatal("an invalid record was stored")
			}
		})
	}
}

func TestTerminalRulesAndHistory(t *testing.T) {
	s, al := open(t)
	ctx := context.Background()
	refurb := auth.Actor{Username: "officina", Role: auth.Refurbisher}
	b, err := s.CreateBeneficiary(ctx, admin, validBeneficiary())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateTerminal(ctx, refurb, Terminal{Label: "T", Model: "M", State: "delivered"}); err == nil {
		t.Fatal("delivered terminal without a beneficiary accepted")
	}
	if _, err := s.CreateTerminal(ctx, refurb, Terminal{Label: "T", Model: "M", State: "ready"}); err == nil {
		t.Fatal("a refurbisher entered a device past recovered")
	}
	term, err := s.CreateTerminal(ctx, refurb, Terminal{Label: "T", Model: "M", State: "recovered", Year: 2014, RAMMB: 4096})
	if err != nil {
		t.Fatal(err)
	}
	for _, to := range []string{"wiping", "installing", "configuring", "testing", "ready"} {
		if term, err = s.MoveTerminal(ctx, refurb, term.ID, Move{From: term.State, To: to}); err != nil {
			t.Fatal(err)
		}
	}
	if len(term.History) != 6 || term.History[0].By != "officina" || len(term.Workers) != 1 {
		t.Fatalf("new terminal %+v", term)
	}
	// An edit does not change the state: moves do.
	term.State = "delivered"
	if _, err := s.UpdateTerminal(ctx, admin, term.ID, term); !errors.Is(err, ErrStateByTransition) {
		t.Fatalf("state changed by an edit: %v", err)
	}
	if _, err := s.MoveTerminal(ctx, admin, term.ID, Move{From: "testing", To: "delivered"}); err == nil {
		t.Fatal("move from a state the terminal is not in accepted")
	}
	if _, err := s.MoveTerminal(ctx, admin, term.ID, Move{From: "ready", To: "delivered"}); err == nil {
		t.Fatal("delivered without a beneficiary")
	}
	term, err = s.MoveTerminal(ctx, admin, term.ID, Move{From: "ready", To: "delivered", Beneficiary: b.ID, SetBeneficiary: true})
	if err != nil {
		t.Fatal(err)
	}
	// A refurbisher's save keeps the beneficiary it could not see.
	edit := term
	edit.Beneficiary, edit.Notes = "", "tastiera nuova"
	if term, err = s.UpdateTerminal(ctx, refurb, term.ID, edit); err != nil || term.Beneficiary != b.ID || term.Notes != "tastiera nuova" {
		t.Fatalf("refurbisher save: %+v %v", term, err)
	}
	if len(term.History) != 7 || term.History[6].State != "delivered" || term.History[6].By != "admin" {
		t.Fatalf("history %+v", term.History)
	}
	// A beneficiary archived is no longer a valid target.
	if _, err := s.ArchiveBeneficiary(ctx, admin, b.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.UpdateTerminal(ctx, admin, term.ID, term); err == nil {
		t.Fatal("terminal delivered to an archived beneficiary")
	}
	// Caregivers cannot see terminals; the refusal is audited.
	cg := auth.Actor{Username: "anna", Role: auth.Caregiver, CaregiverID: "x"}
	if _, err := s.Terminal(ctx, cg, term.ID); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("caregiver read terminal: %v", err)
	}
	evs, _ := al.Query(ctx, audit.Filter{Actor: "anna"})
	if len(evs) != 1 || evs[0].Action != audit.Denied || evs[0].Object != term.ID {
		t.Fatalf("denial not audited: %+v", evs)
	}
	if _, err := s.Terminal(ctx, admin, "missing"); !errors.Is(err, problem.ErrNotFound) {
		t.Fatalf("missing terminal: %v", err)
	}
}

func TestCaregiverScopeAndSearch(t *testing.T) {
	s, _ := open(t)
	ctx := context.Background()
	c1, _ := s.CreateCaregiver(ctx, admin, Caregiver{Name: "Anna", Username: "anna", Languages: []string{"it"}})
	c2, _ := s.CreateCaregiver(ctx, admin, Caregiver{Name: "Bruno", Username: "bruno"})
	if _, err := s.CreateCaregiver(ctx, admin, Caregiver{Name: "X", Languages: []string{"Italian"}}); err == nil {
		t.Fatal("bad language tag accepted")
	}
	for i, name := range []string{"Rosa Greco", "Rita Levi", "Rocco Foti"} {
		b := validBeneficiary()
		b.Name = name
		b.Caregivers = []string{[]string{c1.ID, c2.ID, c1.ID}[i]}
		if _, err := s.CreateBeneficiary(ctx, admin, b); err != nil {
			t.Fatal(err)
		}
	}
	anna := auth.Actor{Username: "anna", Role: auth.Caregiver, CaregiverID: c1.ID}
	p, err := s.ListBeneficiaries(ctx, anna, Query{Search: "r"})
	if err != nil || p.Total != 2 {
		t.Fatalf("anna sees %d: %v", p.Total, err)
	}
	p, _ = s.ListBeneficiaries(ctx, anna, Query{Search: "LEVI"})
	if p.Total != 0 {
		t.Fatal("search crossed the caregiver filter")
	}
	p, _ = s.ListBeneficiaries(ctx, admin, Query{Search: "levi"})
	if p.Total != 1 {
		t.Fatalf("case-insensitive search found %d", p.Total)
	}
	// A caregiver account without a caregiver record sees nothing.
	p, _ = s.ListBeneficiaries(ctx, auth.Actor{Username: "x", Role: auth.Caregiver}, Query{})
	if p.Total != 0 {
		t.Fatal("unlinked caregiver sees beneficiaries")
	}
	if cg, ok := s.CaregiverByUsername("bruno"); !ok || cg.ID != c2.ID {
		t.Fatal("CaregiverByUsername")
	}
	if _, err := s.ListTerminals(ctx, anna, Query{}); !errors.Is(err, problem.ErrForbidden) {
		t.Fatal("caregiver listed terminals")
	}
}

func TestTerminalStatesMigrated(t *testing.T) {
	st := store.NewMemory()
	clk := fakeclock.New(time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC))
	ctx := context.Background()
	al, err := audit.Open(ctx, st.Namespace("/audit"), clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer al.Close()
	s, err := Open(ctx, st.Namespace("/care"), al, clk)
	if err != nil {
		t.Fatal(err)
	}
	term, err := s.CreateTerminal(ctx, admin, Terminal{Label: "T", Model: "M", State: "recovered"})
	if err != nil {
		t.Fatal(err)
	}
	// A record of the first lifecycle, as an older node stored it.
	old := term
	old.State = "refurbishing"
	if err := s.terminals.col.Put(ctx, old); err != nil {
		t.Fatal(err)
	}
	s, err = Open(ctx, st.Namespace("/care"), al, clk)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Terminal(ctx, admin, term.ID)
	if got.State != "wiping" || got.History[len(got.History)-1].By != "system:migration" {
		t.Fatalf("migrated %+v", got)
	}
}
