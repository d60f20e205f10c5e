package testnet

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"testing"
	"time"

	"github.com/difronte/difronte/cmd/difronte/localnet"
	"github.com/difronte/difronte/testnet/poll"
)

// TestAuthorityProcesses runs the testnet's authority with two demo
// coops: each coop applies, the first is approved and qualified on every
// node, the second stays pending; a second seeding changes nothing.
func TestAuthorityProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three processes")
	}
	bin := buildBinary(t)
	ctx := context.Background()
	ps, err := localnet.StartProcs(ctx, localnet.ProcsConfig{Binary: bin, Nodes: 2, DataDir: t.TempDir(), AdminPassword: "testnet-password-1", Demo: true, Authority: true})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Stop()
	if _, err := os.Stat(ps.TrustFile); err != nil {
		t.Fatal(err)
	}
	off, err := ps.SeedQualifications(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := localnet.Login(ctx, ps.Authority.URL, off.Username, off.Password); err != nil {
		t.Fatalf("officer login: %v", err)
	}
	first, second := ps.Nodes[0], ps.Nodes[1]
	valid := func(on, subject *localnet.Proc) (n int) {
		resp, err := http.Get(fmt.Sprintf("%s/api/v1/qualifications?subject=%s", on.URL, subject.PeerID))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct{ Credentials []struct{ Valid bool } }
		json.NewDecoder(resp.Body).Decode(&out)
		for _, c := range out.Credentials {
			if c.Valid {
				n++
			}
		}
		return n
	}
	poll.Until(t, 30*time.Second, "the first coop's qualification on every node", func() bool {
		return valid(first, first) == 1 && valid(second, first) == 1 && valid(ps.Authority, first) == 1
	})
	if n := valid(second, second); n != 0 {
		t.Errorf("the pending coop holds %d qualifications", n)
	}
	tok, err := localnet.Login(ctx, ps.Authority.URL, off.Username, off.Password)
	if err != nil {
		t.Fatal(err)
	}
	apps := func() map[string]string {
		b, err := localnet.Call(ctx, http.MethodGet, ps.Authority.URL+"/api/v1/authority/applications", tok, nil)
		if err != nil {
			t.Fatal(err)
		}
		var out struct {
			Applications []struct{ Coop, State string }
		}
		json.Unmarshal(b, &out)
		m := map[string]string{}
		for _, a := range out.Applications {
			m[a.Coop] = a.State
		}
		return m
	}
	want := map[string]string{first.PeerID: "approved", second.PeerID: "submitted"}
	if got := apps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("applications %v, want %v", got, want)
	}
	if _, err := ps.SeedQualifications(ctx); err != nil {
		t.Fatal(err)
	}
	if got := apps(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("a second seeding changed the applications: %v", got)
	}
}
