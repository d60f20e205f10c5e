package node

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
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
	ctx := context.Background()
	tokens := map[auth.Role]string{}
	for _, role := range auth.Roles {
		user, pw := "walk-"+string(role), "Quercia-Lampione-Sereno-"+string(role)
		if _, err := n.Auth().Create(ctx, auth.Account{Username: user, Role: role}, pw); err != nil {
			t.Fatal(err)
		}
		tok, _, err := n.Auth().Login(ctx, user, pw, "127.0.0.1")
		if err != nil {
			t.Fatal(err)
		}
		tokens[role] = tok
	}

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
