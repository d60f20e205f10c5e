package localnet

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Proc is one `difronte serve` process of a local federation.
type Proc struct {
	Index    int
	Name     string
	DataDir  string
	HTTPAddr string
	URL      string
	PeerID   string
	Addrs    []string // libp2p multiaddrs ending in /p2p/<id>
	// Password is the admin password: the one given in ProcsConfig, or
	// the one the node generated and printed on first start.
	Password string

	cfg  *ProcsConfig
	args []string
	cmd  *exec.Cmd
	done chan struct{}
	mu   sync.Mutex
	out  strings.Builder
}

// ProcsConfig describes a local federation of real processes on loopback.
type ProcsConfig struct {
	Binary        string // path of the difronte binary
	Nodes         int
	HTTPBasePort  int    // web UI ports as HTTPPorts plans them; 0 picks free ports
	DataDir       string // node i keeps its data in DataDir/node-i
	AdminPassword string // empty: each node generates one
	Demo          bool
	Secret        string // federation secret; default "difronte-testnet"
	Names         []string
	ExtraArgs     []string
	Stdout        io.Writer // the nodes' stderr logs go here when set
	// Authority also starts an authority node at 127.0.0.1:HTTPBasePort,
	// with its key in DataDir/authority, trusted by every coop node
	// (DataDir/trust.json).
	Authority bool
}

// Procs is a running local federation.
type Procs struct {
	cfg   ProcsConfig
	Nodes []*Proc
	// Authority is the authority node (nil without ProcsConfig.Authority);
	// TrustFile is the JWKS the coop nodes trust.
	Authority *Proc
	TrustFile string
}

// Config is the configuration the federation was started with, defaults
// filled in.
func (ps *Procs) Config() ProcsConfig { return ps.cfg }

// DefaultNames are the demo coops' names.
var DefaultNames = []string{
	"Cooperativa Aurora", "Cooperativa Il Girasole", "Comunità Stretto", "Cooperativa La Rete",
	"Cooperativa Aspromonte", "Cooperativa Navigli", "Cooperativa Porta Nuova", "Cooperativa Lungomare",
}

// StartProcs starts the nodes one after the other; node 1 is every other
// node's bootstrap peer.
func StartProcs(ctx context.Context, cfg ProcsConfig) (*Procs, error) {
	if cfg.Nodes < 1 || cfg.Nodes > 64 {
		return nil, fmt.Errorf("nodes must be between 1 and 64, got %d", cfg.Nodes)
	}
	if cfg.Secret == "" {
		cfg.Secret = "difronte-testnet"
	}
	if len(cfg.Names) == 0 {
		cfg.Names = DefaultNames
	}
	ps := &Procs{cfg: cfg}
	authPort, coopPorts := HTTPPorts(cfg.HTTPBasePort, cfg.Nodes)
	if cfg.Authority {
		port := authPort
		if port == 0 {
			var err error
			if port, err = freePort(); err != nil {
				return nil, err
			}
		}
		if err := ps.startAuthority(ctx, port); err != nil {
			ps.Stop()
			return nil, err
		}
	}
	for i := 1; i <= cfg.Nodes; i++ {
		name := cfg.Names[(i-1)%len(cfg.Names)]
		if i > len(cfg.Names) {
			name = fmt.Sprintf("%s %d", name, i)
		}
		port := 0
		if cfg.HTTPBasePort > 0 {
			port = coopPorts[i-1]
		} else {
			p, err := freePort()
			if err != nil {
				ps.Stop()
				return nil, err
			}
			port = p
		}
		p := &Proc{Index: i, Name: name, DataDir: filepath.Join(cfg.DataDir, fmt.Sprintf("node-%d", i)),
			HTTPAddr: fmt.Sprintf("127.0.0.1:%d", port), cfg: &ps.cfg}
		p.URL = "http://" + p.HTTPAddr
		p.args = []string{"serve", "--data", p.DataDir, "--http", p.HTTPAddr, "--coop-name", name,
			"--p2p", "/ip4/127.0.0.1/tcp/0", "--members", "127.0.0.1:0", "--members-profile", "lan", "--federation-secret", cfg.Secret}
		if cfg.Demo {
			p.args = append(p.args, "--demo")
		}
		if i > 1 {
			for _, a := range ps.Nodes[0].Addrs {
				p.args = append(p.args, "--bootstrap", a)
			}
		}
		if ps.Authority != nil {
			p.args = append(p.args, "--trust", ps.TrustFile)
			for _, a := range ps.Authority.Addrs {
				p.args = append(p.args, "--bootstrap", a)
			}
		}
		p.args = append(p.args, cfg.ExtraArgs...)
		ps.Nodes = append(ps.Nodes, p)
		if err := p.Start(ctx); err != nil {
			ps.Stop()
			return nil, fmt.Errorf("start node %d: %w", i, err)
		}
	}
	return ps, nil
}

// freePort finds a free loopback port below the kernel's ephemeral range
// (32768 and up on Linux), so no OS-chosen port of a running node (libp2p,
// memberlist) can take it between this check and the node's listen.
func freePort() (int, error) {
	for range 200 {
		port := 20000 + mrand.IntN(12000)
		l, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
		if err != nil {
			continue
		}
		l.Close()
		return port, nil
	}
	return 0, errors.New("no free loopback port found")
}

// Start starts (or restarts) the process and waits until it is ready.
func (p *Proc) Start(ctx context.Context) error {
	cmd := exec.Command(p.cfg.Binary, p.args...)
	cmd.Env = append(os.Environ(), "DIFRONTE_LOG_LEVEL=warn")
	if p.cfg.AdminPassword != "" {
		cmd.Env = append(cmd.Env, "DIFRONTE_ADMIN_PASSWORD="+p.cfg.AdminPassword)
		p.Password = p.cfg.AdminPassword
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	if p.cfg.Stdout != nil {
		cmd.Stderr = p.cfg.Stdout
	} else {
		cmd.Stderr = &lockedWriter{p: p}
	}
	if err := cmd.Start(); err != nil {
		return err
	}
	p.cmd, p.done = cmd, make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		user := ""
		for sc.Scan() {
			line := sc.Text()
			if u, ok := strings.CutPrefix(strings.TrimSpace(line), "username: "); ok {
				user = u
			}
			// A demo node also prints its demo accounts' password: keep
			// the admin's.
			if pw, ok := strings.CutPrefix(strings.TrimSpace(line), "password: "); ok && (user == "" || user == "admin") {
				p.mu.Lock()
				p.Password = pw
				p.mu.Unlock()
			}
			p.mu.Lock()
			p.out.WriteString(line + "\n")
			p.mu.Unlock()
		}
		cmd.Wait()
		close(p.done)
	}()
	if err := p.waitReady(ctx); err != nil {
		return err
	}
	// A generated password is printed only on a node's first start; keep
	// it beside the testnet node's data so a later `difronte testnet` on
	// the same directory can show it again. Only the testnet does this.
	pwFile := filepath.Join(p.DataDir, "testnet-admin-password")
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.Password != "" && p.cfg.AdminPassword == "" {
		return os.WriteFile(pwFile, []byte(p.Password+"\n"), 0o600)
	}
	if p.Password == "" {
		if b, err := os.ReadFile(pwFile); err == nil {
			p.Password = strings.TrimSpace(string(b))
		}
	}
	return nil
}

type lockedWriter struct{ p *Proc }

func (w *lockedWriter) Write(b []byte) (int, error) {
	w.p.mu.Lock()
	defer w.p.mu.Unlock()
	if w.p.out.Len() < 1<<20 {
		w.p.out.Write(b)
	}
	return len(b), nil
}

// Output returns what the process printed (bounded).
func (p *Proc) Output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

func (p *Proc) waitReady(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	c := &http.Client{Timeout: 2 * time.Second}
	for {
		select {
		case <-p.done:
			return fmt.Errorf("node %d exited: %s", p.Index, p.Output())
		case <-ctx.Done():
			return fmt.Errorf("node %d not ready: %w: %s", p.Index, ctx.Err(), p.Output())
		case <-time.After(50 * time.Millisecond):
		}
		resp, err := c.Get(p.URL + "/api/v1/node")
		if err != nil {
			continue
		}
		var info struct {
			PeerID string   `json:"peer_id"`
			Addrs  []string `json:"addrs"`
		}
		err = json.NewDecoder(resp.Body).Decode(&info)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			continue
		}
		p.PeerID = info.PeerID
		p.Addrs = nil
		for _, a := range info.Addrs {
			if strings.HasPrefix(a, "/ip4/127.0.0.1/") {
				p.Addrs = append(p.Addrs, a)
			}
		}
		return nil
	}
}

// Kill stops the process with SIGKILL and waits for it to be gone.
func (p *Proc) Kill() error { return p.signal(syscall.SIGKILL) }

// Stop stops the process with SIGTERM (SIGKILL after 15 s).
func (p *Proc) Stop() error {
	err := p.signal(syscall.SIGTERM)
	return err
}

func (p *Proc) signal(sig syscall.Signal) error {
	if p.cmd == nil || p.cmd.Process == nil {
		return nil
	}
	select {
	case <-p.done:
		return nil
	default:
	}
	if err := p.cmd.Process.Signal(sig); err != nil && !errors.Is(err, os.ErrProcessDone) {
		return err
	}
	select {
	case <-p.done:
	case <-time.After(15 * time.Second):
		p.cmd.Process.Kill()
		<-p.done
	}
	return nil
}

// Stop stops every node, last first.
func (ps *Procs) Stop() {
	for i := len(ps.Nodes) - 1; i >= 0; i-- {
		ps.Nodes[i].Stop()
	}
	if ps.Authority != nil {
		ps.Authority.Stop()
	}
}
