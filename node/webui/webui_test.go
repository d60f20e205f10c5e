package webui

import (
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"maps"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"go.uber.org/goleak"

	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/web"
)

func TestMain(m *testing.M) {
	// bleve (the catalogue search index) starts analysis workers when it is
	// loaded and never stops them.
	goleak.VerifyTestMain(m, goleak.IgnoreTopFunction("github.com/blevesearch/bleve_index_api.AnalysisWorker"))
}

const pw = "password-di-prova"

// env is a node's API server with the web UI on loopback, one account per
// role, and a few records.
type env struct {
	t                 testing.TB
	srv               *httptest.Server
	care              *care.Service
	own               *catalogue.Own
	ben, cg, term, of string // ids of seeded records
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st := store.NewMemory()
	al, err := audit.Open(ctx, st.Namespace("/audit"), nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	as, err := auth.Open(ctx, st.Namespace("/auth"), auth.Config{Params: auth.Params{Memory: 64, Time: 1, Threads: 1}})
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
	info := func() api.NodeInfo { return api.NodeInfo{CoopName: "Coop di prova"} }
	s := api.New(api.Deps{Auth: as, Audit: al, Info: info, Ready: st.Ping, Domains: []httpx.Routes{cs, own}})
	Mount(s, Deps{Auth: as, Care: cs, Own: own, Audit: al})
	e := &env{t: t, srv: httptest.NewServer(s.Handler()), care: cs, own: own}
	t.Cleanup(func() {
		e.srv.Close()
		al.Close()
	})
	sys := auth.Actor{Username: "setup", Role: auth.Admin}
	cg, err := cs.CreateCaregiver(ctx, sys, care.Caregiver{Name: "Anna Verdi", Username: "anna"})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range auth.Roles {
		a := auth.Account{Username: string(r), Role: r}
		if r == auth.Caregiver {
			a.CaregiverID = cg.ID
		}
		if _, err := as.Create(ctx, a, pw); err != nil {
			t.Fatal(err)
		}
	}
	b, err := cs.CreateBeneficiary(ctx, sys, care.Beneficiary{Name: "Maria Rossi", Address: "Via Roma 1", Municipality: "080063",
		Fragility: []string{"alone"}, Caregivers: []string{cg.ID}, Contacts: []care.Contact{{Kind: "family", Name: "Luca", Phone: "+39 333 1234567"}}})
	if err != nil {
		t.Fatal(err)
	}
	tm, err := cs.CreateTerminal(ctx, sys, care.Terminal{Label: "T-001", Model: "ThinkPad X220", State: "recovered"})
	if err != nil {
		t.Fatal(err)
	}
	o, err := own.Create(ctx, sys, schema.Offering{Name: "Compagnia a domicilio", Description: "Visite settimanali.", Category: schema.TopTerms()[0].Code,
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual, Areas: []string{"080063"}, Languages: []string{"it"},
		Contact: schema.Contact{Phone: "+39 0965 123456"}, Status: schema.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	e.ben, e.cg, e.term, e.of = b.ID, cg.ID, tm.ID, o.ID
	return e
}

// client is a browser without JavaScript: cookies, no redirects followed.
func (e *env) client() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (e *env) login(user string) *http.Client {
	e.t.Helper()
	c := e.client()
	res, body := e.post(c, "/login", url.Values{"username": {user}, "password": {pw}, "next": {"/"}})
	if res.StatusCode != http.StatusSeeOther {
		e.t.Fatalf("login %s: %d %s", user, res.StatusCode, body)
	}
	return c
}

func (e *env) get(c *http.Client, path string) (*http.Response, string) {
	e.t.Helper()
	res, err := c.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func (e *env) post(c *http.Client, path string, v url.Values) (*http.Response, string) {
	e.t.Helper()
	res, err := c.PostForm(e.srv.URL+path, v)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

var (
	inlineScript = regexp.MustCompile(`(?i)<script(\s[^>]*)?>`)
	styleAttr    = regexp.MustCompile(`(?i)\sstyle\s*=`)
	eventAttr    = regexp.MustCompile(`(?i)\son[a-z]+\s*=`)
	styleTag     = regexp.MustCompile(`(?i)<style[\s>]`)
)

// checkPage asserts what every rendered page must hold: CSP-clean markup
// (no inline script, style or handlers), no missing catalogue key, the
// landmarks and a language.
func checkPage(t *testing.T, path, body string) {
	t.Helper()
	for _, m := range inlineScript.FindAllStringSubmatch(body, -1) {
		if !strings.Contains(m[1], "src=") {
			t.Errorf("%s: inline <script> %q", path, m[0])
		}
	}
	if styleAttr.MatchString(body) || styleTag.MatchString(body) {
		t.Errorf("%s: inline style", path)
	}
	if eventAttr.MatchString(body) {
		t.Errorf("%s: inline event handler", path)
	}
	if strings.Contains(body, "⟦") {
		i := strings.Index(body, "⟦")
		t.Errorf("%s: missing catalogue key near %q", path, body[i:min(len(body), i+60)])
	}
	for _, want := range []string{`<html lang="`, `<main id="main"`, `class="skip" href="#main"`, "<header", "<footer"} {
		if !strings.Contains(body, want) {
			t.Errorf("%s: no %s", path, want)
		}
	}
}

func TestPagesByRole(t *testing.T) {
	e := newEnv(t)
	clients := map[auth.Role]*http.Client{}
	for _, r := range auth.Roles {
		clients[r] = e.login(string(r))
	}
	all := auth.Roles
	A, C, R, O := auth.Admin, auth.Caregiver, auth.Refurbisher, auth.Operator
	pages := []struct {
		path  string
		roles []auth.Role // who gets 200; everyone else 403
	}{
		{"/", all},
		{"/beneficiaries", []auth.Role{A, C}},
		{"/beneficiaries?q=maria&archived=1&offset=0", []auth.Role{A, C}},
		{"/beneficiaries/new", []auth.Role{A}},
		{"/beneficiaries/" + e.ben, []auth.Role{A, C}},
		{"/beneficiaries/" + e.ben + "/edit", []auth.Role{A}},
		{"/beneficiaries/" + e.ben + "/archive", []auth.Role{A}},
		{"/caregivers", []auth.Role{A, C}},
		{"/caregivers/new", []auth.Role{A}},
		{"/caregivers/" + e.cg, []auth.Role{A, C}},
		{"/caregivers/" + e.cg + "/edit", []auth.Role{A}},
		{"/terminals", []auth.Role{A, R}},
		{"/terminals/new", []auth.Role{A, R}},
		{"/terminals/" + e.term, []auth.Role{A, R}},
		{"/terminals/" + e.term + "/edit", []auth.Role{A, R}},
		{"/terminals/" + e.term + "/archive", []auth.Role{A, R}},
		{"/offerings", []auth.Role{A, O}},
		{"/offerings/new", []auth.Role{A}},
		{"/offerings/" + e.of, []auth.Role{A, O}},
		{"/offerings/" + e.of + "/edit", []auth.Role{A}},
		{"/accounts", []auth.Role{A}},
		{"/accounts/new", []auth.Role{A}},
		{"/accounts/caregiver/edit", []auth.Role{A}},
		{"/audit", []auth.Role{A}},
		{"/audit?kind=beneficiary&actor=admin", []auth.Role{A}},
	}
	anon := e.client()
	for _, p := range pages {
		res, _ := e.get(anon, p.path)
		if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login?next=") {
			t.Errorf("anonymous %s: %d %s, want 303 to /login", p.path, res.StatusCode, res.Header.Get("Location"))
		}
		for _, r := range auth.Roles {
			for _, lang := range []string{"it", "en"} {
				req, _ := http.NewRequest(http.MethodGet, e.srv.URL+p.path, nil)
				req.Header.Set("Accept-Language", lang)
				res, err := clients[r].Do(req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := io.ReadAll(res.Body)
				res.Body.Close()
				want := http.StatusForbidden
				if slices.Contains(p.roles, r) {
					want = http.StatusOK
				}
				if res.StatusCode != want {
					t.Errorf("%s as %s: %d, want %d", p.path, r, res.StatusCode, want)
				}
				checkPage(t, p.path, string(b))
				if !strings.Contains(string(b), `<html lang="`+lang+`"`) {
					t.Errorf("%s as %s with Accept-Language %s: wrong page language", p.path, r, lang)
				}
			}
		}
	}
	// A caregiver sees only the beneficiaries assigned to them: a record
	// of someone else is a 403 from the service, audited.
	other, err := e.care.CreateBeneficiary(context.Background(), auth.Actor{Username: "setup", Role: auth.Admin},
		care.Beneficiary{Name: "Giulia Bianchi", Address: "Via Po 2", Municipality: "080063"})
	if err != nil {
		t.Fatal(err)
	}
	if res, _ := e.get(clients[C], "/beneficiaries/"+other.ID); res.StatusCode != http.StatusForbidden {
		t.Errorf("caregiver reading an unassigned beneficiary: %d", res.StatusCode)
	}
	if res, _ := e.get(clients[A], "/beneficiaries/nosuchid"); res.StatusCode != http.StatusNotFound {
		t.Errorf("unknown beneficiary: %d", res.StatusCode)
	}
	// Static assets are cacheable; the favicon exists.
	for _, p := range []string{"/static/app.css", "/static/app.js", "/static/municipalities.js", "/favicon.ico"} {
		res, _ := e.get(anon, p)
		if res.StatusCode != http.StatusOK || !strings.Contains(res.Header.Get("Cache-Control"), "max-age") {
			t.Errorf("%s: %d %q", p, res.StatusCode, res.Header.Get("Cache-Control"))
		}
	}
}

func TestFormsErrorsAndSuccess(t *testing.T) {
	e := newEnv(t)
	c := e.login("admin")

	// Errors: re-rendered with 400, the user's input kept, each field
	// marked and described, the summary first.
	res, body := e.post(c, "/beneficiaries/new", url.Values{
		"name": {""}, "address": {"Via Garibaldi 3"}, "municipality": {"Atlantide"}, "birth_year": {"ottanta"},
		"contacts.1.name": {"Luca"}, "contacts.1.kind": {"family"},
	})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("invalid beneficiary: %d", res.StatusCode)
	}
	checkPage(t, "/beneficiaries/new", body)
	for _, want := range []string{
		`id="errsum"`, `value="Via Garibaldi 3"`, `href="#f-birth_year"`, `id="e-birth_year"`, `aria-describedby="e-birth_year"`, `value="ottanta"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("invalid beneficiary page lacks %s", want)
		}
	}
	// Fields the form could read go to the service, whose codes land on
	// the right inputs, contact rows included.
	res, body = e.post(c, "/beneficiaries/new", url.Values{"name": {""}, "address": {"Via Garibaldi 3"}, "municipality": {"Atlantide"},
		"contacts.1.name": {"Luca"}, "contacts.1.kind": {"family"}})
	if res.StatusCode != http.StatusBadRequest {
		t.Fatalf("bad municipality: %d", res.StatusCode)
	}
	for _, want := range []string{`href="#f-name"`, `id="e-name"`, `aria-describedby="e-name"`, `id="e-municipality"`, `id="e-contacts-1-phone"`, `value="Luca"`} {
		if !strings.Contains(body, want) {
			t.Errorf("bad municipality page lacks %s", want)
		}
	}

	// Success: post, redirect, get, with a flash.
	res, _ = e.post(c, "/beneficiaries/new", url.Values{
		"name": {"Pia Neri"}, "address": {"Via Garibaldi 3"}, "municipality": {"Reggio di Calabria"},
		"fragility": {"alone", "very_old"}, "caregivers": {e.cg},
		"contacts.0.kind": {"family"}, "contacts.0.name": {"Luca Neri"}, "contacts.0.phone": {"+39 333 7654321"},
		"consent.given": {"on"}, "consent.date": {"2026-01-15"},
	})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/beneficiaries/") {
		t.Fatalf("create beneficiary: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	res, body = e.get(c, res.Header.Get("Location"))
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Pia Neri") || !strings.Contains(body, "Reggio di Calabria") || !strings.Contains(body, "Luca Neri") || !strings.Contains(body, `role="status"><p>`) {
		t.Errorf("new beneficiary page: %d", res.StatusCode)
	}

	// Offering: errors land on the form's own fields.
	res, body = e.post(c, "/offerings/new", url.Values{"name": {"Pasti"}, "cost.type": {"paid"}, "cost.options.0.amount": {"dodici"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-cost-options-0-amount"`) {
		t.Fatalf("offering with a bad amount: %d", res.StatusCode)
	}
	res, body = e.post(c, "/offerings/new", url.Values{"name": {"Pasti"}, "cost.type": {"paid"}, "cost.options.0.amount": {"0"}})
	for _, want := range []string{`id="e-cost-options-0-amount"`, `href="#f-description"`, `id="e-areas-0"`, `id="e-category"`} {
		if !strings.Contains(body, want) {
			t.Errorf("invalid offering page lacks %s", want)
		}
	}
	res, body = e.post(c, "/offerings/new", url.Values{"name": {"Pasti"}, "description": {"Pasti caldi a casa."}, "category": {schema.TopTerms()[0].Code},
		"cost.type": {"paid"}, "cost.options.0.option": {"Pasto"}, "cost.options.0.amount": {"7,50"}, "cost.options.0.unit": {"visit"}, "delivery": {"shared"},
		"areas.2": {"080063"}, "languages": {"it"}, "status": {"active"}, "contact.phone": {"+39 0965 1"}, "areas.0": {"999999"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-areas-0"`) {
		t.Errorf("offering with a bad area: %d", res.StatusCode)
	}
	res, _ = e.post(c, "/offerings/new", url.Values{"name": {"Pasti"}, "description": {"Pasti caldi a casa."}, "category": {schema.TopTerms()[0].Code},
		"cost.type": {"paid"}, "cost.options.0.option": {"Pasto"}, "cost.options.0.amount": {"7,50"}, "cost.options.0.unit": {"visit"}, "delivery": {"shared"},
		"areas.2": {"080063 Reggio di Calabria (RC)"}, "languages": {"it"}, "languages_other": {"ro"}, "status": {"active"}, "contact.phone": {"+39 0965 123456"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("create offering: %d", res.StatusCode)
	}
	_, body = e.get(c, res.Header.Get("Location"))
	if !strings.Contains(body, "7,50") {
		t.Errorf("offering price not shown in Italian")
	}

	// Archive after confirmation.
	res, body = e.get(c, "/terminals/"+e.term+"/archive")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `action="/terminals/`+e.term+`/archive"`) {
		t.Errorf("archive confirmation: %d", res.StatusCode)
	}
	res, _ = e.post(c, "/terminals/"+e.term+"/archive", nil)
	if res.StatusCode != http.StatusSeeOther {
		t.Errorf("archive: %d", res.StatusCode)
	}
	if tm, _ := e.care.Terminal(context.Background(), auth.Actor{Username: "x", Role: auth.Admin}, e.term); !tm.Archived {
		t.Errorf("terminal not archived")
	}

	// Accounts: weak password refused on the field, never echoed back.
	res, body = e.post(c, "/accounts/new", url.Values{"username": {"nuovo"}, "role": {"caregiver"}, "password": {"corta"}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-password"`) || strings.Contains(body, "corta") {
		t.Errorf("weak password: %d", res.StatusCode)
	}
	if res, _ = e.post(c, "/accounts/new", url.Values{"username": {"nuovo"}, "role": {"operator"}, "password": {"una-password-lunga"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("create account: %d", res.StatusCode)
	}
	if res, _ = e.post(c, "/accounts/nuovo/edit", url.Values{"role": {"operator"}, "disabled": {"on"}, "password": {"altra-password-lunga"}}); res.StatusCode != http.StatusSeeOther {
		t.Errorf("disable account: %d", res.StatusCode)
	}
	if res, _ = e.post(e.client(), "/login", url.Values{"username": {"nuovo"}, "password": {"altra-password-lunga"}}); res.StatusCode == http.StatusSeeOther {
		t.Errorf("disabled account logged in")
	}
	// Admin cannot demote themself.
	if res, body = e.post(c, "/accounts/admin/edit", url.Values{"role": {"operator"}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="e-role"`) {
		t.Errorf("self demotion: %d", res.StatusCode)
	}

	// Audit chain verification.
	res, body = e.post(c, "/audit/verify", nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `class="result ok"`) {
		t.Errorf("verify: %d", res.StatusCode)
	}
	checkPage(t, "/audit/verify", body)
}

// TestCatalogues checks the two catalogues have the same keys, and every key
// the templates and the enumerations use exists.
func TestCatalogues(t *testing.T) {
	keys := map[string]map[string]string{}
	for _, l := range web.Languages() {
		// <lang>.json and every feature's <area>.<lang>.json, as the loader reads them.
		names, _ := fs.Glob(web.Locales(), "*."+l+".json")
		names = append([]string{l + ".json"}, names...)
		m := map[string]string{}
		for _, name := range names {
			raw, err := fs.ReadFile(web.Locales(), name)
			if err != nil {
				t.Fatal(err)
			}
			parts := map[string]json.RawMessage{}
			if err := json.Unmarshal(raw, &parts); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			part := map[string]string{}
			for k, raw := range parts {
				// A message is a string, or plural forms {"one": ..., "other": ...}.
				var v string
				if err := json.Unmarshal(raw, &v); err != nil {
					var forms map[string]string
					if err := json.Unmarshal(raw, &forms); err != nil || forms["other"] == "" {
						t.Errorf("%s: %q is neither a string nor plural forms with \"other\"", name, k)
					}
					v = forms["other"]
				}
				part[k] = v
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					t.Errorf("%s: key %q defined twice", name, k)
				}
				m[k] = v
			}
		}
		keys[l] = m
	}
	it, en := slices.Sorted(maps.Keys(keys["it"])), slices.Sorted(maps.Keys(keys["en"]))
	for _, k := range it {
		if _, ok := keys["en"][k]; !ok {
			t.Errorf("en.json lacks %q", k)
		}
	}
	for _, k := range en {
		if _, ok := keys["it"][k]; !ok {
			t.Errorf("it.json lacks %q", k)
		}
	}
	for l, m := range keys {
		for k, v := range m {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %q is empty", l, k)
			}
		}
	}

	var used []string
	keyRE := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	names, _ := fs.Glob(web.Templates(), "*.html")
	for _, n := range names {
		b, _ := fs.ReadFile(web.Templates(), n)
		for _, m := range keyRE.FindAllStringSubmatch(string(b), -1) {
			used = append(used, m[1])
		}
	}
	if len(used) < 50 {
		t.Fatalf("found only %d keys in templates: is the pattern stale?", len(used))
	}
	enum := func(prefix string, vs ...string) {
		for _, v := range vs {
			used = append(used, prefix+"."+v)
		}
	}
	enum("fragility", care.Fragilities...)
	enum("contact_kind", care.ContactKinds...)
	enum("terminal_state", care.TerminalStates...)
	enum("role", roleNames()...)
	enum("langname", web.Languages()...)
	enum("lang", web.Languages()...)
	enum("cost_type", string(schema.CostFree), string(schema.CostPaid))
	enum("cost_unit", costUnits()...)
	enum("delivery", string(schema.DeliveryIndividual), string(schema.DeliveryShared))
	enum("offering_status", string(schema.StatusActive), string(schema.StatusInactive))
	enum("language", offeringLanguages()...)
	enum("nav", sectionOrder()...)
	enum("action", string(audit.Read), string(audit.List), string(audit.Create), string(audit.Update), string(audit.Archive),
		string(audit.Denied), string(audit.Login), string(audit.Failed), string(audit.Logout), string(audit.Export))
	enum("err", "required", "too_long", "too_many", "bad_characters", "bad_municipality", "bad_email", "bad_phone", "phone_or_email",
		"bad_choice", "bad_date", "out_of_range", "bad_number", "bad_amount", "bad_language", "bad_url", "unknown_caregiver",
		"unknown_beneficiary", "weak_password", "password_personal", "password_common", "password_pattern", "taken", "bad_username", "cannot_demote_self", "bad_credentials", "rate_limited", "invalid")
	for _, k := range []string{"beneficiary", "caregiver", "terminal", "offering"} {
		enum(k, "list_title", "new_title", "edit_title", "detail_title", "archive_title", "archive_question")
	}
	for _, k := range used {
		if _, ok := keys["it"][k]; !ok {
			t.Errorf("key %q is used but not in the catalogues", k)
		}
	}
}

func TestParseCentsAndMunicipality(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{{"12", 1200, true}, {"12,5", 1250, true}, {"12.50", 1250, true}, {"€ 7,05", 705, true}, {"", 0, false}, {"dodici", 0, false}, {"1,234", 0, false}} {
		got, ok := parseCents(tc.in)
		if got != tc.want || ok != tc.ok {
			t.Errorf("parseCents(%q) = %d %v", tc.in, got, ok)
		}
	}
	for in, want := range map[string]string{"080063": "080063", "080063 Reggio di Calabria (RC)": "080063", "Reggio di Calabria": "080063", "reggio di calabria": "080063", "Atlantide": "Atlantide", "": ""} {
		if got := resolveMunicipality(in); got != want {
			t.Errorf("resolveMunicipality(%q) = %q, want %q", in, got, want)
		}
	}
}

// BenchmarkBeneficiaryList measures a full page (session, service, template,
// translation) against the JSON API's answer for the same list, in the same
// run, so the cost of server-side rendering reads as a ratio.
func BenchmarkBeneficiaryList(b *testing.B) {
	e := newEnv(b)
	c := e.login("admin")
	for i := range 40 {
		if _, err := e.care.CreateBeneficiary(context.Background(), auth.Actor{Username: "setup", Role: auth.Admin},
			care.Beneficiary{Name: "Persona " + strconv.Itoa(i), Address: "Via Roma 1", Municipality: "080063", Fragility: []string{"alone", "very_old"}}); err != nil {
			b.Fatal(err)
		}
	}
	run := func(b *testing.B, path string) {
		var bytes int
		for b.Loop() {
			res, err := c.Get(e.srv.URL + path)
			if err != nil {
				b.Fatal(err)
			}
			n, _ := io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Fatalf("%s: %d", path, res.StatusCode)
			}
			bytes = int(n)
		}
		b.ReportMetric(float64(bytes), "bytes/op")
	}
	b.Run("baseline=json-api", func(b *testing.B) { run(b, "/api/v1/beneficiaries?limit=20") })
	b.Run("html-page", func(b *testing.B) { run(b, "/beneficiaries") })
}
