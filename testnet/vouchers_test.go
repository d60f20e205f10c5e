package testnet

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/node/vouchers"
	"github.com/difronte/difronte/schema"
)

// voucherNet is four in-process nodes with a voucher service each: 0 the
// authority, 1 the citizen's home node, 2 the provider, 3 a bystander
// (and a second provider). Every service verifies against the authority's
// key, which names node 0 as the authority's node.
type voucherNet struct {
	t    *testing.T
	net  *InProc
	clk  *fakeclock.Clock
	svcs []*vouchers.Service
	// trust is the trust set every service verifies with.
	trust *schema.TrustSet
	// bytes counts, per node, the voucher-protocol request bytes it
	// received (a bystander must receive none).
	got []int
}

var (
	citizenLucia = auth.Actor{Username: "lucia", Role: vouchers.Citizen}
	providerAdm  = auth.Actor{Username: "admin", Role: auth.Admin}
)

func newVoucherNet(t *testing.T) *voucherNet {
	net := NewInProc(t, 4, Options{Seed: 9})
	v := &voucherNet{t: t, net: net, clk: fakeclock.New(time.Date(2026, 12, 3, 9, 0, 0, 0, time.UTC)), got: make([]int, 4)}
	keys, err := qualify.GenerateKey(filepath.Join(t.TempDir(), "authority.jwk"), v.clk.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	trust, err := schema.NewTrustSet(keys.Public("Comune di Bologna", []string{"037006"}, net.Nodes[0].Host.ID().String()))
	if err != nil {
		t.Fatal(err)
	}
	v.trust = trust
	priv, k, err := keys.Current()
	if err != nil {
		t.Fatal(err)
	}
	for i, n := range net.Nodes {
		cfg := vouchers.Config{Self: n.Host.ID().String(), Trust: trust, Store: dssync.MutexWrap(datastore.NewMapDatastore()),
			Audit: openAudit(t), Clock: v.clk,
			Send: func(ctx context.Context, to string, req federation.VoucherRequest) (federation.VoucherResponse, error) {
				pid, err := peer.Decode(to)
				if err != nil {
					return federation.VoucherResponse{}, err
				}
				return federation.SendVoucher(ctx, n.Host, pid, req)
			}}
		if i == 0 {
			cfg.Signer = &vouchers.Signer{Key: priv, Kid: k.Kid, Issuer: k.Issuer, Name: "Comune di Bologna"}
		}
		svc, err := vouchers.Open(context.Background(), cfg)
		if err != nil {
			t.Fatal(err)
		}
		v.svcs = append(v.svcs, svc)
		t.Cleanup(federation.ServeVoucher(n.Host, countingHandler{svc, &v.got[i]}))
	}
	return v
}

// countingHandler counts the token bytes of the requests a node gets.
type countingHandler struct {
	h federation.VoucherHandler
	n *int
}

func (c countingHandler) HandleVoucher(ctx context.Context, from peer.ID, req federation.VoucherRequest) federation.VoucherResponse {
	*c.n += len(req.Token)
	return c.h.HandleVoucher(ctx, from, req)
}

func (v *voucherNet) issue(ctx context.Context, cents int64, until time.Duration) vouchers.IssuedVoucher {
	v.t.Helper()
	w, _, err := v.svcs[1].WalletOf(ctx, citizenLucia)
	if err != nil {
		v.t.Fatal(err)
	}
	iv, err := v.svcs[0].Issue(ctx, qualOfficer, vouchers.IssueInput{Home: v.net.Nodes[1].Host.ID().String(), Wallet: w.ID,
		AmountCents: cents, Categories: []string{"anziani"}, ValidUntil: v.clk.Now().Add(until)})
	if err != nil || iv.State != vouchers.Delivered {
		v.t.Fatalf("issue: %+v %v", iv, err)
	}
	return iv
}

func reason(err error) string {
	if p := problem.As(err); p != nil {
		return p.Code
	}
	return ""
}

// TestVoucherIssuedRedeemedOnce: a municipality's voucher reaches the
// citizen's home node privately, is redeemed once by the provider the
// citizen paid, and a second redemption (another case, another provider)
// is refused; a revoked, an expired, an oversized and a forged voucher are
// refused too; the bystander never receives a byte of any of it.
func TestVoucherIssuedRedeemedOnce(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v := newVoucherNet(t)
	iv := v.issue(ctx, 25000, 180*24*time.Hour)
	held, err := v.svcs[1].Held(ctx, citizenLucia)
	if err != nil || len(held) != 1 || held[0].ID != iv.ID || held[0].AmountCents != 25000 || held[0].Authority != "Comune di Bologna" {
		t.Fatalf("held on the home node: %+v %v", held, err)
	}
	if other, _ := v.svcs[2].Held(ctx, citizenLucia); len(other) != 0 {
		t.Fatalf("another node holds the voucher: %+v", other)
	}

	// Redeemed once by the provider, idempotent for the same case.
	r, err := v.svcs[2].Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: held[0].Token, Case: "case-1", AmountCents: 25000, Category: "anziani.pasti"})
	if err != nil || r.At.IsZero() || r.Peer != v.net.Nodes[0].Host.ID().String() {
		t.Fatalf("redeem: %+v %v", r, err)
	}
	if again, err := v.svcs[2].Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: held[0].Token, Case: "case-1", AmountCents: 25000}); err != nil || !again.At.Equal(r.At) {
		t.Fatalf("retried redemption: %+v %v, want the first one back", again, err)
	}
	for _, c := range []struct {
		node int
		cs   string
	}{{2, "case-2"}, {3, "case-1"}} {
		if _, err := v.svcs[c.node].Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: held[0].Token, Case: c.cs, AmountCents: 100}); reason(err) != vouchers.ReasonRedeemed {
			t.Fatalf("second redemption by node %d for %s: %v, want %s", c.node, c.cs, err, vouchers.ReasonRedeemed)
		}
	}
	issued, _ := v.svcs[0].IssuedList(ctx, qualOfficer)
	if len(issued) != 1 || issued[0].State != vouchers.Redeemed || issued[0].Redemption.Case != "case-1" {
		t.Fatalf("the authority's record: %+v", issued)
	}

	// Revoked before it is spent.
	rv := v.issue(ctx, 5000, 24*time.Hour)
	if _, err := v.svcs[0].Revoke(ctx, qualOfficer, rv.ID, "doppio contributo"); err != nil {
		t.Fatal(err)
	}
	if _, err := v.svcs[2].Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: rv.Token, Case: "case-3", AmountCents: 5000}); reason(err) != vouchers.ReasonRevoked {
		t.Fatalf("revoked voucher: %v", err)
	}
	if _, err := v.svcs[0].Revoke(ctx, qualOfficer, iv.ID, "tardi"); reason(err) != "already_redeemed" {
		t.Fatalf("revoking a spent voucher: %v", err)
	}

	// More than the voucher's amount; a category it does not cover.
	small := v.issue(ctx, 100, 24*time.Hour)
	if _, err := v.svcs[2].Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: small.Token, Case: "case-4", AmountCents: 200}); reason(err) != vouchers.ReasonAmountTooLarge {
		t.Fatalf("amount above the voucher: %v", err)
	}
	if _, err := v.svcs[2].Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: small.Token, Case: "case-4", AmountCents: 100, Category: "minori"}); reason(err) != vouchers.ReasonCategoryMissing {
		t.Fatalf("category not covered: %v", err)
	}

	// A voucher signed by a key nobody trusts: refused by the provider,
	// and by the authority if sent to it directly.
	forged := forgeVoucher(t, v, small.Token)
	if _, err := v.svcs[2].Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: forged, Case: "case-5", AmountCents: 100}); reason(err) != "voucher_invalid" {
		t.Fatalf("forged voucher at the provider: %v", err)
	}
	if _, err := federation.SendVoucher(ctx, v.net.Nodes[3].Host, v.net.Nodes[0].Host.ID(), federation.VoucherRequest{Op: federation.VoucherRedeem, Token: forged, Case: "x", AmountCents: 1}); err == nil || !strings.Contains(err.Error(), vouchers.ReasonUnknown) {
		t.Fatalf("forged voucher sent to the authority: %v", err)
	}

	// Expired: the provider refuses it, and so does the authority.
	v.clk.Advance(25 * time.Hour)
	if _, err := v.svcs[2].Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: small.Token, Case: "case-6", AmountCents: 100}); reason(err) != "voucher_invalid" {
		t.Fatalf("expired voucher at the provider: %v", err)
	}
	if _, err := federation.SendVoucher(ctx, v.net.Nodes[2].Host, v.net.Nodes[0].Host.ID(), federation.VoucherRequest{Op: federation.VoucherRedeem, Token: small.Token, Case: "case-6", AmountCents: 100}); err == nil || !strings.Contains(err.Error(), vouchers.ReasonExpired) {
		t.Fatalf("expired voucher at the authority: %v", err)
	}

	// Wrong roles change nothing.
	if _, err := v.svcs[0].Issue(ctx, providerAdm, vouchers.IssueInput{}); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("an admin issued a voucher: %v", err)
	}
	if _, err := v.svcs[2].Redeem(ctx, citizenLucia, vouchers.RedeemInput{Token: small.Token, Case: "c", AmountCents: 1}); !errors.Is(err, problem.ErrForbidden) {
		t.Fatalf("a citizen redeemed: %v", err)
	}
	if v.got[3] != 0 {
		t.Fatalf("the bystander received %d bytes of vouchers", v.got[3])
	}
}

// forgeVoucher re-signs the payload of token with a key nobody trusts,
// under the trusted key's kid.
func forgeVoucher(t *testing.T, v *voucherNet, token string) string {
	t.Helper()
	tk, err := schema.ParseToken(token)
	if err != nil {
		t.Fatal(err)
	}
	seed := make([]byte, ed25519.SeedSize)
	seed[0] = 7
	out, err := schema.SignCredential(ed25519.NewKeyFromSeed(seed), tk.KeyID, json.RawMessage(tk.Payload()))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
