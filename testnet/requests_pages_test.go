package testnet

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// page GETs or POSTs (form set) a page as c and returns status and body.
func (c *client) page(method, path string, form url.Values) (int, string) {
	c.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequest(method, c.base+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	cl := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := cl.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestRequestPages drives the same path through the pages: the citizen
// requests from the catalogue detail page, the provider offers from its
// inbox, the citizen accepts, writes, and the provider suspends.
func TestRequestPages(t *testing.T) {
	ctx := context.Background()
	a, b := nodetest.Pair(t, node.Config{CoopName: "Casa"}, node.Config{CoopName: "Coop Sole"})
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	o := mealsOffering(t, a, b)
	const pw = "ponte-di-vetro-42"
	if _, err := a.Auth().Create(ctx, auth.Account{Username: "lucia", Role: auth.Citizen, DisplayName: "Lucia"}, pw); err != nil {
		t.Fatal(err)
	}
	cit, prov := apiClient(t, a, "lucia", pw), apiClient(t, b, "admin", nodetest.AdminPassword)
	detail := "/catalogo/" + b.PeerID() + "/" + o.ID
	if code, body := cit.page("GET", detail, nil); code != 200 || !strings.Contains(body, detail+"/richiedi") {
		t.Fatalf("detail page %d lacks the request button", code)
	}
	code, body := cit.page("GET", detail+"/richiedi", nil)
	if code != 200 || !strings.Contains(body, "Coop Sole") {
		t.Fatalf("request form %d does not say which coop gets the data", code)
	}
	form := url.Values{"for": {"mia madre"}, "municipality": {"015146"}, "start": {"2026-12-22"}, "notes": {"pranzo"}}
	if code, _ := cit.page("POST", detail+"/richiedi", form); code != http.StatusBadRequest {
		t.Fatalf("without consent: %d", code)
	}
	form.Set("consent", "yes")
	if code, _ := cit.page("POST", detail+"/richiedi", form); code != http.StatusSeeOther {
		t.Fatalf("request: %d", code)
	}
	var id string
	poll.Until(t, 20*time.Second, "the request in B's inbox page", func() bool {
		code, body := prov.page("GET", "/richieste", nil)
		rs, _ := b.Requests().Requests(ctx, admin)
		if len(rs) == 1 {
			id = rs[0].ID
		}
		return code == 200 && strings.Contains(body, "mia madre")
	})
	requestMessagesBothWays(t, cit, prov, id)
	// A day that does not exist comes back beside its field, the rest of the offer as typed.
	bad := url.Values{"price": {"9,50"}, "unit": {"pasto"}, "start": {"31/02/2026"}, "valid_until": {"31/12/2099"}, "_dates": {"start", "valid_until"}}
	if code, body := prov.page("POST", "/richieste/"+id+"/offerta", bad); code != http.StatusBadRequest ||
		!strings.Contains(body, `id="e-s-`+id+`"`) || strings.Contains(body, `id="e-v-`+id+`"`) || !strings.Contains(body, `value="pasto"`) {
		t.Fatalf("offer with 31/02/2026: %d\n%s", code, body)
	}
	if code, _ := prov.page("POST", "/richieste/"+id+"/offerta", url.Values{"price": {"9,50"}, "unit": {"pasto"}, "start": {"2026-12-22"}, "valid_until": {"2099-12-31"}}); code != http.StatusSeeOther {
		t.Fatalf("offer: %d", code)
	}
	var offer string
	poll.Until(t, 20*time.Second, "the offer on the citizen's page", func() bool {
		_, body := cit.page("GET", "/pratiche", nil)
		r, err := a.Requests().Get(ctx, auth.Actor{Username: "lucia", Role: auth.Citizen}, id)
		if err == nil && len(r.Offers) == 1 {
			offer = r.Offers[0].ID
		}
		return strings.Contains(body, "9.50")
	})
	code, _ = cit.page("POST", "/richieste/"+id+"/accetta", url.Values{"offer": {offer}})
	if code != http.StatusSeeOther {
		t.Fatalf("accept: %d", code)
	}
	r, _ := a.Requests().Get(ctx, auth.Actor{Username: "lucia", Role: auth.Citizen}, id)
	cse := "/pratiche/" + r.Case
	if code, _ := cit.page("POST", cse+"/messaggio", url.Values{"text": {"grazie"}}); code != http.StatusSeeOther {
		t.Fatalf("message: %d", code)
	}
	poll.Until(t, 20*time.Second, "the case and the message on B's page", func() bool {
		code, body := prov.page("GET", cse, nil)
		return code == 200 && strings.Contains(body, "grazie")
	})
	if code, _ := prov.page("POST", cse+"/stato", url.Values{"to": {"suspended"}, "reason": {"ferie"}}); code != http.StatusSeeOther {
		t.Fatalf("suspend: %d", code)
	}
	poll.Until(t, 20*time.Second, "the suspension on the citizen's page", func() bool {
		c, _ := a.Requests().Case(ctx, auth.Actor{Username: "lucia", Role: auth.Citizen}, r.Case)
		_, body := cit.page("GET", cse, nil)
		return c.State == requests.CaseSuspended && strings.Contains(body, "Sospesa")
	})
	// After acceptance the request's thread is closed on its page.
	if code, body := cit.page("GET", "/richieste/"+id+"/messaggi", nil); code != 200 || strings.Contains(body, `name="text"`) || !strings.Contains(body, cse) {
		t.Fatalf("the request's messages after acceptance: %d", code)
	}
	// A case manager's page of a case that is not there, and a citizen on the inbox.
	if code, _ := cit.page("GET", "/richieste", nil); code != http.StatusForbidden {
		t.Fatalf("citizen on the inbox: %d", code)
	}
}

// requestMessagesBothWays: before any offer, the citizen writes from the
// request's messages page (linked from /pratiche), the provider reads it
// on its own page (linked from /richieste) and answers; each side sees
// the other's message and "letto" on its own once the other side read it.
func requestMessagesBothWays(t *testing.T, cit, prov *client, id string) {
	t.Helper()
	msgs := "/richieste/" + id + "/messaggi"
	if _, body := cit.page("GET", "/pratiche", nil); !strings.Contains(body, msgs) {
		t.Fatal("the citizen's requests do not link to the request's messages")
	}
	if _, body := prov.page("GET", "/richieste", nil); !strings.Contains(body, msgs) {
		t.Fatal("the inbox does not link to the request's messages")
	}
	if code, _ := cit.page("POST", msgs, url.Values{"text": {"si può a mezzogiorno?"}}); code != http.StatusSeeOther {
		t.Fatalf("citizen's message: %d", code)
	}
	poll.Until(t, 20*time.Second, "the citizen's message on the provider's page", func() bool {
		code, body := prov.page("GET", msgs, nil)
		return code == 200 && strings.Contains(body, "si può a mezzogiorno?")
	})
	if code, _ := prov.page("POST", msgs, url.Values{"text": {"sì, alle 12"}}); code != http.StatusSeeOther {
		t.Fatalf("provider's message: %d", code)
	}
	poll.Until(t, 20*time.Second, "the answer and the read receipt on the citizen's page", func() bool {
		code, body := cit.page("GET", msgs, nil)
		return code == 200 && strings.Contains(body, "sì, alle 12") && strings.Count(body, "· letto") == 2
	})
	poll.Until(t, 20*time.Second, "the provider's message read", func() bool {
		_, body := prov.page("GET", msgs, nil)
		return strings.Count(body, "· letto") == 2
	})
	if code, _ := cit.page("POST", msgs, url.Values{"text": {""}}); code != http.StatusSeeOther {
		t.Fatalf("an empty message is refused with a flash, got %d", code)
	}
}

// mealsOffering publishes B's free "Pasti a domicilio" offering and waits
// until A's catalogue holds it: where the page tests' citizens start.
func mealsOffering(t *testing.T, a, b *node.Node) catalogue.Offering {
	t.Helper()
	ctx := context.Background()
	admin := auth.Actor{Username: "admin", Role: auth.Admin}
	o, err := b.Own().Create(ctx, admin, schema.Offering{Name: "Pasti a domicilio", Description: "Pranzo a casa.", Category: "anziani.assistenza-domiciliare",
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual, Areas: []string{"015146"}, Languages: []string{"it"},
		Contact: schema.Contact{Email: "info@sole.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "the offering to reach A", func() bool {
		_, err := a.Catalogue().Get(ctx, b.PeerID(), o.ID)
		return err == nil
	})
	return o
}
