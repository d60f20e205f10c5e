package notify

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/store"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// mailbox is an SMTP server on loopback that keeps what it receives.
type mailbox struct {
	mu   sync.Mutex
	got  []received
	user string
	pass string
}

type received struct {
	from string
	to   []string
	data string
}

type session struct {
	mb   *mailbox
	cur  received
	auth bool
}

func (mb *mailbox) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{mb: mb}, nil }

func (s *session) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, u, p string) error {
		if u != s.mb.user || p != s.mb.pass {
			return errors.New("bad credentials")
		}
		s.auth = true
		return nil
	}), nil
}
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	if s.mb.user != "" && !s.auth {
		return smtp.ErrAuthRequired
	}
	s.cur.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.cur.to = append(s.cur.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.cur.data = string(b)
	s.mb.mu.Lock()
	s.mb.got = append(s.mb.got, s.cur)
	s.mb.mu.Unlock()
	return nil
}
func (s *session) Reset()        { s.cur = received{} }
func (s *session) Logout() error { return nil }

func (mb *mailbox) all() []received {
	mb.mu.Lock()
	defer mb.mu.Unlock()
	return append([]received(nil), mb.got...)
}

// selfSigned makes a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}, pool
}

// startSMTP runs a mailbox on a loopback port; tlsCert nil means no STARTTLS.
func startSMTP(t *testing.T, mb *mailbox, cert *tls.Certificate) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(mb)
	srv.Domain = "127.0.0.1"
	srv.ReadTimeout, srv.WriteTimeout = 5*time.Second, 5*time.Second
	if cert != nil {
		srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{*cert}}
	} else {
		srv.AllowInsecureAuth = true
	}
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	return l.Addr().(*net.TCPAddr).Port
}

func newService(t *testing.T, cfg Config) (*Service, *fakeclock.Clock) {
	t.Helper()
	clk := fakeclock.New(time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC))
	cfg.Store = store.NewMemory().Datastore()
	cfg.Clock = clk
	cfg.Backoff, cfg.MaxAttempts, cfg.Timeout = time.Minute, 3, 3*time.Second
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

var alertMsg = Message{ID: "al1/0/1", Channel: Email, To: "luca@example.org", Subject: "Difronte alert (high): case C1",
	Body: "Difronte alert - urgency high.\nFor case C1: a problem was reported (health).\nAcknowledge: https://coop.example/escalation/ack/tok\n",
	Ref:  "al1", AckURL: "https://coop.example/escalation/ack/tok"}

func TestEmailOverSTARTTLSWithAuth(t *testing.T) {
	cert, pool := selfSigned(t)
	mb := &mailbox{user: "coop", pass: "s3cret-pass"}
	port := startSMTP(t, mb, &cert)
	cfg := &SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSStartTLS, Username: "coop", Password: "s3cret-pass", From: "alerts@coop.example"}
	if err := cfg.Check(); err != nil {
		t.Fatal(err)
	}
	cfg.SetRoots(pool)
	s, _ := newService(t, Config{SMTP: cfg})
	ctx := context.Background()
	if err := s.Enqueue(ctx, alertMsg); err != nil {
		t.Fatal(err)
	}
	if err := s.Enqueue(ctx, alertMsg); err != nil { // the same ID again
		t.Fatal(err)
	}
	s.RunDue(ctx)
	s.RunDue(ctx)
	got := mb.all()
	if len(got) != 1 {
		t.Fatalf("server got %d messages, want 1", len(got))
	}
	m := got[0]
	if m.from != "alerts@coop.example" || len(m.to) != 1 || m.to[0] != "luca@example.org" {
		t.Fatalf("envelope %+v", m)
	}
	for _, want := range []string{"Subject: Difronte alert (high): case C1", "urgency high", "escalation/ack/tok", "Message-Id: <"} {
		if !strings.Contains(strings.ReplaceAll(m.data, "=\r\n", ""), want) && !strings.Contains(m.data, strings.ReplaceAll(want, "Message-Id", "Message-ID")) {
			t.Fatalf("mail lacks %q:\n%s", want, m.data)
		}
	}
	ds, _ := s.Deliveries(auth.Actor{Role: auth.Admin}, Sent)
	if len(ds) != 1 || ds[0].Attempts != 1 {
		t.Fatalf("deliveries %+v", ds)
	}
}

func TestEmailWrongPasswordFailsVisibly(t *testing.T) {
	cert, pool := selfSigned(t)
	mb := &mailbox{user: "coop", pass: "right-password"}
	port := startSMTP(t, mb, &cert)
	cfg := &SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSStartTLS, Username: "coop", Password: "wrong-password", From: "alerts@coop.example"}
	_ = cfg.Check()
	cfg.SetRoots(pool)
	s, clk := newService(t, Config{SMTP: cfg})
	ctx := context.Background()
	if err := s.Enqueue(ctx, alertMsg); err != nil {
		t.Fatal(err)
	}
	s.RunDue(ctx)
	// Backoff: 1 min, then 2 min; third attempt fails for good.
	for _, d := range []time.Duration{59 * time.Second, time.Second, 2 * time.Minute} {
		clk.Advance(d)
		s.RunDue(ctx)
	}
	failed, _ := s.Deliveries(auth.Actor{Role: auth.Admin}, Failed)
	if len(failed) != 1 || failed[0].Attempts != 3 || failed[0].LastError == "" {
		t.Fatalf("failed deliveries %+v", failed)
	}
	if _, err := s.Deliveries(auth.Actor{Role: auth.Caregiver}, ""); err == nil {
		t.Fatal("a caregiver listed deliveries")
	}
	// Fixed: the admin retries and it goes.
	cfg.Password = "right-password"
	if err := s.Retry(ctx, auth.Actor{Role: auth.Admin}, failed[0].ID); err != nil {
		t.Fatal(err)
	}
	s.RunDue(ctx)
	if n := len(mb.all()); n != 1 {
		t.Fatalf("after retry the server has %d messages", n)
	}
}

func TestUnreachableSMTPKeepsMessage(t *testing.T) {
	// The port stays ours: until the server comes up, every connection
	// is dropped before the greeting (a port freed and taken back could
	// be taken by someone else meanwhile).
	mb := &mailbox{}
	g := startGatedSMTP(t, mb)
	port := g.Addr().(*net.TCPAddr).Port
	cfg := &SMTPConfig{Host: "127.0.0.1", Port: port, TLS: TLSNone, From: "alerts@coop.example"}
	_ = cfg.Check()
	s, clk := newService(t, Config{SMTP: cfg})
	ctx := context.Background()
	_ = s.Enqueue(ctx, alertMsg)
	s.RunDue(ctx)
	p, _ := s.Deliveries(auth.Actor{Role: auth.Admin}, Pending)
	if len(p) != 1 || p[0].Attempts != 1 || !p[0].NextAt.Equal(clk.Now().Add(time.Minute)) {
		t.Fatalf("pending %+v", p)
	}
	// The server comes up at that port: the retry delivers.
	g.open()
	clk.Advance(time.Minute)
	s.RunDue(ctx)
	if n := len(mb.all()); n != 1 {
		t.Fatalf("server got %d after it came up", n)
	}
}

func TestWebhookSignedAndRetried(t *testing.T) {
	secret := []byte("webhook-secret-of-the-coop")
	var mu sync.Mutex
	var bodies []string
	fail := true
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		if err := Verify(secret, r.Header.Get(HeaderSignature), r.Header.Get(HeaderTimestamp), b,
			time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC), 10*time.Minute); err != nil {
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if fail {
			fail = false
			http.Error(w, "busy", http.StatusServiceUnavailable)
			return
		}
		bodies = append(bodies, string(b))
	}))
	defer srv.Close()
	s, clk := newService(t, Config{WebhookSecret: secret, HTTP: srv.Client()})
	ctx := context.Background()
	m := alertMsg
	m.Channel, m.To, m.Data = Webhook, srv.URL+"/sms", map[string]string{"case": "C1", "urgency": "high"}
	_ = s.Enqueue(ctx, m)
	s.RunDue(ctx) // 503
	clk.Advance(time.Minute)
	s.RunDue(ctx)
	mu.Lock()
	defer mu.Unlock()
	if len(bodies) != 1 || !strings.Contains(bodies[0], `"urgency":"high"`) {
		t.Fatalf("webhook bodies %q", bodies)
	}
	// A wrong secret does not verify.
	if err := Verify([]byte("other"), Sign(secret, 1, []byte("x")), "1", []byte("x"), time.Unix(1, 0), time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("wrong secret verified: %v", err)
	}
	if err := Verify(secret, Sign(secret, 1, []byte("x")), "1", []byte("y"), time.Unix(1, 0), time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("changed body verified: %v", err)
	}
	if err := Verify(secret, Sign(secret, 1, []byte("x")), "1", []byte("x"), time.Unix(1000, 0), time.Minute); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("old timestamp verified: %v", err)
	}
}

func TestInAppInbox(t *testing.T) {
	s, _ := newService(t, Config{})
	ctx := context.Background()
	gino := auth.Actor{Username: "gino", Role: auth.Caregiver}
	m := Message{ID: "x1", Channel: InApp, To: "gino", Subject: "alert", Body: "b", Ref: "al1"}
	_ = s.Enqueue(ctx, m)
	_ = s.Enqueue(ctx, m)
	if n := len(s.Inbox(gino)); n != 1 || s.Unread(gino) != 1 {
		t.Fatalf("inbox %d", n)
	}
	if len(s.Inbox(auth.Actor{Username: "other"})) != 0 {
		t.Fatal("someone else sees gino's inbox")
	}
	if err := s.MarkRead(ctx, gino, "x1"); err != nil || s.Unread(gino) != 0 {
		t.Fatalf("mark read: %v", err)
	}
	if err := s.Enqueue(ctx, Message{ID: "y", Channel: "pigeon", To: "x"}); !errors.Is(err, ErrBadTarget) {
		t.Fatalf("unknown channel: %v", err)
	}
}

func TestSMTPConfigFile(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body string
		ok         bool
	}{
		{"good", `{"host":"mail.coop.example","port":587,"tls":"starttls","username":"u","password":"p","from":"a@coop.example"}`, true},
		{"default tls", `{"host":"h","port":25,"from":"a@b"}`, true},
		{"bad tls", `{"host":"h","port":25,"tls":"maybe","from":"a@b"}`, false},
		{"unknown field", `{"host":"h","port":25,"from":"a@b","pass":"x"}`, false},
		{"no port", `{"host":"h","from":"a@b"}`, false},
		{"user without password", `{"host":"h","port":25,"from":"a@b","username":"u"}`, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := dir + "/" + strings.ReplaceAll(tc.name, " ", "_")
			if err := writeFile(p, tc.body); err != nil {
				t.Fatal(err)
			}
			_, err := LoadSMTPConfig(p)
			if (err == nil) != tc.ok {
				t.Fatalf("err %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func writeFile(p, s string) error { return os.WriteFile(p, []byte(s), 0o600) }
