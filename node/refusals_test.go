package node

import (
	"context"
	"crypto/ed25519"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/schema"
)

// route is one method and path template of the node's router.
type route struct{ method, template string }

// walkRoutes returns every route of the node's real router: the JSON API,
// the pages, the sockets and feeds (path prefixes like /static/ are not
// routes of a method).
func walkRoutes(t *testing.T, n *Node) []route {
	t.Helper()
	var out []route
	err := n.api.Router.Walk(func(rt *mux.Route, _ *mux.Router, _ []*mux.Route) error {
		tpl, err := rt.GetPathTemplate()
		if err != nil {
			return nil
		}
		ms, err := rt.GetMethods()
		if err != nil {
			return nil
		}
		for _, m := range ms {
			out = append(out, route{m, tpl})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var routeVar = regexp.MustCompile(`\{([^}:]+)(?::([^}]*))?\}`)

// samplePath fills a route template's variables with a value each
// matches: the first of alternatives, a digit for digits, else an id that
// names no record.
func samplePath(tpl string) string {
	return routeVar.ReplaceAllStringFunc(tpl, func(v string) string {
		m := routeVar.FindStringSubmatch(v)
		switch pat := m[2]; {
		case strings.Contains(pat, "|"):
			alt, _, _ := strings.Cut(pat, "|")
			return alt
		case strings.Contains(pat, "0-9"):
			return "0"
		}
		return "norecord"
	})
}

// TestEveryRefusalIsAudited walks every route and page of a node running
// every optional part, as every role, and checks that each 403 it answers
// has its "denied" event in the audit log, whoever decided it: the role
// check of an API endpoint or a page, or a service refusing a record.
func TestEveryRefusalIsAudited(t *testing.T) {
	n := fullNode(t)
	tokens := roleTokens(t, n, "")

	routes := walkRoutes(t, n)
	if len(routes) < 100 {
		t.Fatalf("only %d routes found: the walk is broken", len(routes))
	}
	refused := map[auth.Role]int{}
	for _, rt := range routes {
		if rt.template == "/api/v1/logout" || rt.template == "/logout" {
			continue // would end the walking session
		}
		for _, role := range auth.Roles {
			user := "walk-" + string(role)
			before, _ := n.Audit().Head()
			code, body := walkRequest(t, n, rt.method, samplePath(rt.template), tokens[role])
			if code >= 500 {
				t.Errorf("%s %s as %s: %d %s", rt.method, rt.template, role, code, body)
			}
			if code != http.StatusForbidden {
				continue
			}
			refused[role]++
			if !deniedSince(t, n.Audit(), user, role, before) {
				t.Errorf("%s %s as %s: 403 without a denied event in the audit log", rt.method, rt.template, role)
			}
		}
	}
	for _, role := range auth.Roles {
		if role != auth.Admin && refused[role] == 0 {
			t.Errorf("no route refused %s: the walk is broken", role)
		}
	}
}

// roleTokens creates an account "walk-<role>" for every role and returns
// their session tokens; the caregiver's is linked to caregiverID.
func roleTokens(t *testing.T, n *Node, caregiverID string) map[auth.Role]string {
	t.Helper()
	ctx := context.Background()
	tokens := map[auth.Role]string{}
	for _, role := range auth.Roles {
		user, pw := "walk-"+string(role), "Quercia-Lampione-Sereno-"+string(role)
		acc := auth.Account{Username: user, Role: role}
		if role == auth.Caregiver {
			acc.CaregiverID = caregiverID
		}
		if _, err := n.Auth().Create(ctx, acc, pw); err != nil {
			t.Fatal(err)
		}
		tok, _, err := n.Auth().Login(ctx, user, pw, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
	}
	return tokens
}

// walkRequest sends one request with an empty JSON object as body.
func walkRequest(t *testing.T, n *Node, method, path, token string) (int, string) {
	t.Helper()
	var body io.Reader
	if method == http.MethodPost || method == http.MethodPut {
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(method, n.URL()+path, body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	client := http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return resp.StatusCode, string(raw)
}

// deniedSince waits (reads are audited without waiting for the disk) for
// a denied event after seq before from the client's address; one of user
// carries their role. (A public route's refusal is its caller's: a
// pairing code is refused as "terminal".)
func deniedSince(t *testing.T, log *audit.Log, user string, role auth.Role, before uint64) bool {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for {
		evs, err := log.Query(context.Background(), audit.Filter{Limit: 20})
		if err != nil {
			t.Fatal(err)
		}
		for _, ev := range evs {
			if ev.Seq > before && ev.Action == audit.Denied && ev.Remote == "127.0.0.1" &&
				(ev.Actor != user || ev.Role == string(role)) {
				return true
			}
		}
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestSmallerRefusals: each answer the issue found wrong, on a node that
// runs every optional part. The role is checked before anything else
// (the body included), routes refuse roles their documentation does not
// name, bad input is a 4xx and an unreachable authority a 502, never a
// 500, and the static files are files only.
func TestSmallerRefusals(t *testing.T) {
	n := fullNode(t)
	ctx := context.Background()
	cg, err := n.Care().CreateCaregiver(ctx, auth.Actor{Username: "setup", Role: auth.Admin}, care.Caregiver{Name: "Anna Verdi"})
	if err != nil {
		t.Fatal(err)
	}
	tok := roleTokens(t, n, cg.ID)
	pub, _, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	unreachable := schema.PeerIDFromPublicKey(pub) // a peer nobody knows an address of
	apply := func(authority string) string {
		return `{"authority":"` + authority + `","authority_name":"Comune","categories":["anziani.assistenza-domiciliare"],` +
			`"municipalities":["080063"],"description":"Assistenza domiciliare."}`
	}
	cases := []struct {
		name         string
		role         auth.Role
		method, path string
		body         string
		want         int
	}{
		{"malformed authority id", auth.Admin, "POST", "/api/v1/applications", apply("not-a-peer"), 400},
		{"unreachable authority", auth.Admin, "POST", "/api/v1/applications", apply(unreachable), 502},
		{"applications as caregiver", auth.Caregiver, "GET", "/api/v1/applications", "", 403},
		{"refresh as operator", auth.Operator, "POST", "/api/v1/applications/refresh", "{}", 403},
		{"retry as caregiver", auth.Caregiver, "POST", "/api/v1/deliveries/x/retry", "{}", 403},
		{"authority applications as admin", auth.Admin, "GET", "/api/v1/authority/applications", "", 403},
		{"authority applications as officer", auth.Officer, "GET", "/api/v1/authority/applications", "", 200},
		{"decision as caregiver, bad body", auth.Caregiver, "POST", "/api/v1/authority/applications/c/a/decision", "{", 403},
		{"decision as admin", auth.Admin, "POST", "/api/v1/authority/applications/c/a/decision", `{"action":"approve"}`, 403},
		{"agenda as operator", auth.Operator, "GET", "/api/v1/calls/agenda", "", 403},
		{"agenda as officer", auth.Officer, "GET", "/api/v1/calls/agenda", "", 403},
		{"agenda as caregiver", auth.Caregiver, "GET", "/api/v1/calls/agenda", "", 200},
		{"schedules as refurbisher", auth.Refurbisher, "GET", "/api/v1/calls/schedules", "", 403},
		{"schedules as admin", auth.Admin, "GET", "/api/v1/calls/schedules", "", 200},
		{"feed with a body", auth.Caregiver, "POST", "/api/v1/calls/feed", `{"days":30}`, 400},
		{"feed without a body", auth.Caregiver, "POST", "/api/v1/calls/feed", "", 201},
		{"feed with an empty object", auth.Caregiver, "POST", "/api/v1/calls/feed", "{}", 201},
		{"static file", auth.Admin, "GET", "/static/favicon.svg", "", 200},
		{"static listing", auth.Admin, "GET", "/static/", "", 404},
		{"static invalid name", auth.Admin, "GET", "/static/%ff", "", 404},
		{"static invalid name anonymous", "", "GET", "/static/%ff", "", 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var body io.Reader
			if c.body != "" {
				body = strings.NewReader(c.body)
			}
			req, err := http.NewRequest(c.method, n.URL()+c.path, body)
			if err != nil {
				t.Fatal(err)
			}
			if c.role != "" {
				req.Header.Set("Authorization", "Bearer "+tok[c.role])
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			raw, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
			if resp.StatusCode != c.want {
				t.Fatalf("%d, want %d: %s", resp.StatusCode, c.want, raw)
			}
		})
	}
}
