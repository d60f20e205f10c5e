package localnet

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The local federation's authority: one node with an authority key that
// every coop node trusts, so a newcomer sees the qualification flow.
const (
	AuthorityName     = "Ufficio qualità dei servizi sociali"
	OfficerUsername   = "funzionario"
	authorityKeyFile  = "authority.jwk"
	officerPwFile     = "testnet-officer-password"
	qualificationDays = 365
)

// AuthorityTerritory covers the provinces of the demo coops' services
// (Milano, Reggio Calabria, Monza e Brianza).
var AuthorityTerritory = []string{"015", "080", "108"}

// startAuthority creates the key (first run only), starts the authority
// node and writes its public JWKS, fetched from the running node so that
// it names the node's peer, to DataDir/trust.json.
func (ps *Procs) startAuthority(ctx context.Context, port int) error {
	cfg := &ps.cfg
	dir := filepath.Join(cfg.DataDir, "authority")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	key := filepath.Join(dir, authorityKeyFile)
	if _, err := os.Stat(key); errors.Is(err, os.ErrNotExist) {
		out, err := exec.CommandContext(ctx, cfg.Binary, "authority", "keygen", "--out", key).CombinedOutput()
		if err != nil {
			return fmt.Errorf("authority keygen: %w: %s", err, out)
		}
	}
	p := &Proc{Index: 0, Name: AuthorityName, DataDir: filepath.Join(dir, "data"), HTTPAddr: fmt.Sprintf("127.0.0.1:%d", port), cfg: cfg}
	p.URL = "http://" + p.HTTPAddr
	p.args = []string{"serve", "--data", p.DataDir, "--http", p.HTTPAddr, "--coop-name", AuthorityName,
		"--p2p", "/ip4/127.0.0.1/tcp/0", "--members", "127.0.0.1:0", "--members-profile", "lan", "--federation-secret", cfg.Secret,
		"--authority-key", key, "--authority-name", AuthorityName, "--authority-territory", strings.Join(AuthorityTerritory, ",")}
	ps.Authority = p
	if err := p.Start(ctx); err != nil {
		return fmt.Errorf("start the authority: %w", err)
	}
	jwks, err := get(ctx, p.URL+"/.well-known/jwks.json", "")
	if err != nil {
		return fmt.Errorf("authority JWKS: %w", err)
	}
	ps.TrustFile = filepath.Join(cfg.DataDir, "trust.json")
	return os.WriteFile(ps.TrustFile, jwks, 0o644)
}

// Officer is the authority officer's login, once SeedQualifications ran.
type Officer struct{ Username, Password string }

// SeedQualifications makes the demo coops hold qualifications: each coop
// applies for the categories and municipalities of its own offerings, and
// the authority approves every application but the last coop's, which
// stays pending for a newcomer to review. It creates the officer account
// (once) and is idempotent: a coop that already applied is left alone.
func (ps *Procs) SeedQualifications(ctx context.Context) (Officer, error) {
	a := ps.Authority
	if a == nil {
		return Officer{}, errors.New("no authority node")
	}
	off, err := ps.officer(ctx)
	if err != nil {
		return off, err
	}
	otok, err := Login(ctx, a.URL, off.Username, off.Password)
	if err != nil {
		return off, fmt.Errorf("officer login: %w", err)
	}
	for i, p := range ps.Nodes {
		form, err := applicationOf(ctx, p)
		if err != nil {
			return off, fmt.Errorf("%s: %w", p.Name, err)
		}
		if form == nil {
			continue // applied on an earlier run
		}
		form["authority"], form["authority_name"] = a.PeerID, AuthorityName
		if err := applyWhenKnown(ctx, p, form); err != nil {
			return off, fmt.Errorf("%s applies: %w", p.Name, err)
		}
		if i == len(ps.Nodes)-1 && len(ps.Nodes) > 1 {
			break // the last one stays pending
		}
		if err := approve(ctx, a.URL, otok, p.PeerID, form); err != nil {
			return off, fmt.Errorf("approve %s: %w", p.Name, err)
		}
	}
	return off, nil
}

// officer creates the officer account on the authority node's first run
// and keeps its password beside the node's data.
func (ps *Procs) officer(ctx context.Context) (Officer, error) {
	a := ps.Authority
	pwFile := filepath.Join(filepath.Dir(a.DataDir), officerPwFile)
	off := Officer{Username: OfficerUsername, Password: ps.cfg.AdminPassword}
	if b, err := os.ReadFile(pwFile); err == nil {
		off.Password = strings.TrimSpace(string(b))
		return off, nil
	}
	if off.Password == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		off.Password = base64.RawURLEncoding.EncodeToString(b[:])
	}
	tok, err := Login(ctx, a.URL, "admin", a.Password)
	if err != nil {
		return off, fmt.Errorf("authority admin login: %w", err)
	}
	if _, err := Call(ctx, http.MethodPost, a.URL+"/api/v1/accounts", tok, map[string]any{
		"username": off.Username, "password": off.Password, "role": "officer", "display_name": "Funzionario dell'ente",
	}); err != nil {
		return off, fmt.Errorf("create the officer: %w", err)
	}
	return off, os.WriteFile(pwFile, []byte(off.Password+"\n"), 0o600)
}

// applicationOf builds a coop's application from its own offerings, or
// returns nil if the coop has applied before.
func applicationOf(ctx context.Context, p *Proc) (map[string]any, error) {
	tok, err := Login(ctx, p.URL, "admin", p.Password)
	if err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	b, err := get(ctx, p.URL+"/api/v1/applications", tok)
	if err != nil {
		return nil, err
	}
	var apps struct{ Applications []json.RawMessage }
	if err := json.Unmarshal(b, &apps); err != nil {
		return nil, err
	}
	if len(apps.Applications) > 0 {
		return nil, nil
	}
	if b, err = get(ctx, p.URL+"/api/v1/offerings?limit=500", tok); err != nil {
		return nil, err
	}
	var offs struct {
		Items []struct {
			Category string   `json:"category"`
			Areas    []string `json:"areas"`
			Archived bool     `json:"archived"`
		}
	}
	if err := json.Unmarshal(b, &offs); err != nil {
		return nil, err
	}
	var cats, munis []string
	for _, o := range offs.Items {
		if o.Archived {
			continue
		}
		if !slices.Contains(cats, o.Category) {
			cats = append(cats, o.Category)
		}
		for _, m := range o.Areas {
			if !slices.Contains(munis, m) && slices.ContainsFunc(AuthorityTerritory, func(t string) bool { return strings.HasPrefix(m, t) }) {
				munis = append(munis, m)
			}
		}
	}
	if len(cats) == 0 || len(munis) == 0 {
		return nil, errors.New("no offerings to qualify")
	}
	slices.Sort(cats)
	slices.Sort(munis)
	return map[string]any{
		"token": tok, "categories": cats, "municipalities": munis,
		"description": p.Name + ": assistenza domiciliare, compagnia e servizi di prossimità. Candidatura dimostrativa della rete locale.",
	}, nil
}

// applyWhenKnown sends the application, retrying while the authority does
// not know the coop yet (membership takes a few seconds to spread).
func applyWhenKnown(ctx context.Context, p *Proc, form map[string]any) error {
	tok := form["token"].(string)
	body := map[string]any{}
	for k, v := range form {
		if k != "token" {
			body[k] = v
		}
	}
	return Retry(ctx, 60*time.Second, 500*time.Millisecond, func() error {
		b, err := Call(ctx, http.MethodPost, p.URL+"/api/v1/applications", tok, body)
		if err == nil {
			var app struct{ ID string }
			if json.Unmarshal(b, &app) == nil {
				form["id"] = app.ID
			}
		}
		return err
	})
}

// Retry calls try every interval until it succeeds, timeout passes (the
// last error is returned) or ctx ends.
func Retry(ctx context.Context, timeout, every time.Duration, try func() error) error {
	deadline := time.Now().Add(timeout)
	for {
		err := try()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}

func approve(ctx context.Context, base, tok, coop string, form map[string]any) error {
	path := fmt.Sprintf("%s/api/v1/authority/applications/%s/%s/decision", base, coop, form["id"])
	_, err := Call(ctx, http.MethodPost, path, tok, map[string]any{
		"action": "approve", "categories": form["categories"], "municipalities": form["municipalities"],
		"valid_until": time.Now().AddDate(0, 0, qualificationDays).UTC().Truncate(time.Second),
	})
	return err
}
