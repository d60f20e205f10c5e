package citizens_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

var cheap = auth.Params{Memory: 64, Time: 1, Threads: 1}

// Passwords that pass the strength check.
const (
	pwCitizen  = "tramonto-sul-lago-blu"
	pwOperator = "ponte-di-vetro-42"
)

// rig is one node's API with the citizens' routes, on loopback.
type rig struct {
	t     testing.TB
	srv   *httptest.Server
	st    *store.Store
	clk   *fakeclock.Clock
	auth  *auth.Service
	audit *audit.Log
	cit   *citizens.Service
	mail  *notify.Service // nil without mail
	box   *mailbox
}

type rigOpts struct {
	mail  bool
	oidc  *citizens.OIDCConfig
	feeds citizens.Feeds
}

// translate is a stand-in catalogue: the language shows in every text.
func translate(lang, key string, args ...any) string {
	var b strings.Builder
	b.WriteString("[" + lang + "] " + key)
	for i := 0; i+1 < len(args); i += 2 {
		b.WriteString(" " + args[i].(string) + "=")
		b.WriteString(strings.TrimSpace(strings.ReplaceAll(toString(args[i+1]), "\n", " ")))
	}
	return b.String()
}

func toString(v any) string {
	switch x := v.(type) {
	case string:
		return x
	default:
		b, _ := json.Marshal(x)
		return string(b)
	}
}

func newRig(t testing.TB, o rigOpts) *rig {
	t.Helper()
	ctx := context.Background()
	r := &rig{t: t, st: store.NewMemory(), clk: fakeclock.New(time.Date(2026, 12, 1, 9, 0, 0, 0, time.UTC))}
	var err error
	if r.audit, err = audit.Open(ctx, r.st.Namespace("/audit"), r.clk, nil); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.audit.Close() })
	if r.auth, err = auth.Open(ctx, r.st.Namespace("/auth"), auth.Config{Params: cheap, Clock: r.clk}); err != nil {
		t.Fatal(err)
	}
	cfg := citizens.Config{Store: r.st.Namespace("/citizens"), Auth: r.auth, Audit: r.audit, Clock: r.clk,
		Translate: translate, BaseURL: "https://nodo.example", Feeds: o.feeds}
	if o.mail {
		r.box = &mailbox{}
		port := startSMTP(t, r.box)
		sc := &notify.SMTPConfig{Host: "127.0.0.1", Port: port, TLS: notify.TLSNone, From: "nodo@coop.example"}
		if err := sc.Check(); err != nil {
			t.Fatal(err)
		}
		r.mail, err = notify.Open(ctx, notify.Config{Store: r.st.Namespace("/notify"), Clock: r.clk, SMTP: sc, Timeout: 5 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		cfg.Mail = func(ctx context.Context, id, to, subject, body string) error {
			return r.mail.Enqueue(ctx, notify.Message{ID: id, Channel: notify.Email, To: to, Subject: subject, Body: body})
		}
	}
	if r.cit, err = citizens.Open(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	if o.oidc != nil {
		if err := r.cit.EnableOIDC(*o.oidc); err != nil {
			t.Fatal(err)
		}
	}
	s := api.New(api.Deps{Auth: r.auth, Audit: r.audit, Domains: []httpx.Routes{citizens.API{Service: r.cit}}})
	r.srv = httptest.NewServer(s.Handler())
	t.Cleanup(r.srv.Close)
	return r
}

// account creates a staff account directly.
func (r *rig) account(name string, role auth.Role) {
	r.t.Helper()
	if _, err := r.auth.Create(context.Background(), auth.Account{Username: name, Role: role, DisplayName: name}, pwOperator); err != nil {
		r.t.Fatal(err)
	}
}

// call sends a JSON request with an optional bearer token and decodes a
// JSON answer into out (when not nil).
func (r *rig) call(method, path, tok string, body any, out any) int {
	r.t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			r.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, r.srv.URL+path, rd)
	if err != nil {
		r.t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	res, err := r.srv.Client().Do(req)
	if err != nil {
		r.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	if out != nil && len(raw) > 0 {
		if err := json.Unmarshal(raw, out); err != nil {
			r.t.Fatalf("%s %s: %d %s: %v", method, path, res.StatusCode, raw, err)
		}
	}
	return res.StatusCode
}

// login returns a session token, failing the test if the login fails.
func (r *rig) login(user, pw string) string {
	r.t.Helper()
	var out struct{ Token string }
	if code := r.call("POST", "/api/v1/login", "", map[string]string{"username": user, "password": pw}, &out); code != 200 {
		r.t.Fatalf("login %s: %d", user, code)
	}
	return out.Token
}

// mailbox is an SMTP sink on loopback that keeps what it receives.
type mailbox struct {
	mu  sync.Mutex
	got []*mail.Message
}

func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &sinkSession{mb: mb}, nil }

type sinkSession struct{ mb *mailbox }

func (s *sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s *sinkSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err != nil {
		return err
	}
	s.mb.mu.Lock()
	s.mb.got = append(s.mb.got, m)
	s.mb.mu.Unlock()
	return nil
}
func (s *sinkSession) Reset()        {}
func (s *sinkSession) Logout() error { return nil }

// messages returns each received message's recipient, subject and
// decoded body.
func (mb *mailbox) messages(t *testing.T) []sent {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	var out []sent
	for _, m := range mb.got {
		var body io.Reader = m.Body
		if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		dec := new(mime.WordDecoder)
		subj, _ := dec.DecodeHeader(m.Header.Get("Subject"))
		out = append(out, sent{to: m.Header.Get("To"), subject: subj, body: string(b)})
	}
	return out
}

type sent struct{ to, subject, body string }

func startSMTP(t testing.TB, mb *mailbox) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(mb)
	srv.Domain = "127.0.0.1"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().(*net.TCPAddr).Port
}
