package citizens_test

import (
	"context"
	"encoding/json"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-datastore/query"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/citizens"
)

var linkRE = regexp.MustCompile(`https://nodo\.example/registrati/conferma\?token=([A-Za-z0-9_-]+)`)

func signupBody(user, email, lang string) map[string]string {
	return map[string]string{"username": user, "password": pwCitizen, "display_name": "Giulia Neri", "email": email, "lang": lang}
}

func TestSignupWithMailActivatesFromTheLink(t *testing.T) {
	r := newRig(t, rigOpts{mail: true})
	ctx := context.Background()
	var ans citizens.SignupAnswer
	if code := r.call("POST", "/api/v1/citizens/signup", "", signupBody("giulia", "giulia@example.org", "en"), &ans); code != 201 {
		t.Fatalf("signup: %d", code)
	}
	if ans.State != citizens.Pending || ans.Verification != "email_sent" {
		t.Fatalf("answer %+v, want pending with the e-mail sent", ans)
	}
	// Pending: the password is right but the account does not log in yet.
	if code := r.call("POST", "/api/v1/login", "", map[string]string{"username": "giulia", "password": pwCitizen}, nil); code != 401 {
		t.Fatalf("login before verification: %d, want 401", code)
	}
	r.mail.RunDue(ctx)
	msgs := r.box.messages(t)
	if len(msgs) != 1 || !strings.Contains(msgs[0].to, "giulia@example.org") {
		t.Fatalf("mails %+v, want one to giulia", msgs)
	}
	// In the citizen's language, through the catalogue.
	if !strings.HasPrefix(msgs[0].subject, "[en] citizen.mail.verify_subject") || !strings.Contains(msgs[0].body, "[en] citizen.mail.verify_body") {
		t.Fatalf("mail not in the citizen's language: %q / %q", msgs[0].subject, msgs[0].body)
	}
	m := linkRE.FindStringSubmatch(msgs[0].body)
	if m == nil {
		t.Fatalf("no link in %q", msgs[0].body)
	}
	if code := r.call("POST", "/api/v1/citizens/verify", "", map[string]string{"token": m[1] + "x"}, nil); code != 400 {
		t.Fatalf("wrong token: %d, want 400", code)
	}
	if code := r.call("POST", "/api/v1/citizens/verify", "", map[string]string{"token": m[1]}, nil); code != 200 {
		t.Fatalf("verify: %d", code)
	}
	// Single use.
	if code := r.call("POST", "/api/v1/citizens/verify", "", map[string]string{"token": m[1]}, nil); code != 400 {
		t.Fatalf("second use of the link: %d, want 400", code)
	}
	tok := r.login("giulia", pwCitizen)
	var p citizens.Profile
	if code := r.call("GET", "/api/v1/me/citizen", tok, nil, &p); code != 200 || p.State != citizens.Active || p.Email != "giulia@example.org" {
		t.Fatalf("profile: %d %+v", code, p)
	}

	// A changed address is used once opened from a link sent to it.
	change := map[string]string{"display_name": "Giulia Neri", "email": "giulia.nuova@example.org", "lang": "en"}
	if code := r.call("PUT", "/api/v1/me/citizen", tok, change, &p); code != 200 || p.Email != "giulia@example.org" || p.PendingEmail != "giulia.nuova@example.org" {
		t.Fatalf("changed e-mail: %d %+v, want the old address until verified", code, p)
	}
	r.mail.RunDue(ctx)
	msgs = r.box.messages(t)
	if len(msgs) != 2 || !strings.Contains(msgs[1].to, "giulia.nuova@example.org") {
		t.Fatalf("mails %+v, want a second one to the new address", msgs)
	}
	m = linkRE.FindStringSubmatch(msgs[1].body)
	if code := r.call("POST", "/api/v1/citizens/verify", "", map[string]string{"token": m[1]}, nil); code != 200 {
		t.Fatalf("verify the new address: %d", code)
	}
	p = citizens.Profile{}
	if code := r.call("GET", "/api/v1/me/citizen", tok, nil, &p); code != 200 || p.Email != "giulia.nuova@example.org" || p.PendingEmail != "" {
		t.Fatalf("after verifying the new address: %d %+v", code, p)
	}
}

func TestVerificationLinkExpires(t *testing.T) {
	r := newRig(t, rigOpts{mail: true})
	if code := r.call("POST", "/api/v1/citizens/signup", "", signupBody("marco", "marco@example.org", ""), nil); code != 201 {
		t.Fatalf("signup: %d", code)
	}
	r.mail.RunDue(context.Background())
	msgs := r.box.messages(t)
	if len(msgs) != 1 || !strings.HasPrefix(msgs[0].subject, "[it] ") {
		t.Fatalf("mails %+v, want one in Italian (the default)", msgs)
	}
	m := linkRE.FindStringSubmatch(msgs[0].body)
	r.clk.Advance(49 * time.Hour)
	if code := r.call("POST", "/api/v1/citizens/verify", "", map[string]string{"token": m[1]}, nil); code != 400 {
		t.Fatalf("expired link: %d, want 400", code)
	}
	if code := r.call("POST", "/api/v1/login", "", map[string]string{"username": "marco", "password": pwCitizen}, nil); code != 401 {
		t.Fatalf("login after an expired link: %d, want 401", code)
	}
	// The name of a never verified sign-up is free again once its link
	// expired: nobody holds a name with an address they do not own.
	var ans citizens.SignupAnswer
	if code := r.call("POST", "/api/v1/citizens/signup", "", signupBody("marco", "marco.vero@example.org", ""), &ans); code != 201 || ans.State != citizens.Pending {
		t.Fatalf("sign-up again: %d %+v", code, ans)
	}
	if c, _ := r.cit.Get("marco"); c.Email != "marco.vero@example.org" {
		t.Fatalf("citizen %+v", c)
	}
}

func TestSignupWithoutMailIsActiveAtOnce(t *testing.T) {
	r := newRig(t, rigOpts{})
	var ans citizens.SignupAnswer
	if code := r.call("POST", "/api/v1/citizens/signup", "", signupBody("giulia", "giulia@example.org", ""), &ans); code != 201 {
		t.Fatalf("signup: %d", code)
	}
	if ans.State != citizens.Active || ans.Verification != "none" || !strings.Contains(ans.Message, "active") {
		t.Fatalf("answer %+v, want active and saying so", ans)
	}
	tok := r.login("giulia", pwCitizen)
	var me struct{ Role auth.Role }
	if code := r.call("GET", "/api/v1/me", tok, nil, &me); code != 200 || me.Role != auth.Citizen {
		t.Fatalf("me: %d %+v", code, me)
	}
}

func TestSignupRefusals(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.account("operatore", auth.Operator)
	cases := []struct {
		name  string
		body  map[string]string
		field string
	}{
		{"weak password", map[string]string{"username": "anna", "password": "password", "display_name": "Anna", "email": "a@example.org"}, "password"},
		{"bad e-mail", map[string]string{"username": "anna", "password": pwCitizen, "display_name": "Anna", "email": "not an address"}, "email"},
		{"taken username", map[string]string{"username": "operatore", "password": pwCitizen, "display_name": "Anna", "email": "a@example.org"}, "username"},
		{"bad username", map[string]string{"username": "A B", "password": pwCitizen, "display_name": "Anna", "email": "a@example.org"}, "username"},
		{"control character", map[string]string{"username": "anna", "password": pwCitizen, "display_name": "An\u202ena", "email": "a@example.org"}, "display_name"},
	}
	for _, c := range cases {
		var e struct{ Fields map[string]string }
		if code := r.call("POST", "/api/v1/citizens/signup", "", c.body, &e); code != 400 || e.Fields[c.field] == "" {
			t.Errorf("%s: %d %+v, want 400 on %s", c.name, code, e, c.field)
		}
	}
	// The sign-up throttle: ten from one address, then a wait.
	var last int
	for i := range 12 {
		last = r.call("POST", "/api/v1/citizens/signup", "", signupBody("cittadino"+string(rune('a'+i)), "x@example.org", ""), nil)
	}
	if last != 429 {
		t.Fatalf("12th sign-up from one address: %d, want 429", last)
	}
}

func registerBody(user string) map[string]any {
	return map[string]any{"username": user, "display_name": "Rosa Greco", "lang": "it",
		"consent": map[string]any{"given": true, "method": "verbal_witness", "witness": "Carla Bruni, volontaria"}}
}

func TestOperatorRegistersAndActsForACitizen(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.account("operatore", auth.Operator)
	r.account("badante", auth.Caregiver)
	op := r.login("operatore", pwOperator)

	// Consent is required, and how it was given.
	bad := registerBody("rosa")
	bad["consent"] = map[string]any{"given": true, "method": "verbal_witness"}
	var e struct{ Fields map[string]string }
	if code := r.call("POST", "/api/v1/citizens", op, bad, &e); code != 400 || e.Fields["consent.witness"] != "required" {
		t.Fatalf("no witness: %d %+v", code, e)
	}
	bad["consent"] = map[string]any{"given": false, "method": "signed_form"}
	if code := r.call("POST", "/api/v1/citizens", op, bad, &e); code != 400 || e.Fields["consent.given"] != "required" {
		t.Fatalf("no consent: %d %+v", code, e)
	}
	// Only operators register citizens.
	if code := r.call("POST", "/api/v1/citizens", r.login("badante", pwOperator), registerBody("rosa"), nil); code != 403 {
		t.Fatalf("caregiver registers: %d, want 403", code)
	}
	var reg struct {
		Username string
		Consent  citizens.Consent
	}
	if code := r.call("POST", "/api/v1/citizens", op, registerBody("rosa"), &reg); code != 201 {
		t.Fatalf("register: %d", code)
	}
	if reg.Consent.Operator != "operatore" || reg.Consent.Method != "verbal_witness" || reg.Consent.At.IsZero() {
		t.Fatalf("consent %+v: want who, how and when", reg.Consent)
	}

	// Not acting: the citizen's own routes refuse the operator.
	if code := r.call("GET", "/api/v1/me/citizen", op, nil, nil); code != 403 {
		t.Fatalf("operator not acting reads /me/citizen: %d, want 403", code)
	}
	if code := r.call("PUT", "/api/v1/acting", op, map[string]string{"citizen": "rosa"}, nil); code != 200 {
		t.Fatalf("act for: %d", code)
	}
	// Acting: the operator changes the citizen's profile; the audit
	// records "operatore for rosa".
	var p citizens.Profile
	if code := r.call("PUT", "/api/v1/me/citizen", op, map[string]string{"display_name": "Rosa Greco", "email": "rosa@example.org", "lang": "it"}, &p); code != 200 || p.Email != "rosa@example.org" {
		t.Fatalf("update for rosa: %d %+v", code, p)
	}
	evs, err := r.audit.Query(context.Background(), audit.Filter{Kind: "citizen", Actor: "operatore"})
	if err != nil {
		t.Fatal(err)
	}
	var update *audit.Event
	for i := range evs {
		if evs[i].Action == audit.Update {
			update = &evs[i]
		}
	}
	if update == nil || update.For != "rosa" || update.Object != "rosa" || update.Role != string(auth.Operator) {
		t.Fatalf("audit of the update: %+v, want operatore for rosa", update)
	}
	if n, err := r.audit.Verify(context.Background()); err != nil || n == 0 {
		t.Fatalf("audit chain: %d %v", n, err)
	}
	// Stop acting: the operator is itself again.
	if code := r.call("DELETE", "/api/v1/acting", op, nil, nil); code != 204 {
		t.Fatalf("stop acting: %d", code)
	}
	if code := r.call("GET", "/api/v1/me/citizen", op, nil, nil); code != 403 {
		t.Fatalf("after stop: %d, want 403", code)
	}

	// The citizen sees in their own area what was done for them.
	if _, err := r.auth.Update(context.Background(), mustAccount(t, r, "rosa"), pwCitizen); err != nil {
		t.Fatal(err)
	}
	rosa := r.login("rosa", pwCitizen)
	var act struct{ Items []citizens.Activity }
	if code := r.call("GET", "/api/v1/me/activity", rosa, nil, &act); code != 200 {
		t.Fatalf("activity: %d", code)
	}
	var actions []string
	for _, a := range act.Items {
		if a.Actor != "operatore" {
			t.Fatalf("activity %+v names someone else than the operator", a)
		}
		actions = append(actions, string(a.Action))
	}
	for _, want := range []string{"create", "act_for_start", "update", "act_for_stop"} {
		if !slices.Contains(actions, want) {
			t.Fatalf("activity %v lacks %s", actions, want)
		}
	}
}

func mustAccount(t *testing.T, r *rig, name string) auth.Account {
	t.Helper()
	a, ok := r.auth.Get(name)
	if !ok {
		t.Fatalf("no account %s", name)
	}
	return *a
}

func TestActingNeedsConsent(t *testing.T) {
	r := newRig(t, rigOpts{})
	r.account("operatore", auth.Operator)
	op := r.login("operatore", pwOperator)
	// A citizen who signed up alone gave no consent to be assisted.
	if code := r.call("POST", "/api/v1/citizens/signup", "", signupBody("giulia", "giulia@example.org", ""), nil); code != 201 {
		t.Fatal(code)
	}
	var e struct{ Code string }
	if code := r.call("PUT", "/api/v1/acting", op, map[string]string{"citizen": "giulia"}, &e); code != 403 || e.Code != "no_consent" {
		t.Fatalf("act for a citizen without consent: %d %+v", code, e)
	}
	if code := r.call("PUT", "/api/v1/acting", op, map[string]string{"citizen": "nessuno"}, nil); code != 404 {
		t.Fatalf("act for nobody: %d", code)
	}
	// A citizen cannot act for anyone.
	if code := r.call("PUT", "/api/v1/acting", r.login("giulia", pwCitizen), map[string]string{"citizen": "giulia"}, nil); code != 403 {
		t.Fatalf("citizen acts: %d", code)
	}
}

// fakeFeed is a section fed by another domain in a test.
type fakeFeed map[string][]citizens.Entry

func (f fakeFeed) List(_ context.Context, c string) ([]citizens.Entry, error) { return f[c], nil }

func TestExportHoldsEveryFieldAndNothingOfAnother(t *testing.T) {
	reqs := fakeFeed{
		"giulia": {{ID: "REQ-GIULIA", Title: "Assistenza domiciliare CANARY-G-REQ", Status: "sent"}},
		"paolo":  {{ID: "REQ-PAOLO", Title: "CANARY-P-REQ", Status: "sent"}},
	}
	r := newRig(t, rigOpts{feeds: citizens.Feeds{Requests: reqs}})
	r.account("operatore", auth.Operator)
	for _, b := range []map[string]string{
		{"username": "giulia", "password": pwCitizen, "display_name": "CANARY-G-NAME", "email": "canary-g@example.org", "lang": "en"},
		{"username": "paolo", "password": pwCitizen, "display_name": "CANARY-P-NAME", "email": "canary-p@example.org"},
	} {
		if code := r.call("POST", "/api/v1/citizens/signup", "", b, nil); code != 201 {
			t.Fatal(code)
		}
	}
	g := r.login("giulia", pwCitizen)
	var raw json.RawMessage
	if code := r.call("GET", "/api/v1/me/export", g, nil, &raw); code != 200 {
		t.Fatalf("export: %d", code)
	}
	s := string(raw)
	for _, want := range []string{`"username":"giulia"`, "CANARY-G-NAME", "canary-g@example.org", `"lang":"en"`, `"state":"active"`, `"origin":"signup"`, `"created_at"`, "REQ-GIULIA", "CANARY-G-REQ", `"own_events":[{`, `"action":"login"`} {
		if !strings.Contains(s, want) {
			t.Errorf("export lacks %s: %s", want, s)
		}
	}
	for _, never := range []string{"paolo", "CANARY-P", "hash", "argon2"} {
		if strings.Contains(s, never) {
			t.Errorf("export holds %q: %s", never, s)
		}
	}
	var e citizens.Export
	if err := json.Unmarshal(raw, &e); err != nil {
		t.Fatal(err)
	}
	for _, sec := range citizens.Sections {
		if _, ok := e.Sections[sec]; !ok {
			t.Errorf("export lacks section %s", sec)
		}
	}
	evs, _ := r.audit.Query(context.Background(), audit.Filter{Kind: "citizen", Actor: "giulia"})
	if len(evs) == 0 || evs[0].Action != audit.Export {
		t.Fatalf("export not audited: %+v", evs)
	}
}

func TestDeletionErasesAndRevokesSessions(t *testing.T) {
	var erased []string
	r := newRig(t, rigOpts{feeds: citizens.Feeds{Erase: func(_ context.Context, c string) error { erased = append(erased, c); return nil }}})
	if code := r.call("POST", "/api/v1/citizens/signup", "", signupBody("giulia", "giulia@example.org", ""), nil); code != 201 {
		t.Fatal(code)
	}
	t1, t2 := r.login("giulia", pwCitizen), r.login("giulia", pwCitizen)
	if code := r.call("DELETE", "/api/v1/me/citizen", t1, nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	// Both sessions are gone, the account too.
	for _, tok := range []string{t1, t2} {
		if code := r.call("GET", "/api/v1/me", tok, nil, nil); code != 401 {
			t.Fatalf("session after deletion: %d, want 401", code)
		}
	}
	if code := r.call("POST", "/api/v1/login", "", map[string]string{"username": "giulia", "password": pwCitizen}, nil); code != 401 {
		t.Fatalf("login after deletion: %d", code)
	}
	if _, ok := r.cit.Get("giulia"); ok || r.auth.SessionCount("giulia") != 0 {
		t.Fatal("citizen record or sessions left")
	}
	if !slices.Equal(erased, []string{"giulia"}) {
		t.Fatalf("feeds erased %v", erased)
	}
	// No trace of the e-mail anywhere in the citizens' and accounts' store.
	for _, ns := range []string{"/citizens", "/auth"} {
		res, err := r.st.Namespace(ns).Query(context.Background(), query.Query{})
		if err != nil {
			t.Fatal(err)
		}
		for e := range res.Next() {
			if strings.Contains(string(e.Value), "giulia@example.org") || strings.Contains(string(e.Value), "Giulia Neri") {
				t.Fatalf("%s%s still holds the citizen's data", ns, e.Key)
			}
		}
		res.Close()
	}
	// The username is never given again.
	var e struct{ Fields map[string]string }
	if code := r.call("POST", "/api/v1/citizens/signup", "", signupBody("giulia", "altra@example.org", ""), &e); code != 400 || e.Fields["username"] != "taken" {
		t.Fatalf("sign-up with a deleted username: %d %+v", code, e)
	}
	evs, _ := r.audit.Query(context.Background(), audit.Filter{Kind: "citizen", Object: "giulia"})
	if len(evs) == 0 || evs[0].Action != citizens.Erase {
		t.Fatalf("deletion not audited: %+v", evs)
	}
}
