package demo

import (
	"context"
	"reflect"
	"testing"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

type services struct {
	care  *care.Service
	own   *catalogue.Own
	auth  *auth.Service
	audit *audit.Log
}

func open(t *testing.T) services {
	t.Helper()
	ctx := context.Background()
	st := store.NewMemory()
	al, err := audit.Open(ctx, st.Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { al.Close() })
	au, err := auth.Open(ctx, st.Namespace("/auth"), auth.Config{Params: auth.Params{Memory: 64, Time: 1, Threads: 1}})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := care.Open(ctx, st.Namespace("/care"), al, nil)
	if err != nil {
		t.Fatal(err)
	}
	own, err := catalogue.OpenOwn(ctx, st.Namespace("/own"), al, nil)
	if err != nil {
		t.Fatal(err)
	}
	return services{cs, own, au, al}
}

func TestSeedFillsOnceAndIsConsistent(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	var told []string
	var pw string
	res, err := Seed(ctx, s.care, s.own, s.auth, Options{OnAccount: func(u, p string) {
		told = append(told, u)
		if p == "" || (pw != "" && p != pw) {
			t.Errorf("account %s: generated password %q not reported consistently", u, p)
		}
		pw = p
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Skipped || res.Beneficiaries != 8 || res.Caregivers != 4 || res.Terminals != 11 || res.Offerings != 6 {
		t.Fatalf("seed result %+v", res)
	}
	if len(told) != len(res.Accounts) || len(told) != 6 {
		t.Fatalf("told %v, created %v", told, res.Accounts)
	}

	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	bs, err := s.care.ListBeneficiaries(ctx, admin, care.Query{})
	if err != nil || bs.Total != 8 {
		t.Fatalf("beneficiaries: %d %v", bs.Total, err)
	}
	codes := map[string]bool{}
	for _, b := range bs.Items {
		codes[b.Municipality] = true
		if len(b.Caregivers) == 0 || len(b.Fragility) == 0 || len(b.Contacts) == 0 {
			t.Errorf("beneficiary %s lacks caregivers, fragility or contacts", b.ID)
		}
	}
	if !codes["015146"] || !codes["080063"] {
		t.Errorf("demo should cover Milano and Reggio di Calabria, got %v", codes)
	}
	ts, _ := s.care.ListTerminals(ctx, admin, care.Query{})
	states := map[string]bool{}
	for _, term := range ts.Items {
		states[term.State] = true
	}
	if len(states) != len(care.TerminalStates) {
		t.Errorf("terminal states %v, want all of %v", states, care.TerminalStates)
	}
	cats := map[string]bool{}
	for _, o := range s.own.All() {
		cats[o.Category] = true
		if err := o.Offering.Validate(); err != nil {
			t.Errorf("demo offering invalid: %v", err)
		}
	}
	if len(cats) < 5 {
		t.Errorf("offerings span %d categories, want at least 5", len(cats))
	}

	// Every caregiver account logs in with the reported password and sees
	// only the beneficiaries assigned to them.
	seen := 0
	for _, d := range demoCaregivers {
		_, se, err := s.auth.Login(ctx, d.username, pw, "127.0.0.1")
		if err != nil {
			t.Fatalf("login %s: %v", d.username, err)
		}
		acc, _ := s.auth.Get(d.username)
		a := auth.Actor{Username: se.Username, Role: se.Role, CaregiverID: acc.CaregiverID}
		p, err := s.care.ListBeneficiaries(ctx, a, care.Query{})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total == 0 || p.Total == 8 {
			t.Errorf("caregiver %s sees %d beneficiaries", d.username, p.Total)
		}
		seen += p.Total
		cg, ok := s.care.CaregiverByUsername(d.username)
		if !ok || cg.ID != acc.CaregiverID {
			t.Errorf("caregiver record of %s not linked to the account", d.username)
		}
	}
	if seen < 8 {
		t.Errorf("some beneficiaries have no caregiver account (%d seen)", seen)
	}

	// Second call: nothing changes.
	res, err = Seed(ctx, s.care, s.own, s.auth, Options{})
	if err != nil || !res.Skipped {
		t.Fatalf("second seed = %+v, %v; want skipped", res, err)
	}
	if got := s.care.Counts()["beneficiaries"]; got != 8 {
		t.Fatalf("beneficiaries after second seed = %d", got)
	}
	if n, err := s.audit.Verify(ctx); err != nil || n == 0 {
		t.Fatalf("audit after seed: %d %v", n, err)
	}
}

func TestSeedWithChosenPassword(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	res, err := Seed(ctx, s.care, s.own, s.auth, Options{Password: "una-password-lunga", OnAccount: func(u, p string) {
		if p != "" {
			t.Errorf("chosen password reported for %s", u)
		}
	}})
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range res.Accounts {
		if _, _, err := s.auth.Login(ctx, u, "una-password-lunga", "::1"); err != nil {
			t.Errorf("login %s: %v", u, err)
		}
	}
}

func TestGeneratorsAreDeterministicAndValid(t *testing.T) {
	ctx := context.Background()
	s := open(t)
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	for _, seed := range []int64{0, 1, 42, -7} {
		bs := Beneficiaries(seed, 60)
		if !reflect.DeepEqual(bs, Beneficiaries(seed, 60)) {
			t.Fatalf("seed %d: beneficiaries differ between runs", seed)
		}
		for _, b := range bs {
			if _, err := s.care.CreateBeneficiary(ctx, admin, b); err != nil {
				t.Fatalf("seed %d: generated beneficiary invalid: %v", seed, err)
			}
		}
		os := Offerings(seed, 60)
		if !reflect.DeepEqual(os, Offerings(seed, 60)) {
			t.Fatalf("seed %d: offerings differ between runs", seed)
		}
		ids := map[string]bool{}
		for _, o := range os {
			if err := o.Validate(); err != nil {
				t.Fatalf("seed %d: generated offering invalid: %v", seed, err)
			}
			if ids[o.ID] {
				t.Fatalf("seed %d: duplicate id", seed)
			}
			ids[o.ID] = true
			if _, ok := schema.Term(o.Category); !ok {
				t.Fatalf("unknown category %s", o.Category)
			}
		}
	}
	if reflect.DeepEqual(Beneficiaries(1, 5), Beneficiaries(2, 5)) {
		t.Fatal("different seeds give the same beneficiaries")
	}
}
