package testnet

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/difronte/difronte/cmd/difronte/localnet"
	"github.com/difronte/difronte/testnet/poll"
)

// buildBinary compiles cmd/difronte once into dir.
func buildBinary(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "difronte")
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Dir(filepath.Dir(file))
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/difronte")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build difronte: %v\n%s", err, out)
	}
	return bin
}

type client struct {
	t     *testing.T
	base  string
	token string
}

func login(t *testing.T, p *localnet.Proc) *client {
	t.Helper()
	c := &client{t: t, base: p.URL}
	var out struct{ Token string }
	c.do("POST", "/api/v1/login", map[string]string{"username": "admin", "password": p.Password}, http.StatusOK, &out)
	c.token = out.Token
	return c
}

func (c *client) do(method, path string, body any, want int, out any) {
	c.t.Helper()
	var rd *bytes.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		c.t.Fatalf("%s %s: status %d, want %d: %s", method, path, resp.StatusCode, want, b.String())
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			c.t.Fatalf("%s %s: decode: %v", method, path, err)
		}
	}
}

func sampleOffering(name string) map[string]any {
	return map[string]any{
		"name":        name,
		"description": "Compagnia e piccole commissioni a domicilio.",
		"category":    "anziani.assistenza-domiciliare",
		"cost":        map[string]any{"type": "free"},
		"delivery":    "individual",
		"areas":       []string{"080063"},
		"languages":   []string{"it"},
		"contact":     map[string]any{"email": "info@example.org"},
	}
}

// catalogueNames returns the offering names in a node's federated catalogue.
func catalogueNames(t *testing.T, p *localnet.Proc) map[string]bool {
	t.Helper()
	resp, err := http.Get(p.URL + "/api/v1/catalogue/search?per_page=100")
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	var out struct {
		Total   int
		Results []struct {
			Name      string
			Publisher string
			CoopName  string `json:"coop_name"`
		}
	}
	if json.NewDecoder(resp.Body).Decode(&out) != nil {
		return nil
	}
	names := map[string]bool{}
	for _, r := range out.Results {
		names[r.Name] = true
	}
	return names
}

// TestThreeProcesses runs three real `difronte serve` processes
// bootstrapped from the first on loopback: an offering published on the
// first appears in the third's catalogue; the third is killed with
// SIGKILL, the first publishes more, the third restarts and converges.
func TestThreeProcesses(t *testing.T) {
	bin := buildBinary(t)
	ctx := context.Background()
	ps, err := localnet.StartProcs(ctx, localnet.ProcsConfig{Binary: bin, Nodes: 3, DataDir: t.TempDir(), AdminPassword: "testnet-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Stop()
	first, third := ps.Nodes[0], ps.Nodes[2]
	c := login(t, first)
	c.do("POST", "/api/v1/offerings", sampleOffering("Compagnia a domicilio"), http.StatusCreated, nil)
	poll.Until(t, 20*time.Second, "the offering on the third node", func() bool { return catalogueNames(t, third)["Compagnia a domicilio"] })

	// The third node's catalogue names the publisher's coop. The coop's
	// profile is an entry of its own, which gossip or catch-up may bring
	// after the offering; the index then refreshes the publisher's cards.
	var page struct {
		Results []struct {
			Publisher string
			CoopName  string `json:"coop_name"`
		}
	}
	named := func() bool {
		resp, err := http.Get(third.URL + "/api/v1/catalogue/search")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		page.Results = nil
		if err := json.NewDecoder(resp.Body).Decode(&page); err != nil {
			t.Fatal(err)
		}
		return len(page.Results) > 0 && page.Results[0].Publisher == first.PeerID && page.Results[0].CoopName == first.Name
	}
	if !poll.Wait(20*time.Second, 50*time.Millisecond, named) {
		t.Fatalf("listing does not name its publisher: %+v (want %s %q)", page.Results, first.PeerID, first.Name)
	}

	if err := third.Kill(); err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		c.do("POST", "/api/v1/offerings", sampleOffering(fmt.Sprintf("Spesa a domicilio %d", i)), http.StatusCreated, nil)
	}
	if err := third.Start(ctx); err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 30*time.Second, "the third node to catch up after SIGKILL", func() bool {
		n := catalogueNames(t, third)
		for i := range 5 {
			if !n[fmt.Sprintf("Spesa a domicilio %d", i)] {
				return false
			}
		}
		return n["Compagnia a domicilio"]
	})

	// Membership: the first node sees the other two online.
	poll.Until(t, 20*time.Second, "membership", func() bool {
		resp, err := http.Get(first.URL + "/api/v1/federation/peers")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		var out struct {
			Peers []struct {
				PeerID string `json:"peer_id"`
				Online bool
			}
		}
		json.NewDecoder(resp.Body).Decode(&out)
		online := 0
		for _, p := range out.Peers {
			if p.Online {
				online++
			}
		}
		return online == 3
	})
}
