package calldemo

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/coder/websocket"
	"github.com/pion/webrtc/v4"

	"github.com/difronte/difronte/cmd/difronte/localnet"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/calls/peer"
)

// The demo check-in of a local federation: a beneficiary of node 2 whose
// paired terminal is a pion peer inside this process, with a daily
// schedule and a grant for a caregiver of node 1, so a newcomer can log in
// to node 1 and press "Chiama" on the agenda.
const (
	CaregiverUsername   = "chiamata-demo"
	demoCaregiverName   = "Giulia Demo"
	demoBeneficiaryName = "Anna Demo"
	demoDisplayName     = "Signora Anna (terminale demo)"
	Countdown           = 3 // seconds the demo terminal rings before answering
	StateFile           = "testnet-call-demo.json"
	// demoGrantTTL is the grant's life; a later run renews it when less
	// than demoGrantRenew is left.
	demoGrantTTL   = 90 * 24 * time.Hour
	demoGrantRenew = 7 * 24 * time.Hour
)

// State is what a later run on the same data directory reuses
// (DataDir/StateFile).
type State struct {
	CaregiverID  string    `json:"caregiver_id"`
	Password     string    `json:"password"`
	Beneficiary  string    `json:"beneficiary"`
	Terminal     string    `json:"terminal"`
	Credential   string    `json:"credential"`
	Grant        string    `json:"grant"`
	GrantExpires time.Time `json:"grant_expires"`
}

// Demo is the running demo check-in: the caregiver's login on node 1
// and the demo terminal answering on node 2.
type Demo struct {
	CaregiverNode, TerminalNode *localnet.Proc
	Username, Password          string
	Caregiver                   string // caregiver id on node 1
	Beneficiary                 string // beneficiary id on node 2
	DisplayName                 string
	Credential                  string // the demo terminal's device credential

	log    *slog.Logger
	cancel context.CancelFunc
	wg     sync.WaitGroup
	mu     sync.Mutex
	online bool
	calls  int
}

// Start sets up the demo check-in (once per data directory; later
// runs reuse it and renew the grant) and starts the demo terminal. It
// needs two coop nodes. Close stops the terminal.
func Start(ctx context.Context, ps *localnet.Procs, log *slog.Logger) (*Demo, error) {
	if len(ps.Nodes) < 2 {
		return nil, errors.New("the demo call needs two coop nodes")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	a, b := ps.Nodes[0], ps.Nodes[1]
	stateFile := filepath.Join(ps.Config().DataDir, StateFile)
	var st State
	if raw, err := os.ReadFile(stateFile); err == nil {
		if err := json.Unmarshal(raw, &st); err != nil {
			return nil, fmt.Errorf("%s: %w", stateFile, err)
		}
	}
	atok, err := localnet.Login(ctx, a.URL, "admin", a.Password)
	if err != nil {
		return nil, fmt.Errorf("%s admin login: %w", a.Name, err)
	}
	btok, err := localnet.Login(ctx, b.URL, "admin", b.Password)
	if err != nil {
		return nil, fmt.Errorf("%s admin login: %w", b.Name, err)
	}
	save := func() error {
		raw, _ := json.MarshalIndent(st, "", "  ")
		return os.WriteFile(stateFile, raw, 0o600)
	}
	if st.CaregiverID == "" {
		if err := st.createCaregiver(ctx, a.URL, atok, ps.Config().AdminPassword); err != nil {
			return nil, fmt.Errorf("%s: %w", a.Name, err)
		}
		if err := save(); err != nil {
			return nil, err
		}
	}
	if st.Beneficiary == "" {
		if err := st.createBeneficiary(ctx, b.URL, btok, a.PeerID); err != nil {
			return nil, fmt.Errorf("%s: %w", b.Name, err)
		}
		if err := save(); err != nil {
			return nil, err
		}
	}
	if st.Credential == "" || !credentialWorks(ctx, b, st.Credential) {
		if err := st.pair(ctx, b.URL, btok); err != nil {
			return nil, fmt.Errorf("%s: pair the demo terminal: %w", b.Name, err)
		}
		if err := save(); err != nil {
			return nil, err
		}
	}
	if time.Until(st.GrantExpires) < demoGrantRenew {
		if err := st.grant(ctx, b.URL, btok, a.PeerID); err != nil {
			return nil, fmt.Errorf("%s: grant: %w", b.Name, err)
		}
		if err := save(); err != nil {
			return nil, err
		}
	}
	// Node 2 sends the grant to node 1 over the signal protocol; wait for
	// it so the agenda shows the call button when we say so.
	if err := waitHeld(ctx, a.URL, atok, st.CaregiverID, st.Grant); err != nil {
		return nil, fmt.Errorf("%s never received the grant: %w", a.Name, err)
	}
	d := &Demo{CaregiverNode: a, TerminalNode: b, Username: CaregiverUsername, Password: st.Password,
		Caregiver: st.CaregiverID, Beneficiary: st.Beneficiary, DisplayName: demoDisplayName, Credential: st.Credential, log: log}
	tctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	d.cancel = cancel
	d.wg.Add(1)
	go func() {
		defer d.wg.Done()
		d.runTerminal(tctx)
	}()
	return d, nil
}

// Extra is the demo check-in as a localnet.Extra: with two coop nodes or
// more, it starts the demo terminal and prints how to call it.
func Extra(ctx context.Context, ps *localnet.Procs, stdout, stderr io.Writer) (func(), error) {
	if len(ps.Nodes) < 2 {
		return func() {}, nil
	}
	fmt.Fprintln(stdout, "\nSetting up the demo check-in call (a terminal answered by this process)...")
	d, err := Start(ctx, ps, slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	if err != nil {
		return nil, fmt.Errorf("demo call: %w", err)
	}
	fmt.Fprintf(stdout, "  log in to node 1 (%s) as %s / %s and press Chiama on the agenda (%s/agenda)\n  to call the demo terminal of node 2 (%s), which answers by itself after %d seconds.\n",
		d.CaregiverNode.URL, d.Username, d.Password, d.CaregiverNode.URL, d.TerminalNode.Name, Countdown)
	return d.Close, nil
}

func (st *State) createCaregiver(ctx context.Context, base, tok, password string) error {
	var cg struct{ ID string }
	if err := localnet.CallJSON(ctx, http.MethodPost, base+"/api/v1/caregivers", tok, map[string]any{"name": demoCaregiverName, "languages": []string{"it", "en"}}, &cg); err != nil {
		return fmt.Errorf("demo caregiver: %w", err)
	}
	st.Password = password
	if st.Password == "" {
		var b [12]byte
		_, _ = rand.Read(b[:])
		st.Password = base64.RawURLEncoding.EncodeToString(b[:])
	}
	if err := localnet.CallJSON(ctx, http.MethodPost, base+"/api/v1/accounts", tok, map[string]any{
		"username": CaregiverUsername, "role": "caregiver", "caregiver_id": cg.ID, "password": st.Password,
	}, nil); err != nil {
		return fmt.Errorf("demo caregiver account: %w", err)
	}
	st.CaregiverID = cg.ID
	return nil
}

func (st *State) createBeneficiary(ctx context.Context, base, tok, caregiverNode string) error {
	var ben, term struct{ ID string }
	if err := localnet.CallJSON(ctx, http.MethodPost, base+"/api/v1/beneficiaries", tok, map[string]any{
		"name": demoBeneficiaryName, "address": "Via del Corso 1", "municipality": "015146",
	}, &ben); err != nil {
		return fmt.Errorf("demo beneficiary: %w", err)
	}
	if err := localnet.CallJSON(ctx, http.MethodPost, base+"/api/v1/terminals", tok, map[string]any{
		"label": "T-DEMO", "model": "terminale demo (pion)", "state": "in_service", "beneficiary": ben.ID,
	}, &term); err != nil {
		return fmt.Errorf("demo terminal: %w", err)
	}
	if err := localnet.CallJSON(ctx, http.MethodPut, base+"/api/v1/calls/settings/"+ben.ID, tok, map[string]any{
		"display_name": demoDisplayName, "countdown": Countdown,
	}, nil); err != nil {
		return fmt.Errorf("call settings: %w", err)
	}
	// Every day at 10:00 and 17:00, Italian time, so the agenda always
	// lists a call of today or tomorrow.
	rome, err := time.LoadLocation(calls.Zone)
	if err != nil {
		return err
	}
	day := time.Now().In(rome).Format("2006-01-02")
	for _, at := range []string{"10:00", "17:00"} {
		if err := localnet.CallJSON(ctx, http.MethodPost, base+"/api/v1/calls/schedules", tok, map[string]any{
			"beneficiary": ben.ID, "caregiver": caregiverNode + "/" + st.CaregiverID, "rule": "FREQ=DAILY",
			"time": at, "start": day, "minutes": 15,
		}, nil); err != nil {
			return fmt.Errorf("schedule: %w", err)
		}
	}
	st.Beneficiary, st.Terminal = ben.ID, term.ID
	return nil
}

func (st *State) pair(ctx context.Context, base, tok string) error {
	var p calls.Pairing
	if err := localnet.CallJSON(ctx, http.MethodPost, base+"/api/v1/calls/terminals/"+st.Terminal+"/pairing", tok, nil, &p); err != nil {
		return err
	}
	var out struct{ Credential string }
	if err := localnet.CallJSON(ctx, http.MethodPost, base+"/api/v1/calls/pair", "", map[string]string{"code": p.Code}, &out); err != nil {
		return err
	}
	st.Credential = out.Credential
	return nil
}

func (st *State) grant(ctx context.Context, base, tok, caregiverNode string) error {
	var g calls.Grant
	if err := localnet.CallJSON(ctx, http.MethodPost, base+"/api/v1/calls/grants", tok, map[string]any{
		"beneficiary": st.Beneficiary, "node": caregiverNode, "caregiver": st.CaregiverID, "name": demoCaregiverName,
		"expires": time.Now().Add(demoGrantTTL).UTC().Truncate(time.Second),
	}, &g); err != nil {
		return err
	}
	st.Grant, st.GrantExpires = g.ID, g.Expires
	return nil
}

func waitHeld(ctx context.Context, base, tok, caregiver, grant string) error {
	return localnet.Retry(ctx, 60*time.Second, 250*time.Millisecond, func() error {
		var held struct{ Items []calls.HeldGrant }
		if err := localnet.CallJSON(ctx, http.MethodGet, base+"/api/v1/calls/held?caregiver="+caregiver, tok, nil, &held); err != nil {
			return err
		}
		for _, h := range held.Items {
			if h.ID == grant {
				return nil
			}
		}
		return errors.New("not yet")
	})
}

func terminalURL(p *localnet.Proc) string { return "ws://" + p.HTTPAddr + "/ws/terminal" }

// credentialWorks tells a kept credential from one revoked since (or of a
// data directory wiped in between).
func credentialWorks(ctx context.Context, p *localnet.Proc, cred string) bool {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	tp, err := peer.Dial(ctx, peer.Config{URL: terminalURL(p), Credential: cred, Loopback: true})
	if err != nil {
		return false
	}
	tp.Close()
	return true
}

// Online says whether the demo terminal is connected to its node now.
func (d *Demo) Online() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.online
}

// Answered is how many calls the demo terminal answered.
func (d *Demo) Answered() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.calls
}

// Close stops the demo terminal and waits for it.
func (d *Demo) Close() {
	d.cancel()
	d.wg.Wait()
}

// runTerminal keeps the demo terminal connected like the terminal page:
// reconnect with backoff when the node goes away, stop for good when the
// pairing is revoked.
func (d *Demo) runTerminal(ctx context.Context) {
	backoff := time.Second
	for ctx.Err() == nil {
		tp, err := peer.Dial(ctx, peer.Config{URL: terminalURL(d.TerminalNode), Credential: d.Credential, Loopback: true})
		if err != nil {
			if websocket.CloseStatus(err) == 4001 {
				d.log.Warn("demo terminal unpaired (revoked on the node); restart the testnet to pair it again", "err", err)
				return
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(backoff):
			}
			backoff = min(backoff*2, 10*time.Second)
			continue
		}
		backoff = time.Second
		d.setOnline(true)
		d.serve(ctx, tp)
		d.setOnline(false)
		tp.Close()
	}
}

func (d *Demo) setOnline(on bool) {
	d.mu.Lock()
	d.online = on
	d.mu.Unlock()
}

// serve answers rings until the socket or ctx ends.
func (d *Demo) serve(ctx context.Context, tp *peer.Peer) {
	for {
		ring, err := tp.NextRing(ctx)
		if err != nil {
			return
		}
		d.log.Info("demo terminal ringing", "call", ring.Call, "from", ring.From, "countdown", ring.Countdown)
		// The page's countdown: the person gets a moment before it answers.
		select {
		case <-ctx.Done():
			return
		case <-tp.Done():
			return
		case <-time.After(time.Duration(ring.Countdown) * time.Second):
		}
		if err := d.answer(ctx, tp, ring); err != nil {
			d.log.Warn("demo call failed", "call", ring.Call, "err", err)
		}
	}
}

// answer holds one call: silence on the audio the caller offers, and an
// echo with a greeting on its data channel, until either side hangs up.
func (d *Demo) answer(ctx context.Context, tp *peer.Peer, ring calls.Msg) error {
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	silence, err := peer.NewSilence("difronte-demo-terminal")
	if err != nil {
		return err
	}
	var feeds sync.WaitGroup
	defer feeds.Wait()
	feeds.Add(1)
	go func() {
		defer feeds.Done()
		silence.Run(cctx)
	}()
	setup, cancel := context.WithTimeout(cctx, 30*time.Second)
	defer cancel()
	s, err := tp.AnswerMedia(setup, ring, peer.AnswerOptions{
		Tracks:        []webrtc.TrackLocal{silence.Track},
		OnDataChannel: demoEcho,
	})
	if err != nil {
		return err
	}
	defer s.Close()
	d.mu.Lock()
	d.calls++
	d.mu.Unlock()
	d.log.Info("demo call connected", "call", ring.Call)
	select {
	case r := <-s.Ended:
		d.log.Info("demo call ended", "call", ring.Call, "reason", r)
	case <-ctx.Done():
		hctx, hcancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		_ = s.Hangup(hctx)
		hcancel()
	}
	return nil
}

// demoEcho greets the caller on its data channel and echoes what it says.
func demoEcho(dc *webrtc.DataChannel) {
	dc.OnOpen(func() { _ = dc.SendText("Buongiorno! Sono il terminale demo: sto bene.") })
	dc.OnMessage(func(m webrtc.DataChannelMessage) {
		_ = dc.SendText("eco: " + strings.TrimSpace(string(m.Data)))
	})
}
