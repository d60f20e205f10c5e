package node_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/testnet/poll"
)

// sink is an SMTP server on loopback keeping the messages it receives.
type sink struct {
	mu  sync.Mutex
	got []*mail.Message
}

func (s *sink) NewSession(*smtp.Conn) (smtp.Session, error) { return sinkSession{s}, nil }

type sinkSession struct{ s *sink }

func (x sinkSession) Mail(string, *smtp.MailOptions) error { return nil }
func (x sinkSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (x sinkSession) Reset()                               {}
func (x sinkSession) Logout() error                        { return nil }
func (x sinkSession) Data(r io.Reader) error {
	m, err := mail.ReadMessage(r)
	if err == nil {
		x.s.mu.Lock()
		x.s.got = append(x.s.got, m)
		x.s.mu.Unlock()
	}
	return err
}

func (s *sink) first() *mail.Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.got) == 0 {
		return nil
	}
	return s.got[0]
}

// The node's own SMTP settings (--smtp-config) verify a citizen's sign-up:
// the e-mail, in Italian from the catalogue, carries the link of the
// node's public URL; the account logs in only once it was opened.
func TestCitizenSignupVerifiedThroughTheNodesMail(t *testing.T) {
	box := &sink{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(box)
	srv.Domain, srv.ReadTimeout, srv.WriteTimeout = "127.0.0.1", 5*time.Second, 5*time.Second
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	defer func() { srv.Close(); <-done }()
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "smtp.json")
	cfg := fmt.Sprintf(`{"host":"127.0.0.1","port":%d,"tls":"none","from":"nodo@coop.example"}`, l.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(cfgFile, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	n := start(t, node.Config{DataDir: filepath.Join(dir, "data"), AdminPassword: "admin-password-1",
		Escalation: node.EscalationConfig{SMTPFile: cfgFile, BaseURL: "https://nodo.example"}})
	defer n.Close()

	post := func(path string, body any) (int, map[string]any) {
		b, _ := json.Marshal(body)
		res, err := http.Post(n.URL()+path, "application/json", bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out
	}
	code, ans := post("/api/v1/citizens/signup", map[string]string{"username": "giulia", "password": "tramonto-sul-lago-blu",
		"display_name": "Giulia Neri", "email": "giulia@example.org", "lang": "it"})
	if code != 201 || ans["state"] != "pending" || ans["verification"] != "email_sent" {
		t.Fatalf("signup: %d %v", code, ans)
	}
	poll.Until(t, 20*time.Second, "the verification e-mail", func() bool { return box.first() != nil })
	m := box.first()
	subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	var body io.Reader = m.Body
	if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	text, _ := io.ReadAll(body)
	if subject != "Conferma il tuo account Difronte" || !strings.Contains(string(text), "Gentile Giulia Neri") {
		t.Fatalf("mail %q: %s", subject, text)
	}
	link := regexp.MustCompile(`https://nodo\.example/registrati/conferma\?token=([A-Za-z0-9_-]+)`).FindStringSubmatch(string(text))
	if link == nil {
		t.Fatalf("no link in %s", text)
	}
	if code, _ := post("/api/v1/login", map[string]string{"username": "giulia", "password": "tramonto-sul-lago-blu"}); code != 401 {
		t.Fatalf("login before verification: %d", code)
	}
	if code, _ := post("/api/v1/citizens/verify", map[string]string{"token": link[1]}); code != 200 {
		t.Fatalf("verify: %d", code)
	}
	if code, out := post("/api/v1/login", map[string]string{"username": "giulia", "password": "tramonto-sul-lago-blu"}); code != 200 || out["role"] != "citizen" {
		t.Fatalf("login after verification: %d %v", code, out)
	}
}
