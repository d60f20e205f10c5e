package webui

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/web"
)

// loopReplica stands for the federation: what the authority publishes
// reaches the service at once.
type loopReplica struct {
	mu   sync.Mutex
	fns  []func(old, cur *schema.Entry)
	cur  map[string]*schema.Entry
	peer string
}

func (l *loopReplica) Current(context.Context, schema.Kind, func(*schema.Entry) error) error {
	return nil
}

func (l *loopReplica) OnChange(fn func(old, cur *schema.Entry)) {
	l.mu.Lock()
	l.fns = append(l.fns, fn)
	l.mu.Unlock()
}

func (l *loopReplica) Publish(_ context.Context, kind schema.Kind, key string, body []byte) (*schema.Entry, error) {
	e := &schema.Entry{Publisher: l.peer, Kind: kind, Key: key, Body: body, IssuedAt: time.Now()}
	l.mu.Lock()
	old := l.cur[string(kind)+"/"+key]
	l.cur[string(kind)+"/"+key] = e
	fns := l.fns
	l.mu.Unlock()
	for _, fn := range fns {
		fn(old, e)
	}
	return e, nil
}

func newPeer(t testing.TB) string {
	pub, _, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return schema.PeerIDFromPublicKey(pub)
}

const authorityName = "Città Metropolitana di Reggio Calabria"

// qenv is a node that is both a coop and an authority (of province 080):
// applications go straight to the authority's handler.
type qenv struct {
	*env
	au                 *qualify.Authority
	svc                *qualify.Service
	coopPeer, authPeer string
}

func newQualEnv(t *testing.T, withAuthority bool) *qenv {
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
	q := &qenv{coopPeer: newPeer(t), authPeer: newPeer(t)}
	keys, err := qualify.GenerateKey(filepath.Join(t.TempDir(), "authority.jwk"), time.Now().Add(-time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	territory := []string{"080"}
	trust, err := schema.NewTrustSet(keys.Public(authorityName, territory, q.authPeer))
	if err != nil {
		t.Fatal(err)
	}
	rep := &loopReplica{cur: map[string]*schema.Entry{}, peer: q.authPeer}
	q.svc = qualify.NewService(trust, nil, nil)
	if err := q.svc.Attach(ctx, rep); err != nil {
		t.Fatal(err)
	}
	q.au, err = qualify.OpenAuthority(ctx, qualify.AuthorityConfig{
		Keys: keys, Name: authorityName, Territory: territory, Peer: q.authPeer,
		Store: st.Namespace("/qualify/authority"), Audit: al, Publisher: rep,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := q.au.Start(ctx); err != nil {
		t.Fatal(err)
	}
	from, err := peer.Decode(q.coopPeer)
	if err != nil {
		t.Fatal(err)
	}
	coop, err := qualify.OpenCoop(ctx, qualify.CoopConfig{
		CoopName: "Coop di prova", Store: st.Namespace("/qualify/coop"), Audit: al,
		Send: func(ctx context.Context, to string, req federation.ApplyRequest) (federation.ApplyResponse, error) {
			if to != q.authPeer {
				return federation.ApplyResponse{}, context.DeadlineExceeded
			}
			return q.au.HandleApply(ctx, from, req), nil
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	info := func() api.NodeInfo { return api.NodeInfo{CoopName: "Coop di prova", PeerID: q.coopPeer} }
	deps := qualify.Services{Service: q.svc, Coop: coop}
	if withAuthority {
		deps.Authority = q.au
	}
	s := api.New(api.Deps{Auth: as, Audit: al, Info: info, Ready: st.Ping, Domains: []httpx.Routes{cs, own}})
	Mount(s, Deps{Auth: as, Care: cs, Own: own, Audit: al, Qualify: deps})
	q.env = &env{t: t, srv: httptest.NewServer(s.Handler()), care: cs, own: own}
	t.Cleanup(func() {
		q.srv.Close()
		al.Close()
	})
	for _, r := range auth.Roles {
		a := auth.Account{Username: string(r), Role: r}
		if r == auth.Caregiver {
			cg, err := cs.CreateCaregiver(ctx, auth.Actor{Username: "setup", Role: auth.Admin}, care.Caregiver{Name: "Anna Verdi", Username: "anna"})
			if err != nil {
				t.Fatal(err)
			}
			a.CaregiverID = cg.ID
		}
		if _, err := as.Create(ctx, a, pw); err != nil {
			t.Fatal(err)
		}
	}
	o, err := own.Create(ctx, auth.Actor{Username: "setup", Role: auth.Admin}, schema.Offering{Name: "Compagnia a domicilio", Description: "Visite settimanali.",
		Category: "anziani.assistenza-domiciliare", Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual,
		Areas: []string{"080063"}, Languages: []string{"it"}, Contact: schema.Contact{Phone: "+39 0965 123456"}, Status: schema.StatusActive})
	if err != nil {
		t.Fatal(err)
	}
	q.of = o.ID
	return q
}

// part is one file of a multipart form.
type part struct {
	name string
	data []byte
}

func (q *qenv) postMultipart(c *http.Client, path string, v url.Values, files []part) (*http.Response, string) {
	q.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	for k, vs := range v {
		for _, x := range vs {
			_ = mw.WriteField(k, x)
		}
	}
	for _, f := range files {
		w, _ := mw.CreateFormFile("attachments", f.name)
		_, _ = w.Write(f.data)
	}
	mw.Close()
	req, _ := http.NewRequest(http.MethodPost, q.srv.URL+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	res, err := c.Do(req)
	if err != nil {
		q.t.Fatal(err)
	}
	defer res.Body.Close()
	var out bytes.Buffer
	_, _ = out.ReadFrom(res.Body)
	return res, out.String()
}

func (q *qenv) applyValues() url.Values {
	return url.Values{
		"authority":        {q.authPeer},
		"categories":       {"anziani"},
		"municipalities.0": {"080063 Reggio di Calabria (RC)"},
		"municipalities.1": {""},
		"description":      {"Assistenza domiciliare a Reggio Calabria dal 2012."},
	}
}

var pdf = []byte("%PDF-1.4\n% statuto della cooperativa\n")

func TestQualificationPagesByRole(t *testing.T) {
	q := newQualEnv(t, true)
	admin := q.login("admin")
	if res, body := q.postMultipart(admin, "/qualification/new", q.applyValues(), []part{{"statuto.pdf", pdf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("apply: %d %s", res.StatusCode, body)
	}
	apps, _ := q.au.List(auth.Actor{Role: auth.Officer})
	if len(apps) != 1 {
		t.Fatalf("authority holds %d applications", len(apps))
	}
	app := AppBase(apps[0])
	A, O := auth.Admin, auth.Officer
	pages := []struct {
		path  string
		roles []auth.Role
	}{
		{"/qualification", []auth.Role{A}},
		{"/qualification/new", []auth.Role{A}},
		{"/authority", []auth.Role{O}},
		{"/authority?state=submitted", []auth.Role{O}},
		{"/authority?state=nonsense", []auth.Role{O}},
		{app, []auth.Role{O}},
	}
	for _, r := range auth.Roles {
		c := q.login(string(r))
		for _, pg := range pages {
			want := http.StatusForbidden
			for _, ok := range pg.roles {
				if ok == r {
					want = http.StatusOK
				}
			}
			for _, lang := range []string{"it", "en"} {
				u, _ := url.Parse(q.srv.URL)
				c.Jar.SetCookies(u, []*http.Cookie{{Name: LangCookie, Value: lang}})
				res, body := q.get(c, pg.path)
				if res.StatusCode != want {
					t.Errorf("%s as %s: %d, want %d", pg.path, r, res.StatusCode, want)
				}
				checkPage(t, pg.path+" ("+lang+")", body)
			}
		}
		// The nav shows the sections the role may use here.
		_, home := q.get(c, "/")
		if got, want := strings.Contains(home, `href="/qualification"`), r == A; got != want {
			t.Errorf("nav of %s links the qualification page: %v", r, got)
		}
		if got, want := strings.Contains(home, `href="/authority"`), r == O; got != want {
			t.Errorf("nav of %s links the console: %v", r, got)
		}
	}
	officer := q.login("officer")
	res, body := q.get(officer, app+"/attachments/0")
	if res.StatusCode != http.StatusOK || body != string(pdf) || res.Header.Get("Content-Type") != "application/pdf" ||
		!strings.HasPrefix(res.Header.Get("Content-Disposition"), "attachment") {
		t.Errorf("attachment: %d %q %v", res.StatusCode, body, res.Header)
	}
	if res, _ := q.get(q.login("operator"), app+"/attachments/0"); res.StatusCode != http.StatusForbidden {
		t.Errorf("attachment as operator: %d", res.StatusCode)
	}
	if res, _ := q.get(officer, app+"/attachments/7"); res.StatusCode != http.StatusNotFound {
		t.Errorf("missing attachment: %d", res.StatusCode)
	}
	if res, _ := q.post(q.login("caregiver"), app+"/approve", url.Values{}); res.StatusCode != http.StatusForbidden {
		t.Errorf("approve as caregiver: %d", res.StatusCode)
	}
}

func TestQualificationWithoutAuthority(t *testing.T) {
	q := newQualEnv(t, false)
	admin := q.login("admin")
	if res, _ := q.get(admin, "/authority"); res.StatusCode != http.StatusNotFound {
		t.Errorf("console on a coop node: %d", res.StatusCode)
	}
	if _, home := q.get(admin, "/"); strings.Contains(home, `href="/authority"`) {
		t.Error("nav links a console the node does not run")
	}
}

var stateCell = regexp.MustCompile(`<td class="appstate">([^<]*)`)

// TestQualificationFlow runs the life cycle through the pages: apply,
// changes asked, resubmit, approve, badge, revoke.
func TestQualificationFlow(t *testing.T) {
	q := newQualEnv(t, true)
	admin, officer := q.login("admin"), q.login("officer")
	if _, body := q.get(admin, "/qualification"); !strings.Contains(body, "Non qualificato") || !strings.Contains(body, "nessuna qualifica") {
		t.Errorf("an unqualified offering is not explained:\n%s", body)
	}
	if res, body := q.postMultipart(admin, "/qualification/new", q.applyValues(), nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("apply: %d %s", res.StatusCode, body)
	}
	apps, _ := q.au.List(auth.Actor{Role: auth.Officer})
	base := AppBase(apps[0])
	if _, body := q.get(officer, "/authority?state=submitted"); !strings.Contains(body, "Coop di prova") {
		t.Errorf("console does not list the application")
	}
	if _, body := q.get(officer, "/authority?state=approved"); strings.Contains(body, base) {
		t.Errorf("the approved filter lists a submitted application")
	}

	// Asking for changes needs a message.
	res, body := q.post(officer, base+"/changes", url.Values{"changes.message": {"  "}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `id="f-changes-message"`) || !strings.Contains(body, `aria-invalid="true"`) || !strings.Contains(body, `id="errsum"`) {
		t.Errorf("empty message: %d", res.StatusCode)
	}
	checkPage(t, "changes with errors", body)
	if res, body := q.post(officer, base+"/changes", url.Values{"changes.message": {"Allegare lo statuto."}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("ask changes: %d %s", res.StatusCode, body)
	}
	if res, _ := q.post(admin, "/qualification/refresh", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("refresh: %d", res.StatusCode)
	}
	_, body = q.get(admin, "/qualification")
	if m := stateCell.FindStringSubmatch(body); m == nil || m[1] != "Da modificare" || !strings.Contains(body, "Allegare lo statuto.") {
		t.Fatalf("the coop does not see the request for changes: %v", m)
	}
	own, _ := q.au.Get(auth.Actor{Role: auth.Officer}, apps[0].ID)
	resub := "/qualification/applications/" + own.FormID + "/resubmit"
	res, body = q.get(admin, resub)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "Allegare lo statuto.") || !strings.Contains(body, "Assistenza domiciliare a Reggio") {
		t.Fatalf("resubmit page: %d", res.StatusCode)
	}
	checkPage(t, resub, body)
	v := q.applyValues()
	v.Del("authority")
	if res, body := q.postMultipart(admin, resub, v, []part{{"statuto.pdf", pdf}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("resubmit: %d %s", res.StatusCode, body)
	}
	if res, _ := q.get(admin, resub); res.StatusCode != http.StatusNotFound {
		t.Errorf("resubmit page of a submitted application: %d", res.StatusCode)
	}

	// Approval: a date in the past is refused, then granted.
	approve := url.Values{"approve.categories": {"anziani"}, "approve.municipalities.0": {"080063"}, "approve.valid_until": {"2020-01-01"}}
	res, body = q.post(officer, base+"/approve", approve)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "scegli una data futura") {
		t.Errorf("approve in the past: %d", res.StatusCode)
	}
	approve.Set("approve.municipalities.0", "015146")
	approve.Set("approve.valid_until", time.Now().AddDate(1, 0, 0).Format("2006-01-02"))
	if res, body := q.post(officer, base+"/approve", approve); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "fuori dal territorio") {
		t.Errorf("approve outside the territory: %d", res.StatusCode)
	}
	approve.Set("approve.municipalities.0", "080063")
	if res, body := q.post(officer, base+"/approve", approve); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("approve: %d %s", res.StatusCode, body)
	}
	until := time.Now().AddDate(1, 0, 0).Format("02/01/2006")
	badge := "Qualificato da " + authorityName + ", valido fino al " + until
	for _, path := range []string{"/offerings", "/offerings/" + q.of, "/qualification"} {
		res, body := q.get(admin, path)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, badge) {
			t.Errorf("%s: no badge %q", path, badge)
		}
		checkPage(t, path, body)
	}
	if _, body := q.get(officer, "/authority"); !strings.Contains(body, base+"/revoke") {
		t.Error("the console does not list the issued qualification")
	}

	// Revocation asks for a reason and a confirmation.
	res, body = q.get(officer, base+"/revoke")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("revoke page: %d", res.StatusCode)
	}
	checkPage(t, "revoke", body)
	if res, body := q.post(officer, base+"/revoke", url.Values{"revoke.message": {"Requisiti venuti meno."}}); res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "spunta la casella") {
		t.Errorf("revoke without confirmation: %d", res.StatusCode)
	}
	if _, body := q.get(admin, "/offerings"); !strings.Contains(body, badge) {
		t.Error("an unconfirmed revocation took the badge away")
	}
	if res, _ := q.post(officer, base+"/revoke", url.Values{"revoke.message": {"Requisiti venuti meno."}, "revoke.confirm": {"on"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	if _, body := q.get(admin, "/offerings/"+q.of); strings.Contains(body, "Qualificato da") {
		t.Error("badge still shown after the revocation")
	}
	if _, body := q.get(admin, "/qualification"); !strings.Contains(body, "qualifica revocata da "+authorityName) {
		t.Error("the admin is not told the qualification was revoked")
	}
	if res, _ := q.get(officer, base+"/revoke"); res.StatusCode != http.StatusNotFound {
		t.Errorf("revoke page of a revoked qualification: %d", res.StatusCode)
	}
}

// TestApplyFormErrors: every bad application re-renders the form with 400,
// the fields marked, and nothing reaches the authority.
func TestApplyFormErrors(t *testing.T) {
	q := newQualEnv(t, true)
	admin := q.login("admin")
	big := append(bytes.Clone(pdf), make([]byte, federation.MaxAttachmentSize)...)
	six := make([]part, federation.MaxAttachments+1)
	for i := range six {
		six[i] = part{"doc.pdf", pdf}
	}
	for _, tc := range []struct {
		name  string
		edit  func(url.Values)
		files []part
		field string // id of the field marked invalid
		msg   string
	}{
		{"no authority", func(v url.Values) { v.Del("authority") }, nil, "f-authority", "campo obbligatorio"},
		{"unknown authority", func(v url.Values) { v.Set("authority", newPeer(t)) }, nil, "f-authority", "campo obbligatorio"},
		{"no category", func(v url.Values) { v.Del("categories") }, nil, "f-categories-0-0", "campo obbligatorio"},
		{"unknown category", func(v url.Values) { v.Set("categories", "astronavi") }, nil, "f-categories-0-0", "scelta non valida"},
		{"no municipality", func(v url.Values) { v.Set("municipalities.0", "") }, nil, "f-municipalities-0", "campo obbligatorio"},
		{"bad municipality", func(v url.Values) { v.Set("municipalities.1", "Atlantide") }, nil, "f-municipalities-1", "comune non trovato"},
		{"outside territory", func(v url.Values) { v.Set("municipalities.0", "015146") }, nil, "f-municipalities-0", "fuori dal territorio"},
		{"no description", func(v url.Values) { v.Set("description", " ") }, nil, "f-description", "campo obbligatorio"},
		{"long description", func(v url.Values) { v.Set("description", strings.Repeat("a", qualify.MaxDescription+1)) }, nil, "f-description", "troppo lungo"},
		{"not a pdf", func(url.Values) {}, []part{{"statuto.pdf", []byte("MZ\x90\x00 an executable")}}, "f-attachments", "solo file PDF"},
		{"text file", func(url.Values) {}, []part{{"note.txt", []byte("ciao")}}, "f-attachments", "solo file PDF"},
		{"too large", func(url.Values) {}, []part{{"big.pdf", big}}, "f-attachments", "troppo grande"},
		{"too many", func(url.Values) {}, six, "f-attachments", "troppi allegati"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := q.applyValues()
			tc.edit(v)
			res, body := q.postMultipart(admin, "/qualification/new", v, tc.files)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("status %d", res.StatusCode)
			}
			if !regexp.MustCompile(`id="` + tc.field + `"[^>]*aria-invalid="true"`).MatchString(body) {
				t.Errorf("%s not marked invalid", tc.field)
			}
			if !strings.Contains(body, tc.msg) || !strings.Contains(body, `href="#`+tc.field+`"`) {
				t.Errorf("no summary line %q linking #%s", tc.msg, tc.field)
			}
			checkPage(t, tc.name, body)
		})
	}
	if apps, _ := q.au.List(auth.Actor{Role: auth.Officer}); len(apps) != 0 {
		t.Errorf("%d bad applications reached the authority", len(apps))
	}
}

func TestBadgeAndReasons(t *testing.T) {
	c, err := loadCatalogues(web.Locales())
	if err != nil {
		t.Fatal(err)
	}
	until := time.Date(2027, 3, 9, 12, 0, 0, 0, time.Local)
	for _, tc := range []struct{ lang, want string }{
		{"it", "Qualificato da Comune di Reggio, valido fino al 09/03/2027"},
		{"en", "Qualified by Comune di Reggio, valid until 9 Mar 2027"},
	} {
		p := &page{cat: c, Lang: tc.lang}
		if b := p.Badge("Comune di Reggio", until); b == nil || b.Text != tc.want {
			t.Errorf("%s badge: %+v", tc.lang, b)
		}
		if p.Badge("", until) != nil {
			t.Error("a badge without an authority")
		}
	}
	p := &page{cat: c, Lang: "it"}
	for in, want := range map[string]string{
		"no qualification":                           "nessuna qualifica",
		"category anziani.pasti not qualified":       "la categoria",
		"municipality 080063 not qualified":          "Reggio di Calabria (RC)",
		"revoked by Comune":                          "qualifica revocata da Comune",
		"credential refused: expired at 2020-01-01Z": "qualifica scaduta",
		"credential refused: kid unknown":            "qualifica non valida (kid unknown)",
	} {
		if got := p.Reason(in); !strings.Contains(got, want) || strings.Contains(got, "⟦") {
			t.Errorf("Reason(%q) = %q, want %q in it", in, got, want)
		}
	}
	if got := contentDisposition("statuto è.pdf"); got != "attachment; filename*=UTF-8''statuto%20%C3%A8.pdf" {
		t.Errorf("content disposition: %s", got)
	}
}
