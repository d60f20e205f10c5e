package node_test

import (
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// Redial timing: the loop under test ticks every fastRedial; slowRedial
// keeps a node's loop from ticking at all within a test. redialQuiet is
// how long a pair without the loop must stay apart: ten ticks of the fast
// loop, so the control has had every chance the positive case had.
// redialDeadline bounds every wait, for a loaded machine.
const (
	fastRedial     = 200 * time.Millisecond
	slowRedial     = time.Hour
	redialQuiet    = 2 * time.Second
	redialDeadline = 15 * time.Second
)

// fedNode is a federated node on loopback: libp2p on TCP, membership on
// UDP/TCP with the LAN profile, HTTP on a free port.
type fedNode struct {
	*node.Node
	id  peer.ID
	log *syncBuffer
}

// startFed starts federated nodes in parallel, with membership on the
// LAN profile and a debug log that the test prints if it fails, and
// closes them when the test ends.
func startFed(t *testing.T, cfgs ...node.Config) []*fedNode {
	t.Helper()
	out := make([]*fedNode, len(cfgs))
	for i := range cfgs {
		cfgs[i].MembersProfile = "lan"
		out[i] = &fedNode{log: &syncBuffer{}}
		cfgs[i].Logger = slog.New(slog.NewTextHandler(out[i].log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, n := range out {
				t.Logf("log of node %d (%s):\n%s", i, n.id, n.log)
			}
		}
	})
	for i, n := range nodetest.Start(t, cfgs...) {
		id, err := peer.Decode(n.PeerID())
		if err != nil {
			t.Fatal(err)
		}
		out[i].Node, out[i].id = n, id
	}
	return out
}

// connected reports whether a holds a libp2p connection to b.
func (a *fedNode) connected(b *fedNode) bool {
	return a.Federation().Host().Network().Connectedness(b.id) == network.Connected
}

// disconnect closes every libp2p connection between a and b, on both
// sides, as a network failure would.
func disconnect(t *testing.T, a, b *fedNode) {
	t.Helper()
	if err := a.Federation().Host().Network().ClosePeer(b.id); err != nil {
		t.Fatal(err)
	}
	if err := b.Federation().Host().Network().ClosePeer(a.id); err != nil {
		t.Fatal(err)
	}
}

// member returns b as a's membership and libp2p view show it on the
// public peers endpoint. Addrs come only from membership, so a non-empty
// Addrs means membership knows b, and the libp2p addresses there are the
// ones the redial loop dials.
func (a *fedNode) member(t *testing.T, b *fedNode) (catalogue.Coop, bool) {
	t.Helper()
	resp, err := http.Get(a.URL() + "/api/v1/federation/peers")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out struct{ Peers []catalogue.Coop }
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	for _, c := range out.Peers {
		if c.PeerID == b.PeerID() && len(c.Addrs) > 0 {
			return c, true
		}
	}
	return catalogue.Coop{}, false
}

// settled reports whether every node sees each listed peer as a
// subscriber of every gossip topic and, with membership, as a member.
// Both take work that starts when a connection opens and that opens
// streams of its own (gossipsub's stream, the membership join, and the
// catch-up that runs first): a stream opened to a peer that is no longer
// connected dials it again, so a pair is cut only after that work is
// done. Otherwise the control below could see a reconnection that is not
// the redial loop's. (Cut early instead, the join fails on the cut and
// the control's membership never learns its peer: the control would then
// prove nothing about the member half of the loop.)
func settled(t *testing.T, membership bool, peers map[*fedNode][]*fedNode) bool {
	t.Helper()
	for n, others := range peers {
		for _, tp := range n.Federation().TopicPeers() {
			if tp < len(others) {
				return false
			}
		}
		if !membership {
			continue
		}
		for _, o := range others {
			if _, ok := n.member(t, o); !ok {
				return false
			}
		}
	}
	return true
}

// dialedSince reports whether a holds a connection to b that a dialed
// after t0: a new link of a's making, not one that survived a cut.
func (a *fedNode) dialedSince(b *fedNode, t0 time.Time) bool {
	return slices.ContainsFunc(a.Federation().Host().Network().ConnsToPeer(b.id), func(c network.Conn) bool {
		st := c.Stat()
		return st.Direction == network.DirOutbound && st.Opened.After(t0)
	})
}

// TestRedialReconnectsBootstrapPeer cuts three pairs of nodes, each a
// node B bootstrapped from a node A, at the same moment:
//
//   - B runs the redial loop, and A is also its member: B must dial A again.
//   - B runs the loop without a federation secret, so its membership is
//     itself alone and the bootstrap list is the loop's only target: B
//     must dial A again.
//   - the control: as the first pair, but no loop ticks. The pair must
//     stay apart for the whole window: nothing else in the node
//     (membership, catch-up, gossipsub) dials a lost peer.
//
// A's loop never ticks in any pair, so a reconnection is B's doing.
func TestRedialReconnectsBootstrapPeer(t *testing.T) {
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	as := startFed(t,
		node.Config{CoopName: "A", FederationSecret: "redial pair", RedialInterval: slowRedial},
		node.Config{CoopName: "A lone", RedialInterval: slowRedial},
		node.Config{CoopName: "A control", FederationSecret: "control pair", RedialInterval: slowRedial},
	)
	a, la, ca := as[0], as[1], as[2]
	bs := startFed(t,
		node.Config{CoopName: "B", FederationSecret: "redial pair", RedialInterval: fastRedial, Bootstrap: a.Info().Addrs},
		node.Config{CoopName: "B lone", RedialInterval: fastRedial, Bootstrap: la.Info().Addrs},
		node.Config{CoopName: "B control", FederationSecret: "control pair", RedialInterval: slowRedial, Bootstrap: ca.Info().Addrs},
	)
	b, lb, cb := bs[0], bs[1], bs[2]
	if !poll.Wait(redialDeadline, 20*time.Millisecond, func() bool {
		return settled(t, true, map[*fedNode][]*fedNode{a: {b}, b: {a}, ca: {cb}, cb: {ca}}) &&
			settled(t, false, map[*fedNode][]*fedNode{la: {lb}, lb: {la}})
	}) {
		t.Fatal("membership and gossip did not settle")
	}

	cut := time.Now()
	disconnect(t, a, b)
	disconnect(t, la, lb)
	disconnect(t, ca, cb)
	var back, loneBack time.Duration
	if !poll.Wait(redialDeadline, 20*time.Millisecond, func() bool {
		if ca.connected(cb) || cb.connected(ca) {
			t.Fatalf("control pair reconnected %v after the cut, with no redial loop running", time.Since(cut))
		}
		if back == 0 && b.connected(a) {
			back = time.Since(cut)
		}
		if loneBack == 0 && lb.connected(la) {
			loneBack = time.Since(cut)
		}
		return back > 0 && loneBack > 0 && time.Since(cut) >= redialQuiet
	}) {
		t.Fatalf("within %v of the cut, B reconnected: %v, lone B reconnected: %v", redialDeadline, back > 0, loneBack > 0)
	}
	if !b.dialedSince(a, cut) {
		t.Error("B is connected to A again, but not over a connection it dialed after the cut")
	}
	if !lb.dialedSince(la, cut) {
		t.Error("lone B is connected to A again, but not over a connection it dialed after the cut")
	}
	// The control had what the loop needs: its bootstrap address, and A
	// online in membership (Online here comes from membership alone: the
	// pair is not connected).
	if c, ok := cb.member(t, ca); !ok || !c.Online {
		t.Errorf("control B does not see A online in membership: %+v", c)
	}
	t.Logf("B reconnected %v after the cut, lone B %v; the control stayed apart for %v",
		back.Round(time.Millisecond), loneBack.Round(time.Millisecond), time.Since(cut).Round(time.Millisecond))
}

// TestRedialConnectsMembers starts B and C bootstrapped from A only. C
// learns B from membership, and the redial loop (C's or B's: each sees
// the other online) links them directly. A control triangle without the
// loop shows that nothing else does: its B and C know each other from
// membership and stay apart (gossipsub's peer exchange, for one, could
// link them, but does not in a mesh this small).
func TestRedialConnectsMembers(t *testing.T) {
	t.Cleanup(http.DefaultClient.CloseIdleConnections)
	as := startFed(t,
		node.Config{CoopName: "A", FederationSecret: "triangle", RedialInterval: fastRedial},
		node.Config{CoopName: "A control", FederationSecret: "control triangle", RedialInterval: slowRedial},
	)
	a, ca := as[0], as[1]
	started := time.Now()
	ns := startFed(t,
		node.Config{CoopName: "B", FederationSecret: "triangle", RedialInterval: fastRedial, Bootstrap: a.Info().Addrs},
		node.Config{CoopName: "C", FederationSecret: "triangle", RedialInterval: fastRedial, Bootstrap: a.Info().Addrs},
		node.Config{CoopName: "B control", FederationSecret: "control triangle", RedialInterval: slowRedial, Bootstrap: ca.Info().Addrs},
		node.Config{CoopName: "C control", FederationSecret: "control triangle", RedialInterval: slowRedial, Bootstrap: ca.Info().Addrs},
	)
	b, c, cb, cc := ns[0], ns[1], ns[2], ns[3]
	apart := func() {
		if cc.connected(cb) || cb.connected(cc) {
			t.Fatalf("control B and C connected %v after start, with no redial loop running", time.Since(started))
		}
	}
	if !poll.Wait(redialDeadline, 20*time.Millisecond, func() bool {
		apart()
		return c.connected(b) && b.connected(c)
	}) {
		t.Fatalf("C and B did not connect directly within %v", redialDeadline)
	}
	linked := time.Since(started)
	if m, ok := c.member(t, b); !ok || !m.Online {
		t.Errorf("C does not see B in membership: %+v", m)
	}
	var known time.Time
	if !poll.Wait(redialDeadline, 20*time.Millisecond, func() bool {
		apart()
		_, ok1 := cc.member(t, cb)
		_, ok2 := cb.member(t, cc)
		if ok1 && ok2 && known.IsZero() {
			known = time.Now()
		}
		return !known.IsZero() && time.Since(known) >= redialQuiet
	}) {
		t.Fatalf("control B and C did not learn each other from membership within %v", redialDeadline)
	}
	t.Logf("C and B connected %v after they began to start; the control pair stayed apart for %v after membership linked it",
		linked.Round(time.Millisecond), time.Since(known).Round(time.Millisecond))
}
