package federation

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/hex"
	"flag"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"
	"github.com/libp2p/go-libp2p/core/protocol"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
)

// The stream protocols between nodes are wire formats: a node of the
// current release must talk to one of the last. These tests pin the bytes
// each side of each protocol puts on a stream, captured by a raw peer at
// the other end, against hex dumps in testdata/wire. Rewrite them with
// -update only for a deliberate, versioned protocol change.

func init() {
	if flag.Lookup("update") == nil {
		flag.Bool("update", false, "rewrite golden files under testdata/")
	}
}

func updateGolden() bool {
	f := flag.Lookup("update")
	return f != nil && f.Value.String() == "true"
}

func checkWire(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "wire", name+".hex")
	dump := hex.Dump(got)
	if updateGolden() {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(dump), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != dump {
		t.Errorf("%s: wire bytes changed\n got:\n%s\nwant:\n%s", name, dump, want)
	}
}

// frame is a 4-byte big-endian length and the payload, built by hand so
// that the raw peers do not depend on the code under test.
func frame(s string) []byte {
	return append(binary.BigEndian.AppendUint32(nil, uint32(len(s))), s...)
}

func wirePair(t *testing.T) (host.Host, host.Host) {
	t.Helper()
	mn, err := mocknet.FullMeshConnected(2)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mn.Close() })
	return mn.Hosts()[0], mn.Hosts()[1]
}

// capture serves proto on h with a raw handler: it writes reply, before
// reading when replyFirst (the peer sends nothing and waits), then hands
// over every byte the peer sent until it closed its side.
func capture(h host.Host, proto protocol.ID, reply []byte, replyFirst bool) <-chan []byte {
	got := make(chan []byte, 1)
	h.SetStreamHandler(proto, func(s network.Stream) {
		defer s.Close()
		_ = s.SetDeadline(time.Now().Add(10 * time.Second))
		if replyFirst {
			_, _ = s.Write(reply)
		}
		b, _ := io.ReadAll(s)
		if !replyFirst {
			_, _ = s.Write(reply)
		}
		got <- b
	})
	return got
}

// call opens proto to p, writes req, closes its side and returns every
// byte the server answered until it closed.
func call(t *testing.T, h host.Host, p peer.ID, proto protocol.ID, req []byte) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s, err := h.NewStream(ctx, p, proto)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	_ = s.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := s.Write(req); err != nil {
		t.Fatal(err)
	}
	_ = s.CloseWrite()
	b, err := io.ReadAll(s)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

type fixedApply struct{}

func (fixedApply) HandleApply(_ context.Context, _ peer.ID, req ApplyRequest) ApplyResponse {
	if req.Op != ApplyStatus {
		return ApplyResponse{Error: "unknown operation"}
	}
	return ApplyResponse{Applications: []ApplicationState{{ID: "a1", State: "approved", Message: "ok",
		Updated: time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC), Credential: "eyJ.x.y"}}}
}

func TestWireApply(t *testing.T) {
	a, b := wirePair(t)
	got := capture(b, ApplyProtocolID, frame(`{"applications":[{"id":"a1","state":"submitted","updated":"0001-01-01T00:00:00Z"}]}`), false)
	form := &ApplicationForm{ID: "a1", CoopName: "Coop", Categories: []string{"anziani"}, Municipalities: []string{"080063"},
		Description: "Visite.", Attachments: []Attachment{{Name: "a.pdf", Type: "application/pdf", Data: []byte("%PDF-1.4")}}}
	resp, err := SendApply(context.Background(), a, b.ID(), ApplyRequest{Op: ApplySubmit, Form: form})
	if err != nil || len(resp.Applications) != 1 {
		t.Fatalf("answer %+v, %v", resp, err)
	}
	checkWire(t, "apply-request", <-got)

	stop := ServeApply(b, fixedApply{})
	defer stop()
	checkWire(t, "apply-response", call(t, a, b.ID(), ApplyProtocolID, frame(`{"op":"status"}`)))
	checkWire(t, "apply-refused", call(t, a, b.ID(), ApplyProtocolID, frame(`{"op":"submit"}`)))
	checkWire(t, "apply-empty", call(t, a, b.ID(), ApplyProtocolID, frame(``)))
	checkWire(t, "apply-unknown-field", call(t, a, b.ID(), ApplyProtocolID, frame(`{"op":"status","x":1}`)))
	checkWire(t, "apply-trailing", call(t, a, b.ID(), ApplyProtocolID, frame(`{"op":"status"} {}`)))
	checkWire(t, "apply-oversized", call(t, a, b.ID(), ApplyProtocolID, binary.BigEndian.AppendUint32(nil, MaxApplyFrame+1)))
}

func TestWireOutcome(t *testing.T) {
	a, b := wirePair(t)
	got := capture(b, OutcomeProtocolID, frame(`{"ok":true}`), false)
	la := NewOutcomeLink(a, func(context.Context, string, []byte) []byte { return nil })
	defer la.Close()
	resp, err := la.Send(context.Background(), b.ID().String(), []byte(`{"call":"c1","outcome":"well"}`))
	if err != nil || string(resp) != `{"ok":true}` {
		t.Fatalf("answer %q, %v", resp, err)
	}
	checkWire(t, "outcome-request", <-got)

	lb := NewOutcomeLink(b, func(_ context.Context, _ string, req []byte) []byte { return append([]byte("re:"), req...) })
	defer lb.Close()
	checkWire(t, "outcome-response", call(t, a, b.ID(), OutcomeProtocolID, frame(`{"call":"c1"}`)))
	checkWire(t, "outcome-empty", call(t, a, b.ID(), OutcomeProtocolID, frame(``)))
}

func TestWireSignal(t *testing.T) {
	a, b := wirePair(t)
	got := capture(b, SignalProtocol, frame("answer"), true)
	sa := NewSignal(a, SignalLimits{}, func(*SignalConn) {}, nil)
	defer sa.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := sa.Open(ctx, b.ID().String())
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{`{"type":"offer","sdp":"v=0"}`, ``, `{"type":"candidate"}`} {
		if err := c.Write([]byte(f)); err != nil {
			t.Fatal(err)
		}
	}
	if f, err := c.Read(); err != nil || string(f) != "answer" {
		t.Fatalf("read %q, %v", f, err)
	}
	c.Close()
	checkWire(t, "signal-client", <-got)

	sb := NewSignal(b, SignalLimits{}, func(c *SignalConn) {
		for {
			f, err := c.Read()
			if err != nil {
				return
			}
			if c.Write(append([]byte("echo:"), f...)) != nil {
				return
			}
		}
	}, nil)
	defer sb.Close()
	checkWire(t, "signal-server", call(t, a, b.ID(), SignalProtocol, append(frame("hi"), frame("")...)))
}

func TestWireMembers(t *testing.T) {
	a, b := wirePair(t)
	got := capture(b, MembersProtocol, []byte("127.0.0.1:7946\n"), true)
	addr, err := fetchMembersAddr(context.Background(), a, b.ID())
	if err != nil || addr != "127.0.0.1:7946" {
		t.Fatalf("address %q, %v", addr, err)
	}
	checkWire(t, "members-request", <-got)

	serveMembersAddr(b, func() string { return "10.0.0.7:7946" })
	checkWire(t, "members-response", call(t, a, b.ID(), MembersProtocol, nil))
	if !bytes.Equal(call(t, a, b.ID(), MembersProtocol, nil), []byte("10.0.0.7:7946\n")) {
		t.Error("members answer is not one host:port line")
	}
}
