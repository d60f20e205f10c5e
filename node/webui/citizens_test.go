package webui

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/store"
)

// citizenEnv is a node's UI with citizens' accounts (no mail server) and
// one operator.
func citizenEnv(t *testing.T) (*env, *citizens.Service, *audit.Log) {
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
	cit, err := citizens.Open(ctx, citizens.Config{Store: st.Namespace("/citizens"), Auth: as, Audit: al})
	if err != nil {
		t.Fatal(err)
	}
	s := api.New(api.Deps{Auth: as, Audit: al, Domains: []httpx.Routes{cs, own, citizens.API{Service: cit}}})
	Mount(s, Deps{Auth: as, Care: cs, Own: own, Audit: al, Citizens: cit})
	e := &env{t: t, srv: httptest.NewServer(s.Handler()), care: cs, own: own}
	t.Cleanup(func() {
		e.srv.Close()
		al.Close()
	})
	if _, err := as.Create(ctx, auth.Account{Username: "operatore", Role: auth.Operator}, pw); err != nil {
		t.Fatal(err)
	}
	return e, cit, al
}

func TestCitizenSignsUpAndReachesTheArea(t *testing.T) {
	e, _, _ := citizenEnv(t)
	c := e.client()
	res, body := e.get(c, "/login")
	checkPage(t, "/login", body)
	if !strings.Contains(body, `href="/registrati"`) {
		t.Fatal("the login page does not link the sign-up")
	}
	res, body = e.get(c, "/registrati")
	if res.StatusCode != 200 {
		t.Fatalf("/registrati: %d", res.StatusCode)
	}
	checkPage(t, "/registrati", body)
	res, body = e.post(c, "/registrati", url.Values{"display_name": {"Giulia Neri"}, "email": {"non-una-mail"}, "username": {"giulia"}, "password": {"tramonto-sul-lago-blu"}})
	if res.StatusCode != 400 || !strings.Contains(body, `id="f-email"`) || !strings.Contains(body, `aria-invalid="true"`) || strings.Contains(body, "tramonto") {
		t.Fatalf("bad e-mail: %d", res.StatusCode)
	}
	checkPage(t, "/registrati (errors)", body)
	res, body = e.post(c, "/registrati", url.Values{"display_name": {"Giulia Neri"}, "email": {"giulia@example.org"}, "username": {"giulia"}, "password": {"tramonto-sul-lago-blu"}, "lang": {"it"}})
	if res.StatusCode != 201 || !strings.Contains(body, "già attivo") {
		t.Fatalf("sign-up: %d %s", res.StatusCode, body)
	}
	res, _ = e.post(c, "/login", url.Values{"username": {"giulia"}, "password": {"tramonto-sul-lago-blu"}, "next": {"/"}})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("login: %d", res.StatusCode)
	}
	res, _ = e.get(c, "/")
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/area-personale" {
		t.Fatalf("home of a citizen: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	res, body = e.get(c, "/area-personale")
	if res.StatusCode != 200 || !strings.Contains(body, "Nessuna richiesta.") || !strings.Contains(body, "giulia@example.org") {
		t.Fatalf("area: %d", res.StatusCode)
	}
	checkPage(t, "/area-personale", body)
	for _, p := range []string{"/area-personale/riepilogo", "/area-personale/elimina"} {
		res, body = e.get(c, p)
		if res.StatusCode != 200 {
			t.Fatalf("%s: %d", p, res.StatusCode)
		}
		checkPage(t, p, body)
	}
	// Staff pages stay closed to a citizen; the area to staff.
	if res, _ = e.get(c, "/cittadini"); res.StatusCode != 403 {
		t.Fatalf("citizen on /cittadini: %d", res.StatusCode)
	}
	if res, _ = e.get(e.login("operatore"), "/area-personale"); res.StatusCode != 403 {
		t.Fatalf("operator not acting on /area-personale: %d", res.StatusCode)
	}
	// Deletion asks for the username, then logs out.
	if res, _ = e.post(c, "/area-personale/elimina", url.Values{"confirm": {"altro"}}); res.StatusCode != 400 {
		t.Fatalf("wrong confirmation: %d", res.StatusCode)
	}
	if res, _ = e.post(c, "/area-personale/elimina", url.Values{"confirm": {"giulia"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("deletion: %d", res.StatusCode)
	}
	if res, _ = e.get(c, "/area-personale"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/login") {
		t.Fatalf("area after deletion: %d", res.StatusCode)
	}
}

func TestOperatorRegistersAndActsInThePages(t *testing.T) {
	e, cit, al := citizenEnv(t)
	c := e.login("operatore")
	res, body := e.get(c, "/cittadini/nuovo")
	if res.StatusCode != 200 {
		t.Fatalf("form: %d", res.StatusCode)
	}
	checkPage(t, "/cittadini/nuovo", body)
	form := url.Values{"display_name": {"Rosa Greco"}, "username": {"rosa"}, "consent.method": {"verbal_witness"}}
	res, body = e.post(c, "/cittadini/nuovo", form)
	if res.StatusCode != 400 || !strings.Contains(body, `id="e-consent-given"`) || !strings.Contains(body, `id="e-consent-witness"`) {
		t.Fatalf("no consent: %d", res.StatusCode)
	}
	checkPage(t, "/cittadini/nuovo (errors)", body)
	form.Set("consent.given", "on")
	form.Set("consent.witness", "Carla Bruni")
	if res, _ = e.post(c, "/cittadini/nuovo", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("register: %d", res.StatusCode)
	}
	if got, ok := cit.Get("rosa"); !ok || got.Consent == nil || got.Consent.Operator != "operatore" || got.Consent.Witness != "Carla Bruni" {
		t.Fatalf("citizen %+v", got)
	}
	res, body = e.get(c, "/cittadini")
	if !strings.Contains(body, "Rosa Greco") {
		t.Fatal("the list lacks the citizen")
	}
	checkPage(t, "/cittadini", body)
	if res, _ = e.post(c, "/cittadini/agisci", url.Values{"citizen": {"rosa"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("act for: %d", res.StatusCode)
	}
	res, body = e.get(c, "/area-personale")
	if res.StatusCode != 200 || !strings.Contains(body, `class="acting"`) || !strings.Contains(body, "ha iniziato ad agire per te") {
		t.Fatalf("area while acting: %d", res.StatusCode)
	}
	checkPage(t, "/area-personale (acting)", body)
	if res, _ = e.post(c, "/area-personale/profilo", url.Values{"display_name": {"Rosa Greco"}, "email": {"rosa@example.org"}, "lang": {"it"}}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("profile for rosa: %d", res.StatusCode)
	}
	evs, _ := al.Query(context.Background(), audit.Filter{Kind: "citizen", Actor: "operatore", Limit: 50})
	found := false
	for _, ev := range evs {
		found = found || (ev.Action == audit.Update && ev.For == "rosa")
	}
	if !found {
		t.Fatalf("no update by operatore for rosa in %+v", evs)
	}
	if res, _ = e.post(c, "/cittadini/smetti", nil); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("stop: %d", res.StatusCode)
	}
	if res, _ = e.get(c, "/area-personale"); res.StatusCode != 403 {
		t.Fatalf("area after stop: %d", res.StatusCode)
	}
}
