package testnet

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p"
	"github.com/libp2p/go-libp2p/core/crypto"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/p2p/transport/tcp"
	ma "github.com/multiformats/go-multiaddr"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/nodetest"
	"github.com/difronte/difronte/testnet/poll"
)

// recorder is a TCP proxy that keeps every byte it forwards.
type recorder struct {
	ln     net.Listener
	target string
	mu     sync.Mutex
	buf    bytes.Buffer
	wg     sync.WaitGroup
	conns  []net.Conn
}

func newRecorder(t *testing.T) *recorder {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &recorder{ln: ln}
	r.wg.Add(1)
	go func() {
		defer r.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			r.mu.Lock()
			target := r.target
			r.mu.Unlock()
			up, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			r.mu.Lock()
			r.conns = append(r.conns, c, up)
			r.mu.Unlock()
			r.wg.Add(2)
			go r.pipe(up, c)
			go r.pipe(c, up)
		}
	}()
	return r
}

func (r *recorder) pipe(dst, src net.Conn) {
	defer r.wg.Done()
	b := make([]byte, 32<<10)
	for {
		n, err := src.Read(b)
		if n > 0 {
			r.mu.Lock()
			r.buf.Write(b[:n])
			r.mu.Unlock()
			if _, werr := dst.Write(b[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			dst.Close()
			return
		}
	}
}

func (r *recorder) setTarget(t string) {
	r.mu.Lock()
	r.target = t
	r.mu.Unlock()
}

func (r *recorder) bytes() []byte {
	r.mu.Lock()
	defer r.mu.Unlock()
	return bytes.Clone(r.buf.Bytes())
}

func (r *recorder) close() {
	r.ln.Close()
	r.mu.Lock()
	for _, c := range r.conns {
		c.Close()
	}
	r.mu.Unlock()
	r.wg.Wait()
}

// plainHost is a libp2p host without transport encryption, listening on
// loopback and announcing only the address of a recording proxy in front
// of it, so every byte other nodes exchange with it crosses the recorder
// in clear text.
func plainHost(t *testing.T, key ed25519.PrivateKey) (host.Host, *recorder) {
	t.Helper()
	priv, err := crypto.UnmarshalEd25519PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	rec := newRecorder(t)
	proxied, _ := ma.NewMultiaddr(fmt.Sprintf("/ip4/127.0.0.1/tcp/%d", rec.ln.Addr().(*net.TCPAddr).Port))
	h, err := libp2p.New(libp2p.Identity(priv), libp2p.NoSecurity, libp2p.Transport(tcp.NewTCPTransport),
		libp2p.ListenAddrStrings("/ip4/127.0.0.1/tcp/0"), libp2p.DisableRelay(),
		libp2p.AddrsFactory(func([]ma.Multiaddr) []ma.Multiaddr { return []ma.Multiaddr{proxied} }))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range h.Network().ListenAddresses() {
		if p, err := a.ValueForProtocol(ma.P_TCP); err == nil {
			rec.setTarget("127.0.0.1:" + p)
		}
	}
	return h, rec
}

// TestPrivateDataNeverLeaves seeds canary strings in every private field
// of a node and checks that none of their bytes appear in what the node
// sends and receives over libp2p (recorded in clear text) while it
// publishes offerings, gossips and answers catch-up, nor in what it hands
// to membership. A public offering name must appear: the recorder sees
// the traffic.
func TestPrivateDataNeverLeaves(t *testing.T) {
	ctx := context.Background()
	var keys [2]ed25519.PrivateKey
	var hosts [2]host.Host
	var recs [2]*recorder
	for i := range keys {
		_, keys[i], _ = ed25519.GenerateKey(rand.Reader)
		hosts[i], recs[i] = plainHost(t, keys[i])
		defer recs[i].close()
		defer hosts[i].Close()
	}
	var nodes [2]*node.Node
	for i := range nodes {
		cfg := node.Config{
			CoopName: fmt.Sprintf("Coop %d", i), Key: keys[i], Store: store.NewMemory(),
			HTTPAddr: "127.0.0.1:0", AdminPassword: "privacy-test-pw", Argon: auth.Params{Memory: 64, Time: 1, Threads: 1},
			P2PHost: hosts[i], FederationSecret: "privacy", MembersAddr: "127.0.0.1:0", MembersAdvertise: "127.0.0.1",
		}
		if i == 1 {
			cfg.Bootstrap = []string{hosts[0].Addrs()[0].String() + "/p2p/" + hosts[0].ID().String()}
		}
		n := nodetest.Start(t, cfg)[0] // node 1 bootstraps from node 0: one at a time
		defer n.Close()
		nodes[i] = n
	}
	a := nodes[0]
	admin := auth.Actor{Username: "admin", Role: auth.Admin, Remote: "127.0.0.1"}
	canary := func(field string) string { return "CANARY" + strings.ToUpper(field) + "X7Q" }
	var canaries []string
	c := func(f string) string { s := canary(f); canaries = append(canaries, s); return s }

	cg, err := a.Care().CreateCaregiver(ctx, admin, care.Caregiver{Name: c("cgname"), Phone: "+39 02 1234567", Email: "canarycg@example.org",
		Languages: []string{"it"}, Availability: c("cgavail"), Notes: c("cgnotes")})
	if err != nil {
		t.Fatal(err)
	}
	canaries = append(canaries, "canarycg@example.org", "+39 02 1234567")
	b, err := a.Care().CreateBeneficiary(ctx, admin, care.Beneficiary{
		Name: c("bname"), Address: c("baddress"), Municipality: "015146", Phone: "+39 02 7654321",
		Fragility: []string{"alone"}, Notes: c("bnotes"), Caregivers: []string{cg.ID},
		Contacts: []care.Contact{{Kind: "family", Name: c("contactname"), Relation: c("relation"), Email: "canaryfamily@example.org"}},
		Consent:  care.Consent{Given: true, Date: "2026-01-10", CollectedBy: c("consentby"), Scope: c("consentscope")},
	})
	if err != nil {
		t.Fatal(err)
	}
	canaries = append(canaries, "canaryfamily@example.org", "+39 02 7654321", b.ID, cg.ID)
	tm, err := a.Care().CreateTerminal(ctx, admin, care.Terminal{Label: c("tlabel"), Model: c("tmodel"), CPU: c("tcpu"),
		State: "delivered", Beneficiary: b.ID, Notes: c("tnotes")})
	if err != nil {
		t.Fatal(err)
	}
	canaries = append(canaries, tm.ID)
	if _, err := a.Care().Beneficiary(ctx, admin, b.ID); err != nil { // an audited read
		t.Fatal(err)
	}

	public := "Servizio pubblico di compagnia"
	o, err := a.Own().Create(ctx, admin, schema.Offering{Name: public, Description: "Visite e telefonate.", Category: "anziani.assistenza-domiciliare",
		Cost: schema.Cost{Type: schema.CostFree}, Delivery: schema.DeliveryIndividual, Areas: []string{"015146"}, Languages: []string{"it"},
		Contact: schema.Contact{Email: "info@coop.example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	poll.Until(t, 20*time.Second, "the offering to reach the second node", func() bool {
		_, err := nodes[1].Catalogue().Get(ctx, a.PeerID(), o.ID)
		return err == nil
	})
	// One more catch-up round in each direction, over the recorded links.
	for _, n := range nodes {
		if _, err := n.SyncAll(ctx); err != nil {
			t.Fatal(err)
		}
	}

	var traffic []byte
	for _, r := range recs {
		traffic = append(traffic, r.bytes()...)
	}
	if !bytes.Contains(traffic, []byte(public)) {
		t.Fatalf("recorder saw %d bytes but not the public offering: it does not see the traffic", len(traffic))
	}
	meta := a.MembersMeta()
	for _, s := range canaries {
		if bytes.Contains(traffic, []byte(s)) {
			t.Errorf("private value %q crossed libp2p", s)
		}
		if strings.Contains(fmt.Sprint(meta), s) {
			t.Errorf("private value %q is in membership metadata", s)
		}
	}
}
