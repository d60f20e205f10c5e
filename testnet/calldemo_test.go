package testnet

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/difronte/difronte/cmd/difronte/localnet"
	"github.com/difronte/difronte/node/calls/peer"
	"github.com/difronte/difronte/testnet/calldemo"
	"github.com/difronte/difronte/testnet/poll"
)

// TestCallDemo starts two real nodes with the demo check-in and calls the
// demo terminal of node 2 as the demo caregiver of node 1, through node 1's
// socket, like the agenda's "Chiama": the call connects after the
// countdown, silence flows on the audio the caller offered, the data
// channel greets and echoes, hang-up ends it and node 2 keeps the record.
// A second calldemo.Start on the same data directory reuses the setup.
func TestCallDemo(t *testing.T) {
	bin := buildBinary(t)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	dir := t.TempDir()
	ps, err := localnet.StartProcs(ctx, localnet.ProcsConfig{Binary: bin, Nodes: 2, DataDir: dir, AdminPassword: "testnet-password-1"})
	if err != nil {
		t.Fatal(err)
	}
	defer ps.Stop()
	demo, err := calldemo.Start(ctx, ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer demo.Close()
	poll.Until(t, 20*time.Second, "the demo terminal online", demo.Online)

	a, b := ps.Nodes[0], ps.Nodes[1]
	tok, err := localnet.Login(ctx, a.URL, demo.Username, demo.Password)
	if err != nil {
		t.Fatalf("demo caregiver login: %v", err)
	}
	cg, err := peer.Dial(ctx, peer.Config{URL: "ws://" + a.HTTPAddr + "/ws/calls", Token: tok, Loopback: true,
		Receive: []webrtc.RTPCodecType{webrtc.RTPCodecTypeAudio, webrtc.RTPCodecTypeVideo}})
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	start := time.Now()
	s, err := cg.Call(ctx, demo.Beneficiary, b.PeerID)
	if err != nil {
		t.Fatalf("call the demo terminal: %v", err)
	}
	defer s.Close()
	if took := time.Since(start); took < calldemo.Countdown*time.Second {
		t.Errorf("answered after %s, before the %d s countdown", took, calldemo.Countdown)
	}
	recv := func() string {
		select {
		case m := <-s.Recv:
			return string(m)
		case <-time.After(10 * time.Second):
			t.Fatal("nothing on the data channel")
			return ""
		}
	}
	if got := recv(); got == "" {
		t.Fatal("no greeting")
	}
	if err := s.DC.SendText("ciao"); err != nil {
		t.Fatal(err)
	}
	if got := recv(); got != "eco: ciao" {
		t.Fatalf("echo = %q", got)
	}
	poll.Until(t, 10*time.Second, "audio from the demo terminal", func() bool { return s.MediaBytes() > 500 })
	if err := s.Hangup(ctx); err != nil {
		t.Fatal(err)
	}
	if demo.Answered() != 1 {
		t.Errorf("answered %d calls, want 1", demo.Answered())
	}
	btok, err := localnet.Login(ctx, b.URL, "admin", b.Password)
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 10*time.Second, "the call record on node 2", func() bool {
		var recs struct {
			Items []struct {
				Answered bool
				Ended    time.Time
			}
		}
		if localnet.CallJSON(ctx, "GET", b.URL+"/api/v1/calls/records?beneficiary="+demo.Beneficiary, btok, nil, &recs) != nil {
			return false
		}
		return len(recs.Items) == 1 && recs.Items[0].Answered && !recs.Items[0].Ended.IsZero()
	})
	demo.Close()
	poll.Until(t, 10*time.Second, "the demo terminal offline", func() bool { return !demo.Online() })

	// A second run on the same data directory keeps the accounts, the
	// beneficiary, the pairing and the grant.
	raw, err := os.ReadFile(filepath.Join(dir, calldemo.StateFile))
	if err != nil {
		t.Fatal(err)
	}
	var before calldemo.State
	if err := json.Unmarshal(raw, &before); err != nil {
		t.Fatal(err)
	}
	again, err := calldemo.Start(ctx, ps, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if again.Beneficiary != before.Beneficiary || again.Credential != before.Credential || again.Password != before.Password {
		t.Errorf("second run made a new setup: %+v, was %+v", again, before)
	}
}
