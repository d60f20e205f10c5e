package webui

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/web"
)

// The admin's care setup: schedules as people think of them, the
// beneficiary's page, presence, times in the coop's zone, the audit log
// in words.

// careEnv is a node's pages with the calls service, on a fake clock.
type careEnv struct {
	*env
	clk   *fakeclock.Clock
	calls *calls.Service
	audit *audit.Log
}

// careDir is the registry as calls reads it (node/wire_calls.go's twin).
type careDir struct{ c *care.Service }

var careSys = auth.Actor{Username: "setup", Role: auth.Admin}

func (d careDir) Beneficiary(id string) (calls.Person, bool) {
	b, err := d.c.Beneficiary(context.Background(), careSys, id)
	return calls.Person{ID: b.ID, Name: b.Name, Caregivers: b.Caregivers}, err == nil && !b.Archived
}

func (d careDir) Caregiver(id string) (calls.Person, bool) {
	c, err := d.c.Caregiver(context.Background(), careSys, id)
	return calls.Person{ID: c.ID, Name: c.Name}, err == nil && !c.Archived
}

func (d careDir) TerminalBeneficiary(id string) (string, bool) {
	t, err := d.c.Terminal(context.Background(), careSys, id)
	return t.Beneficiary, err == nil && t.Beneficiary != ""
}

func newCareEnv(t *testing.T, start time.Time, zone string, opts ...func(*Deps)) *careEnv {
	t.Helper()
	ctx := context.Background()
	clk := fakeclock.New(start)
	st := store.NewMemory()
	al, err := audit.Open(ctx, st.Namespace("/audit"), clk, nil)
	if err != nil {
		t.Fatal(err)
	}
	as, err := auth.Open(ctx, st.Namespace("/auth"), auth.Config{Params: auth.Params{Memory: 64, Time: 1, Threads: 1}, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	cs, err := care.Open(ctx, st.Namespace("/care"), al, clk)
	if err != nil {
		t.Fatal(err)
	}
	own, err := catalogue.OpenOwn(ctx, st.Namespace("/own"), al, clk)
	if err != nil {
		t.Fatal(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	peer := schema.PeerIDFromPublicKey(key.Public().(ed25519.PublicKey))
	cl, err := calls.Open(ctx, calls.Config{Store: st.Namespace("/calls"), Audit: al, Dir: careDir{cs}, Key: key, PeerID: peer, Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	loc, err := time.LoadLocation(zone)
	if err != nil {
		t.Fatal(err)
	}
	info := func() api.NodeInfo { return api.NodeInfo{CoopName: "Coop di prova", PeerID: peer} }
	s := api.New(api.Deps{Auth: as, Audit: al, Info: info, Ready: st.Ping, Domains: []httpx.Routes{cs, own, cl}})
	d := Deps{Auth: as, Care: cs, Own: own, Audit: al, Calls: cl, Clock: clk, Location: loc, Qualify: qualify.Services{}}
	for _, o := range opts {
		o(&d)
	}
	Mount(s, d)
	e := &careEnv{env: &env{t: t, srv: httptest.NewServer(s.Handler()), care: cs, own: own}, clk: clk, calls: cl, audit: al}
	t.Cleanup(func() {
		e.srv.Close()
		cl.Close()
		al.Close()
	})
	cg, err := cs.CreateCaregiver(ctx, careSys, care.Caregiver{Name: "Giulia Ferrari", Username: "giulia"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range []auth.Role{auth.Admin, auth.Caregiver, auth.Refurbisher} {
		a := auth.Account{Username: string(r), Role: r, DisplayName: "Conto " + string(r)}
		if r == auth.Caregiver {
			a.CaregiverID = cg.ID
		}
		if _, err := as.Create(ctx, a, pw); err != nil {
			t.Fatal(err)
		}
	}
	b, err := cs.CreateBeneficiary(ctx, careSys, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "080063", Caregivers: []string{cg.ID}})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := cs.CreateTerminal(ctx, careSys, care.Terminal{Label: "T-001", Model: "ThinkPad X220", State: "in_service", Beneficiary: b.ID})
	if err != nil {
		t.Fatal(err)
	}
	e.ben, e.cg, e.term = b.ID, cg.ID, tm.ID
	return e
}

// fakeTimeJar keeps cookies whatever their expiry: the node's clock is
// fake, the jar's is not, and a session cookie of a past fake date must
// still be sent.
type fakeTimeJar struct{ http.CookieJar }

func (j fakeTimeJar) SetCookies(u *url.URL, cs []*http.Cookie) {
	for _, c := range cs {
		if c.MaxAge >= 0 {
			c.Expires, c.MaxAge = time.Time{}, 0
		}
	}
	j.CookieJar.SetCookies(u, cs)
}

// login logs user in with a browser on the fake clock.
func (e *careEnv) login(user string) *http.Client {
	e.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: fakeTimeJar{jar}, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, body := e.post(c, "/login", url.Values{"username": {user}, "password": {pw}, "next": {"/"}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", user, res.StatusCode, body)
	}
	return c
}

// english switches a client to the English pages.
func (e *careEnv) english(c *http.Client) {
	u, _ := url.Parse(e.srv.URL)
	c.Jar.SetCookies(u, []*http.Cookie{{Name: LangCookie, Value: "en", Path: "/"}})
}

func TestScheduleWithoutRRULE(t *testing.T) {
	e := newCareEnv(t, time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), DefaultZone)
	admin := e.login("admin")
	base := "/beneficiaries/" + e.ben + "/schedules"

	res, body := e.get(admin, base+"/new")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Giulia Ferrari") || !strings.Contains(body, `value="TH"`) {
		t.Fatalf("new schedule form: %d\n%s", res.StatusCode, body)
	}
	checkPage(t, base+"/new", body)
	if strings.Contains(body, "RRULE") || strings.Contains(body, "FREQ=") {
		t.Error("the form speaks of RRULEs")
	}

	// Nothing ticked and nothing added: the form says why.
	res, body = e.post(admin, base+"/new", url.Values{"caregiver": {e.cg}, "time": {"10:00"}, "start": {"02/03/2026"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "spunta almeno un giorno") {
		t.Fatalf("no day: %d\n%s", res.StatusCode, body)
	}

	// Days ticked, a start typed the Italian way, a day skipped, one added.
	res, _ = e.post(admin, base+"/new", url.Values{"caregiver": {e.cg}, "days": {"TH", "MO"}, "time": {"10:00"}, "start": {"02/03/2026"},
		"minutes": {"20"}, "except.0.day": {"2026-03-05"}, "extra.0.day": {"2026-03-07"}, "extra.0.time": {"11:30"}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/beneficiaries/"+e.ben+"#schedules" {
		t.Fatalf("create: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	ss := e.calls.Schedules(careSys, e.ben)
	if len(ss) != 1 {
		t.Fatalf("schedules: %+v", ss)
	}
	s := ss[0]
	if s.Rule != "FREQ=WEEKLY;BYDAY=MO,TH" || s.Time != "10:00" || s.Start != "2026-03-02" || s.Minutes != 20 ||
		!slices.Equal(s.Except, []string{"2026-03-05"}) || !slices.Equal(s.Extra, []string{"2026-03-07T11:30"}) {
		t.Fatalf("stored: %+v", s)
	}
	_, body = e.get(admin, "/beneficiaries/"+e.ben)
	checkPage(t, "beneficiary", body)
	if want := "lunedì e giovedì alle 10:00 con Giulia Ferrari; in più 07/03/2026 alle 11:30; salta 05/03/2026"; !strings.Contains(body, want) {
		t.Errorf("beneficiary page lacks %q:\n%s", want, body)
	}
	en := e.login("admin")
	e.english(en)
	_, body = e.get(en, "/beneficiaries/"+e.ben)
	if want := "Monday and Thursday at 10:00 with Giulia Ferrari; also 7 Mar 2026 at 11:30; skipping 5 Mar 2026"; !strings.Contains(body, want) {
		t.Errorf("English page lacks %q", want)
	}
	checkPage(t, "beneficiary en", body)

	// The edit form shows the ticked days; another choice replaces them.
	_, body = e.get(admin, base+"/"+s.ID+"/edit")
	if !strings.Contains(body, `value="MO" checked`) || !strings.Contains(body, `value="TH" checked`) || strings.Contains(body, `value="FR" checked`) {
		t.Errorf("edit form does not show the days:\n%s", body)
	}
	res, _ = e.post(admin, base+"/"+s.ID+"/edit", url.Values{"caregiver": {e.cg}, "days": {"MO", "TU", "WE", "TH", "FR", "SA", "SU"}, "time": {"09:15"}, "start": {"2026-03-02"}, "until": {"30/06/2026"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("edit: %d", res.StatusCode)
	}
	_, body = e.get(admin, "/beneficiaries/"+e.ben)
	if want := "ogni giorno alle 09:15 con Giulia Ferrari, fino al 30/06/2026"; !strings.Contains(body, want) {
		t.Errorf("after the edit the page lacks %q", want)
	}

	// A caregiver sees the schedule but may not change it.
	cgc := e.login("caregiver")
	if res, _ := e.get(cgc, base+"/"+s.ID+"/edit"); res.StatusCode != http.StatusForbidden {
		t.Errorf("caregiver edit form: %d", res.StatusCode)
	}
	if _, body := e.get(cgc, "/beneficiaries/"+e.ben); !strings.Contains(body, "ogni giorno alle 09:15") || strings.Contains(body, "/delete") {
		t.Error("the caregiver's view of the schedules")
	}

	// Removing asks first, then the schedule is gone.
	res, body = e.get(admin, base+"/"+s.ID+"/delete")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "ogni giorno alle 09:15") {
		t.Fatalf("delete question: %d", res.StatusCode)
	}
	checkPage(t, "delete", body)
	if res, _ = e.post(admin, base+"/"+s.ID+"/delete", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("delete: %d", res.StatusCode)
	}
	if ss := e.calls.Schedules(careSys, e.ben); len(ss) != 0 {
		t.Fatalf("still there: %+v", ss)
	}
	if res, _ = e.get(admin, base+"/"+s.ID+"/edit"); res.StatusCode != http.StatusNotFound {
		t.Errorf("edit of a removed schedule: %d", res.StatusCode)
	}
}

func TestScheduleWords(t *testing.T) {
	c, err := loadCatalogues(web.Locales())
	if err != nil {
		t.Fatal(err)
	}
	u := &ui{cat: c, d: Deps{Location: time.UTC, Clock: fakeclock.New(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}}
	names := map[string]string{"g": "Giulia Ferrari", "peer/x": "Paolo (Coop Due)"}
	for _, tc := range []struct {
		lang string
		s    calls.Schedule
		want string
	}{
		{"it", calls.Schedule{Caregiver: "g", Rule: "FREQ=WEEKLY;BYDAY=TH,MO", Time: "10:00"}, "lunedì e giovedì alle 10:00 con Giulia Ferrari"},
		{"en", calls.Schedule{Caregiver: "g", Rule: "FREQ=WEEKLY;BYDAY=MO,TH", Time: "10:00"}, "Monday and Thursday at 10:00 with Giulia Ferrari"},
		{"it", calls.Schedule{Caregiver: "g", Rule: "FREQ=WEEKLY;BYDAY=MO,WE,FR", Time: "08:30"}, "lunedì, mercoledì e venerdì alle 08:30 con Giulia Ferrari"},
		{"it", calls.Schedule{Caregiver: "peer/x", Rule: "FREQ=DAILY", Time: "18:00", Start: "2026-02-01"}, "ogni giorno alle 18:00 con Paolo (Coop Due), dal 01/02/2026"},
		{"en", calls.Schedule{Caregiver: "g", Rule: "FREQ=WEEKLY;INTERVAL=2;BYDAY=SU", Time: "11:00"}, "every 2 weeks, Sunday at 11:00 with Giulia Ferrari"},
		{"it", calls.Schedule{Caregiver: "gone", Rule: "FREQ=MONTHLY;BYMONTHDAY=1", Time: "11:00"}, "secondo la regola FREQ=MONTHLY;BYMONTHDAY=1, alle 11:00 con operatore non più disponibile"},
		{"it", calls.Schedule{Caregiver: "g", Time: "10:00", Extra: []string{"2026-12-24T10:00", "2026-12-31T10:00"}}, "solo nei giorni aggiunti, con Giulia Ferrari; in più 24/12/2026 alle 10:00 e 31/12/2026 alle 10:00"},
		// Days in the language's own order, never ISO: the end date, a
		// later start, added and skipped days.
		{"it", calls.Schedule{Caregiver: "g", Rule: "FREQ=WEEKLY;BYDAY=MO", Time: "10:00", Until: "2027-03-01"}, "lunedì alle 10:00 con Giulia Ferrari, fino al 01/03/2027"},
		{"en", calls.Schedule{Caregiver: "g", Rule: "FREQ=WEEKLY;BYDAY=MO", Time: "10:00", Until: "2027-03-01"}, "Monday at 10:00 with Giulia Ferrari, until 1 Mar 2027"},
		{"en", calls.Schedule{Caregiver: "g", Rule: "FREQ=DAILY", Time: "18:00", Start: "2026-02-01", Until: "2026-12-31"}, "every day at 18:00 with Giulia Ferrari, from 1 Feb 2026, until 31 Dec 2026"},
		{"en", calls.Schedule{Caregiver: "g", Time: "10:00", Extra: []string{"2026-12-24T10:00"}, Except: []string{"2026-12-25"}}, "only on the added days, with Giulia Ferrari; also 24 Dec 2026 at 10:00; skipping 25 Dec 2026"},
	} {
		p := &page{u: u, cat: c, Lang: tc.lang}
		if got := p.ScheduleWords(tc.s, names); got != tc.want {
			t.Errorf("%s %+v:\n got %q\nwant %q", tc.lang, tc.s, got, tc.want)
		}
	}
	for rule, ok := range map[string]bool{"FREQ=WEEKLY;BYDAY=MO": true, "FREQ=DAILY": true, "FREQ=WEEKLY;BYDAY=1MO": false,
		"FREQ=WEEKLY;INTERVAL=2;BYDAY=MO": false, "FREQ=WEEKLY;BYDAY=MO;COUNT=3": false, "": false} {
		if _, got := weeklyDays(rule); got != ok {
			t.Errorf("weeklyDays(%q) = %v", rule, got)
		}
	}
}

// Times are shown in the coop's zone on both sides of a clock change:
// 01:30 UTC is 03:30 in Rome on the last Sunday of March (summer time
// began at 01:00 UTC) and 02:30 on the last Sunday of October (it ended at
// 01:00 UTC).
func TestTimesInCoopZoneAcrossDST(t *testing.T) {
	spring := time.Date(2026, 3, 29, 1, 30, 0, 0, time.UTC)
	autumn := time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)
	e := newCareEnv(t, spring, DefaultZone)
	e.login("admin") // a login event at the spring time
	e.clk.Set(autumn)
	admin := e.login("admin") // and one at the autumn time
	_, body := e.get(admin, "/audit")
	for _, want := range []string{"29/03/2026 03:30", "25/10/2026 02:30"} {
		if !strings.Contains(body, want) {
			t.Errorf("audit page lacks %s", want)
		}
	}
	if strings.Contains(body, "29/03/2026 01:30") || strings.Contains(body, "25/10/2026 01:30") {
		t.Error("audit page shows UTC")
	}
	e.english(admin)
	_, body = e.get(admin, "/audit")
	for _, want := range []string{"29 Mar 2026 03:30", "25 Oct 2026 02:30"} {
		if !strings.Contains(body, want) {
			t.Errorf("English audit page lacks %s", want)
		}
	}

	// Another zone is another zone.
	ny := newCareEnv(t, spring, "America/New_York")
	c := ny.login("admin")
	if _, body := ny.get(c, "/audit"); !strings.Contains(body, "28/03/2026 21:30") {
		t.Error("the page does not follow the configured zone")
	}
	// The terminal's clock and next call follow the same zone.
	if _, body := ny.get(ny.client(), "/terminal"); !strings.Contains(body, `data-zone="America/New_York"`) {
		t.Error("the terminal screen does not get the zone")
	}
}

// Every action and record type the node records reads in words in both
// languages, and people by name; the stored event keeps the id.
func TestAuditPageInWords(t *testing.T) {
	e := newCareEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC), DefaultZone)
	ctx := context.Background()
	actions := []audit.Action{audit.Read, audit.List, audit.Create, audit.Update, audit.Archive, audit.Denied, audit.Login, audit.Failed, audit.Logout, audit.Export,
		qualify.ActApply, qualify.ActChanges, qualify.ActApprove, qualify.ActReject, qualify.ActRevoke, qualify.ActRefused, "call", "call_end", "fine", "request"}
	kinds := []string{"account", "alert", "application", "beneficiary", "call", "call_record", "call_settings", "caregiver", "case", "checkin", "coop",
		"dashboard", "delivery", "device", "escalation_settings", "feed", "grant", "held_grant", "missed_checkin", "offering", "outcome", "own_application",
		"pairing", "remote_outcome", "schedule", "session", "signal", "terminal", "beneficiaries", "home", "agenda", "cases", ""}
	c, err := loadCatalogues(web.Locales())
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range web.Languages() {
		for _, a := range actions {
			if !c.has(l, "action."+string(a)) {
				t.Errorf("%s: no words for action %q", l, a)
			}
		}
		for _, k := range kinds[:len(kinds)-1] {
			if !c.has(l, "audit_kind."+k) {
				t.Errorf("%s: no words for record type %q", l, k)
			}
		}
	}
	// The page shows the newest 50: every action and every kind fit.
	for _, a := range actions {
		_ = e.audit.Record(ctx, audit.Event{Actor: "admin", Action: a, Kind: "beneficiary", Object: e.ben})
	}
	for _, k := range kinds {
		_ = e.audit.Record(ctx, audit.Event{Actor: "terminal:dev1", Action: audit.Update, Kind: k})
	}
	_ = e.audit.Record(ctx, audit.Event{Actor: "admin", Action: "brand_new_action", Kind: "brand_new_kind"})
	_ = e.audit.Record(ctx, audit.Event{Actor: "admin", Action: audit.Read, Kind: "caregiver", Object: e.cg})
	_ = e.audit.Record(ctx, audit.Event{Actor: "admin", Action: audit.Update, Kind: "terminal", Object: e.term})
	admin := e.login("admin")
	_, it := e.get(admin, "/audit")
	e.english(admin)
	_, en := e.get(admin, "/audit")
	for lang, body := range map[string]string{"it": it, "en": en} {
		checkPage(t, "/audit "+lang, body)
		if strings.Contains(body, "⟦") {
			t.Errorf("%s: untranslated key on the audit page", lang)
		}
		for _, want := range []string{"Maria Rossi", "Giulia Ferrari", "T-001", "Conto admin (admin)", "brand new action", `href="/audit?object=` + e.ben + `"`} {
			if !strings.Contains(body, want) {
				t.Errorf("%s: audit page lacks %q", lang, want)
			}
		}
	}
	for _, want := range []string{"assistito", "operatore", "domanda", "«Chiamatemi»", "un terminale"} {
		if !strings.Contains(it, want) {
			t.Errorf("it: audit page lacks %q", want)
		}
	}
	for _, want := range []string{"beneficiary", "caregiver", "application", "“Call me”", "a terminal"} {
		if !strings.Contains(en, want) {
			t.Errorf("en: audit page lacks %q", want)
		}
	}
	// The log itself still holds only ids.
	evs, err := e.audit.Query(ctx, audit.Filter{Kind: "beneficiary", Limit: 50})
	if err != nil || len(evs) == 0 {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if strings.Contains(ev.Object+ev.Detail, "Maria") {
			t.Errorf("a name in the stored event: %+v", ev)
		}
	}
}

// The beneficiary's page shows the terminal and whether it is online,
// and the lists show presence.
func TestPresenceOnPages(t *testing.T) {
	e := newCareEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC), DefaultZone)
	admin := e.login("admin")
	_, body := e.get(admin, "/beneficiaries/"+e.ben)
	if !strings.Contains(body, "T-001") || !strings.Contains(body, "mai collegato") {
		t.Errorf("terminal before it ever connected:\n%s", body)
	}
	term := &calls.Terminal{Endpoint: nopEndpoint{}, Device: "d1", TerminalID: e.term, Beneficiary: e.ben}
	e.calls.Hub().AttachTerminal(term)
	_, body = e.get(admin, "/beneficiaries/"+e.ben)
	if !strings.Contains(body, "in linea ora") {
		t.Error("online terminal not shown as online")
	}
	_, body = e.get(admin, "/terminals")
	if !strings.Contains(body, "in linea ora") {
		t.Error("terminal list without presence")
	}
	checkPage(t, "/terminals", body)
	e.clk.Set(time.Date(2026, 5, 4, 9, 45, 0, 0, time.UTC))
	e.calls.Hub().DetachTerminal(term, "closed")
	_, body = e.get(admin, "/beneficiaries/"+e.ben)
	if !strings.Contains(body, "visto l&#39;ultima volta il 04/05/2026 11:45") {
		t.Errorf("last seen, in Rome time:\n%s", body)
	}
	_, body = e.get(admin, "/caregivers")
	if !strings.Contains(body, "mai collegato") {
		t.Error("caregiver list without presence")
	}
	checkPage(t, "/caregivers", body)
}

type nopEndpoint struct{}

func (nopEndpoint) Send(calls.Msg) bool { return true }
func (nopEndpoint) Close(string)        {}

// A caregiver reads the person's page without being refused anything
// (no denied event in the log), and sees whether the terminal is online.
func TestCaregiverReadsBeneficiaryPage(t *testing.T) {
	e := newCareEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC), DefaultZone)
	if _, err := e.calls.SaveSchedule(context.Background(), careSys, calls.Schedule{Beneficiary: e.ben, Caregiver: e.cg, Rule: "FREQ=WEEKLY;BYDAY=WE", Time: "17:00", Start: "2026-05-01"}); err != nil {
		t.Fatal(err)
	}
	c := e.login("caregiver")
	res, body := e.get(c, "/beneficiaries/"+e.ben)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "mercoledì alle 17:00 con Giulia Ferrari") || !strings.Contains(body, "Il terminale non è in linea ora") {
		t.Fatalf("caregiver's view: %d\n%s", res.StatusCode, body)
	}
	checkPage(t, "caregiver beneficiary", body)
	e.calls.Hub().AttachTerminal(&calls.Terminal{Endpoint: nopEndpoint{}, Device: "d1", TerminalID: e.term, Beneficiary: e.ben})
	if _, body := e.get(c, "/beneficiaries/"+e.ben); !strings.Contains(body, "in linea ora") {
		t.Error("online terminal not shown to the caregiver")
	}
	evs, err := e.audit.Query(context.Background(), audit.Filter{Limit: 200})
	if err != nil {
		t.Fatal(err)
	}
	for _, ev := range evs {
		if ev.Action == audit.Denied {
			t.Errorf("refused while showing the page: %+v", ev)
		}
	}
}

// A grant goes to a coop chosen by name from the federation's members.
func TestGrantCoopByName(t *testing.T) {
	_, k1, _ := ed25519.GenerateKey(rand.Reader)
	other := schema.PeerIDFromPublicKey(k1.Public().(ed25519.PublicKey))
	e := newCareEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC), DefaultZone, func(d *Deps) {
		d.Coops = func() []catalogue.Coop {
			return []catalogue.Coop{{PeerID: "self", CoopName: "Coop di prova", Self: true}, {PeerID: other, CoopName: "Coop Ponte", Online: true}}
		}
	})
	g, err := e.calls.IssueGrant(context.Background(), careSys, calls.Grant{Beneficiary: e.ben, Node: other, Caregiver: "c9", Name: "Paolo Neri", Expires: time.Date(2026, 9, 1, 0, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	admin := e.login("admin")
	_, body := e.get(admin, "/calls")
	checkPage(t, "/calls", body)
	if !strings.Contains(body, `<option value="`+other+`">Coop Ponte</option>`) || strings.Contains(body, ">Coop di prova</option>") {
		t.Errorf("the coop choice:\n%s", body)
	}
	if !strings.Contains(body, "Paolo Neri di Coop Ponte può chiamare Maria Rossi") {
		t.Error("the grant is not said in words")
	}
	// The granted caregiver is offered on the schedule form, by name and coop.
	_, body = e.get(admin, "/beneficiaries/"+e.ben+"/schedules/new")
	if !strings.Contains(body, `<option value="`+other+`/c9">Paolo Neri (Coop Ponte)</option>`) {
		t.Errorf("the granted caregiver is not offered:\n%s", body)
	}
	res, _ := e.post(admin, "/beneficiaries/"+e.ben+"/schedules/new", url.Values{"caregiver": {other + "/c9"}, "days": {"SA"}, "time": {"16:00"}, "start": {"2026-05-04"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("schedule with the other coop's caregiver: %d", res.StatusCode)
	}
	if _, body := e.get(admin, "/beneficiaries/"+e.ben); !strings.Contains(body, "sabato alle 16:00 con Paolo Neri (Coop Ponte)") {
		t.Error("the other coop's caregiver is not named")
	}
	_ = g
}

// The calls page lets the admin set the coop's call-back time for
// "Chiamatemi", showing the node's default until one is chosen.
func TestCallsPageCoopRequestWait(t *testing.T) {
	e := newCareEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC), DefaultZone)
	admin := e.login("admin")
	_, body := e.get(admin, "/calls")
	checkPage(t, "/calls", body)
	if !strings.Contains(body, `data-api="/api/v1/calls/coop" data-method="PUT"`) || !strings.Contains(body, `name="request_wait_minutes"`) ||
		!strings.Contains(body, "Vuoto o 0: 30 minuti") {
		t.Fatalf("no call-back time on the calls page:\n%s", body)
	}
	if _, err := e.calls.SaveCoop(context.Background(), careSys, calls.CoopSettings{RequestWaitMinutes: 12}); err != nil {
		t.Fatal(err)
	}
	if _, body = e.get(admin, "/calls"); !strings.Contains(body, `value="12"`) {
		t.Error("the chosen call-back time is not shown")
	}
}

// The schedule form's dates are typed day/month/year (no browser picker
// in the browser's own locale), shown back that way, and stored as ISO.
func TestScheduleDatesTypedDayMonthYear(t *testing.T) {
	e := newCareEnv(t, time.Date(2026, 5, 4, 8, 0, 0, 0, time.UTC), DefaultZone)
	admin := e.login("admin")
	_, body := e.get(admin, "/beneficiaries/"+e.ben+"/schedules/new")
	if !strings.Contains(body, `name="start" value="04/05/2026" inputmode="numeric"`) || !strings.Contains(body, `placeholder="gg/mm/aaaa"`) ||
		!strings.Contains(body, `<input type="hidden" name="_dates" value="start">`) || strings.Contains(body, `type="date"`) {
		t.Fatalf("the start date field:\n%s", body)
	}
	cgs := e.calls.Schedules(careSys, e.ben)
	res, _ := e.post(admin, "/beneficiaries/"+e.ben+"/schedules/new", url.Values{"caregiver": {e.cg}, "days": {"MO"}, "time": {"10:00"},
		"start": {"11/05/2026"}, "until": {"30/6/2026"}, "_dates": {"start", "until"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("schedule with typed dates: %d", res.StatusCode)
	}
	ss := e.calls.Schedules(careSys, e.ben)
	if len(ss) != len(cgs)+1 {
		t.Fatalf("schedules %+v", ss)
	}
	for _, s := range ss {
		if s.Start == "2026-05-11" && s.Until == "2026-06-30" {
			return
		}
	}
	t.Fatalf("typed dates not stored as ISO: %+v", ss)
}
