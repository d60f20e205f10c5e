package node_test

import (
	"context"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// letter is one e-mail the sink received, decoded.
type letter struct{ to, subject, body string }

func (s *sink) letters(t *testing.T) []letter {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]letter, 0, len(s.got))
	for _, m := range s.got {
		subject, _ := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		var body io.Reader = m.Body
		if strings.EqualFold(m.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
			body = quotedprintable.NewReader(body)
		}
		b, _ := io.ReadAll(body)
		m.Body = strings.NewReader(string(b)) // read again next time
		m.Header["Content-Transfer-Encoding"] = nil
		to, _ := mail.ParseAddress(m.Header.Get("To"))
		addr := ""
		if to != nil {
			addr = to.Address
		}
		out = append(out, letter{to: addr, subject: subject, body: string(b)})
	}
	return out
}

// startSink runs an SMTP sink on loopback and writes the node's SMTP
// file for it.
func startSink(t *testing.T) (*sink, string) {
	t.Helper()
	box := &sink{}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := smtp.NewServer(box)
	srv.Domain, srv.ReadTimeout, srv.WriteTimeout = "127.0.0.1", 5*time.Second, 5*time.Second
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Serve(l) }()
	t.Cleanup(func() { srv.Close(); <-done })
	file := filepath.Join(t.TempDir(), "smtp.json")
	cfg := fmt.Sprintf(`{"host":"127.0.0.1","port":%d,"tls":"none","from":"nodo@coop.example"}`, l.Addr().(*net.TCPAddr).Port)
	if err := os.WriteFile(file, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return box, file
}

// awaitLetter waits for an e-mail to to whose subject is subject.
func awaitLetter(t *testing.T, box *sink, to, subject string) letter {
	t.Helper()
	var got letter
	poll.Until(t, 20*time.Second, "an e-mail "+subject+" to "+to, func() bool {
		for _, l := range box.letters(t) {
			if l.to == to && l.subject == subject {
				got = l
				return true
			}
		}
		return false
	})
	return got
}

// TestRequestNotificationsByMail: across two nodes, every event of a
// request and its case reaches the other side's people by e-mail through
// the node's SMTP, in the recipient's language (the citizen's English
// account, the coop office in Italian), with a link to the request or
// case and none of its content; staff see in-app notices in their own
// account's language; a burst of messages is one e-mail.
func TestRequestNotificationsByMail(t *testing.T) {
	ctx := context.Background()
	box, smtpFile := startSink(t)
	a, b := nodetest.Pair(t, node.Config{CoopName: "Coop A", Escalation: node.EscalationConfig{SMTPFile: smtpFile, BaseURL: "https://a.example"}},
		node.Config{CoopName: "Coop B", Escalation: node.EscalationConfig{SMTPFile: smtpFile, BaseURL: "https://b.example/"},
			Requests: node.RequestsConfig{OfficeEmail: []string{"ufficio@coopb.example"}}})
	off, err := b.Own().Create(ctx, sysAdmin, schema.Offering{Name: "Assistenza domiciliare", Description: "Aiuto a casa.", Category: "anziani.assistenza-domiciliare",
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual, Areas: []string{"015146"}, Languages: []string{"it"},
		Contact: schema.Contact{Email: "ufficio@coopb.example"}})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "the offering to reach A", func() bool {
		_, err := a.Catalogue().Get(ctx, b.PeerID(), off.ID)
		return err == nil
	})
	if _, err := b.Auth().Create(ctx, auth.Account{Username: "gestore", Role: auth.CaseManager, Lang: "en", DisplayName: "Gino Rossi",
		Email: "gestore@coopb.example"}, "tramonto-sul-lago-blu"); err != nil {
		t.Fatal(err)
	}
	// A caregiver with an e-mail handles no requests: never told.
	if _, err := b.Auth().Create(ctx, auth.Account{Username: "badante", Role: auth.Caregiver, Email: "badante@coopb.example"}, "lanterna-blu-sul-molo"); err != nil {
		t.Fatal(err)
	}
	op := auth.Actor{Username: "sportello", Role: auth.Operator}
	if _, err := a.Citizens().Register(ctx, op, citizens.RegisterRequest{Username: "anna", DisplayName: "Anna Verdi", Email: "anna@example.org",
		Lang: "en", Consent: citizens.ConsentRequest{Given: true, Method: "signed_form"}}); err != nil {
		t.Fatal(err)
	}
	const canary = "CANARYNOTEQ7Z"
	cit := auth.Actor{Username: "anna", Role: auth.Citizen}
	mgr := auth.Actor{Username: "gestore", Role: auth.CaseManager}
	req, err := a.Requests().Create(ctx, cit, requests.NewRequest{Offerings: []string{off.ID}, For: "self", Municipality: "015146",
		Start: "2026-12-20", Notes: canary, Consent: true}, "Anna Verdi")
	if err != nil {
		t.Fatal(err)
	}
	l := awaitLetter(t, box, "ufficio@coopb.example", "Difronte: Nuova richiesta di servizio")
	if !strings.Contains(l.body, "https://b.example/richieste#"+req.ID) || !strings.Contains(l.body, "Buongiorno,") || !strings.Contains(l.body, "Coop B") {
		t.Fatalf("office mail: %s", l.body)
	}
	// The case manager's own address, in the account's language.
	l = awaitLetter(t, box, "gestore@coopb.example", "Difronte: New service request")
	if !strings.Contains(l.body, "Dear Gino Rossi,") || !strings.Contains(l.body, "https://b.example/richieste#"+req.ID) {
		t.Fatalf("case manager's mail: %s", l.body)
	}
	// In-app: each account in its own language.
	items := b.Notify().Inbox(mgr)
	if len(items) != 1 || items[0].Subject != "New service request" || items[0].Link != "/richieste#"+req.ID {
		t.Fatalf("case manager's inbox: %+v", items)
	}
	if items := b.Notify().Inbox(sysAdmin); len(items) != 1 || items[0].Subject != "Nuova richiesta di servizio" {
		t.Fatalf("admin's inbox: %+v", items)
	}
	if _, err := a.Requests().SendRequestMessage(ctx, cit, req.ID, requests.NewRequestMessage{Text: canary}); err != nil {
		t.Fatal(err)
	}
	awaitLetter(t, box, "ufficio@coopb.example", "Difronte: Nuovo messaggio su una richiesta")
	awaitLetter(t, box, "gestore@coopb.example", "Difronte: New message on a request")
	o, err := b.Requests().MakeOffer(ctx, mgr, req.ID, requests.NewOffer{Price: 18, Unit: "ora", Start: "2026-12-21", Conditions: canary, ValidUntil: "2099-01-01"})
	if err != nil {
		t.Fatal(err)
	}
	l = awaitLetter(t, box, "anna@example.org", "Difronte: You have received an offer")
	if !strings.Contains(l.body, "Dear Anna Verdi,") || !strings.Contains(l.body, "https://a.example/pratiche#"+req.ID) {
		t.Fatalf("citizen's mail: %s", l.body)
	}
	c, err := a.Requests().Accept(ctx, cit, req.ID, o.ID)
	if err != nil {
		t.Fatal(err)
	}
	awaitLetter(t, box, "ufficio@coopb.example", "Difronte: Offerta accettata: nuova pratica")
	bucket := time.Now().Truncate(15 * time.Minute)
	for range 3 {
		if _, err := b.Requests().Send(ctx, mgr, c.ID, requests.NewMessage{Text: canary}); err != nil {
			t.Fatal(err)
		}
	}
	l = awaitLetter(t, box, "anna@example.org", "Difronte: New message on your case")
	if !strings.Contains(l.body, "https://a.example/pratiche/"+c.ID) {
		t.Fatalf("message mail: %s", l.body)
	}
	if _, err := b.Requests().Transition(ctx, mgr, c.ID, requests.TransitionRequest{To: requests.CaseSuspended, Reason: canary}); err != nil {
		t.Fatal(err)
	}
	awaitLetter(t, box, "anna@example.org", "Difronte: The case has changed")
	poll.Until(t, 20*time.Second, "the three messages on A", func() bool {
		m, err := a.Requests().Case(ctx, cit, c.ID)
		return err == nil && len(m.Messages) == 3
	})
	n := 0
	for _, l := range box.letters(t) {
		if strings.Contains(l.body, canary) || strings.Contains(l.subject, canary) {
			t.Errorf("an e-mail carries the request's content: %+v", l)
		}
		if l.to == "badante@coopb.example" || l.to == "info@coopb.example" {
			t.Errorf("an e-mail to an address that handles no requests: %+v", l)
		}
		if l.subject == "Difronte: New message on your case" {
			n++
		}
	}
	if time.Now().Truncate(15*time.Minute).Equal(bucket) && n != 1 {
		t.Errorf("%d e-mails for a burst of three messages, want 1", n)
	}
	if d, _ := b.Notify().Deliveries(sysAdmin, notify.Failed); len(d) > 0 {
		t.Errorf("failed deliveries: %+v", d)
	}
}
