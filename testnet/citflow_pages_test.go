package testnet

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// upload POSTs a case message with one file from the case page's form
// and returns the status and the flash the page set.
func (c *client) upload(path, text, name string, data []byte) (int, string) {
	c.t.Helper()
	var b bytes.Buffer
	mw := multipart.NewWriter(&b)
	_ = mw.WriteField("text", text)
	if name != "" {
		fw, _ := mw.CreateFormFile("file", name)
		_, _ = fw.Write(data)
	}
	_ = mw.Close()
	req, _ := http.NewRequest("POST", c.base+path, &b)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Authorization", "Bearer "+c.token)
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, resp.Body)
	flash := ""
	for _, ck := range resp.Cookies() {
		if ck.Name == "difronte_flash" {
			flash = ck.Value
		}
	}
	return resp.StatusCode, flash
}

// raw GETs path as c and returns the answer whole.
func (c *client) raw(path string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest("GET", c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp, b
}

// TestOperatorCasePages: a proximity-point operator acting for a citizen
// she registered requests from the catalogue detail page, accepts the
// offer and sends a message with a PDF from the case page; the coop's
// admin downloads the PDF in its type; a file that is not a PDF, JPEG or
// PNG and one over the size limit are refused with a reason, audited,
// and nothing is sent; another citizen gets 404 on the case and its
// attachment; the citizen's activity names the operator.
func TestOperatorCasePages(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.Pair(t, node.Config{CoopName: "Punto di Prossimità"}, node.Config{CoopName: "Coop Sole"})
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	o := mealsOffering(t, a, b)
	const pw = "ponte-di-vetro-42"
	for _, acc := range []auth.Account{{Username: "carla", Role: auth.Operator, DisplayName: "Carla"}, {Username: "lucia", Role: auth.Citizen, DisplayName: "Lucia"}} {
		if _, err := a.Auth().Create(ctx, acc, pw); err != nil {
			t.Fatal(err)
		}
	}
	op, other, prov := apiClient(t, a, "carla", pw), apiClient(t, a, "lucia", pw), apiClient(t, b, "admin", nodetest.AdminPassword)
	op.do("POST", "/api/v1/citizens", map[string]any{"username": "rosa", "display_name": "Rosa Greco",
		"consent": map[string]any{"given": true, "method": "signed_form"}}, http.StatusCreated, nil)
	detail := "/catalogo/" + b.PeerID() + "/" + o.ID
	if code, _ := op.page("GET", detail+"/richiedi", nil); code != http.StatusForbidden {
		t.Fatalf("an operator not acting for anyone opened the request form: %d", code)
	}
	if code, _ := op.page("POST", "/cittadini/agisci", url.Values{"citizen": {"rosa"}}); code != http.StatusSeeOther {
		t.Fatalf("act for: %d", code)
	}
	if code, body := op.page("GET", detail, nil); code != 200 || !strings.Contains(body, detail+"/richiedi") {
		t.Fatalf("detail page %d lacks the request button for the operator acting", code)
	} else if !strings.Contains(body, `href="/pratiche"`) {
		t.Fatal("the menu of an operator acting for a citizen lacks the citizen's pratiche")
	}
	form := url.Values{"for": {"io"}, "municipality": {"015146"}, "start": {"2026-12-22"}, "consent": {"yes"}}
	if code, _ := op.page("POST", detail+"/richiedi", form); code != http.StatusSeeOther {
		t.Fatalf("request: %d", code)
	}
	var rq requests.Request
	poll.Until(t, 20*time.Second, "the request on B", func() bool {
		rs, _ := b.Requests().Requests(ctx, admin)
		if len(rs) == 1 {
			rq = rs[0]
		}
		return len(rs) == 1
	})
	if rq.CitizenName != "Rosa Greco" {
		t.Fatalf("B got the name %q, want the citizen's", rq.CitizenName)
	}
	if code, _ := prov.page("POST", "/richieste/"+rq.ID+"/offerta", url.Values{"price": {"9"}, "unit": {"pasto"}, "start": {"2026-12-22"}, "valid_until": {"2099-12-31"}}); code != http.StatusSeeOther {
		t.Fatalf("offer: %d", code)
	}
	rosa := auth.Actor{Username: "rosa", Role: auth.Citizen}
	var offer string
	poll.Until(t, 20*time.Second, "the offer on A", func() bool {
		r, err := a.Requests().Get(ctx, rosa, rq.ID)
		if err == nil && len(r.Offers) == 1 {
			offer = r.Offers[0].ID
		}
		return offer != ""
	})
	if code, _ := other.page("POST", "/richieste/"+rq.ID+"/accetta", url.Values{"offer": {offer}}); code == http.StatusSeeOther {
		t.Fatal("another citizen accepted Rosa's offer")
	}
	if code, _ := op.page("POST", "/richieste/"+rq.ID+"/accetta", url.Values{"offer": {offer}}); code != http.StatusSeeOther {
		t.Fatalf("accept: %d", code)
	}
	r, _ := a.Requests().Get(ctx, rosa, rq.ID)
	cse := "/pratiche/" + r.Case
	pdf := []byte("%PDF-1.4\n% piano\n%%EOF\n")
	if code, flash := op.upload(cse+"/messaggio", "il piano firmato", "piano.pdf", pdf); code != http.StatusSeeOther || flash != "flash.rq_saved" {
		t.Fatalf("message with a PDF: %d %q", code, flash)
	}
	before, _ := a.Audit().Head()
	if _, flash := op.upload(cse+"/messaggio", "uno script", "piano.pdf", []byte("#!/bin/sh\necho no\n")); flash != "flash.citflow_attachment_type" {
		t.Fatalf("a text file sent as a PDF: flash %q", flash)
	}
	big := append([]byte("%PDF-"), bytes.Repeat([]byte{'x'}, requests.MaxAttachment+100<<10)...)
	if _, flash := op.upload(cse+"/messaggio", "troppo", "grande.pdf", big); flash != "flash.citflow_attachment_size" {
		t.Fatalf("an oversized PDF: flash %q", flash)
	}
	evs, _ := a.Audit().Query(ctx, audit.Filter{Actor: "carla", Kind: "case_messages"})
	denied := 0
	for _, e := range evs {
		if e.Seq > before && e.Action == audit.Denied && e.For == "rosa" {
			denied++
		}
	}
	if denied != 2 {
		t.Fatalf("%d refusals audited for rosa, want 2: %+v", denied, evs)
	}
	if c, _ := a.Requests().Case(ctx, rosa, r.Case); len(c.Messages) != 1 || c.Messages[0].For != "rosa" || c.Messages[0].Author != "carla" {
		t.Fatalf("the home case holds %+v", c.Messages)
	}
	var msg string
	poll.Until(t, 20*time.Second, "the message with its PDF on B", func() bool {
		c, err := b.Requests().Case(ctx, admin, r.Case)
		if err == nil && len(c.Messages) == 1 && c.Messages[0].Attachment != nil {
			msg = c.Messages[0].ID
		}
		return msg != ""
	})
	if code, body := prov.page("GET", cse, nil); code != 200 || !strings.Contains(body, cse+"/allegati/"+msg) {
		t.Fatalf("B's case page %d lacks the attachment's link", code)
	}
	resp, got := prov.raw(cse + "/allegati/" + msg)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" || !bytes.Equal(got, pdf) ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), "attachment") {
		t.Fatalf("download: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), got)
	}
	if resp, _ := other.raw(cse + "/allegati/" + msg); resp.StatusCode != http.StatusNotFound {
		t.Fatalf("another citizen downloaded it: %d", resp.StatusCode)
	}
	// The coop's admin acts on the coop's case from its page.
	if code, _ := prov.page("POST", cse+"/stato", url.Values{"to": {"suspended"}, "reason": {"ferie"}}); code != http.StatusSeeOther {
		t.Fatalf("suspend: %d", code)
	}
	poll.Until(t, 20*time.Second, "the suspension for Rosa", func() bool {
		c, _ := a.Requests().Case(ctx, rosa, r.Case)
		return c.State == requests.CaseSuspended
	})
	// A voucher redeemed for the case shows on the case page on both sides.
	if err := b.Requests().RecordVoucher(ctx, admin, r.Case, "v-test", 5000, time.Now()); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "the voucher on Rosa's case page", func() bool {
		_, body := op.page("GET", cse, nil)
		return strings.Contains(body, "Buono comunale") && strings.Contains(body, "50.00")
	})
	if _, body := op.page("GET", cse, nil); !strings.Contains(body, "carla per conto di rosa") {
		t.Fatal("the case page does not say the operator wrote for the citizen")
	}
	if _, body := prov.page("GET", cse, nil); !strings.Contains(body, "Buono comunale") || strings.Contains(body, "carla") {
		t.Fatal("B's case page lacks the voucher, or names the operator")
	}
	// Rosa sees what Carla did for her.
	for_, err := a.Audit().ForCitizen(ctx, "rosa", 200)
	if err != nil {
		t.Fatal(err)
	}
	did := map[string]bool{}
	for _, e := range for_ {
		if e.Actor == "carla" {
			did[string(e.Action)+" "+e.Kind] = true
		}
	}
	for _, k := range []string{"create request", "create case", "create case_message"} {
		if !did[k] {
			t.Errorf("Rosa's activity lacks %q by Carla: %v", k, did)
		}
	}
}
