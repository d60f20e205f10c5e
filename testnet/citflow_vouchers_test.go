package testnet

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/ipfs/go-datastore"
	dssync "github.com/ipfs/go-datastore/sync"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/vouchers"
)

// caseBook is a provider's cases as vouchers see them.
type caseBook struct {
	mu    sync.Mutex
	known map[string]bool
	got   []vouchers.Redemption
}

func (b *caseBook) Known(id string) bool { return b.known[id] }

func (b *caseBook) Redeemed(_ context.Context, _ auth.Actor, r vouchers.Redemption) error {
	b.mu.Lock()
	b.got = append(b.got, r)
	b.mu.Unlock()
	return nil
}

// TestVoucherRedeemedForACase: with the provider's cases wired in, a
// voucher is redeemed only for a case the provider holds (an unknown case
// is refused before the authority hears of it), and the redemption is
// handed to the case, once.
func TestVoucherRedeemedForACase(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	v := newVoucherNet(t)
	iv := v.issue(ctx, 12500, 180*24*time.Hour)
	held, err := v.svcs[1].Held(ctx, citizenLucia)
	if err != nil || len(held) != 1 {
		t.Fatalf("held: %+v %v", held, err)
	}
	h := v.net.Nodes[2].Host
	book := &caseBook{known: map[string]bool{"pr-1": true}}
	prov, err := vouchers.Open(ctx, vouchers.Config{Self: h.ID().String(), Trust: v.trust, Store: dssync.MutexWrap(datastore.NewMapDatastore()),
		Audit: openAudit(t), Clock: v.clk, Cases: book,
		Send: func(ctx context.Context, to string, req federation.VoucherRequest) (federation.VoucherResponse, error) {
			pid, err := peer.Decode(to)
			if err != nil {
				return federation.VoucherResponse{}, err
			}
			return federation.SendVoucher(ctx, h, pid, req)
		}})
	if err != nil {
		t.Fatal(err)
	}
	sent := v.got[0]
	if _, err := prov.Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: held[0].Token, Case: "pr-nope", AmountCents: 12500}); reason(err) != "unknown_case" {
		t.Fatalf("a redemption for an unknown case: %v", err)
	}
	if v.got[0] != sent || len(book.got) != 0 {
		t.Fatal("the authority heard of a redemption for an unknown case")
	}
	r, err := prov.Redeem(ctx, providerAdm, vouchers.RedeemInput{Token: held[0].Token, Case: "pr-1", AmountCents: 12500})
	if err != nil {
		t.Fatal(err)
	}
	if len(book.got) != 1 || book.got[0].Case != "pr-1" || book.got[0].Voucher != iv.ID || book.got[0].AmountCents != 12500 || !book.got[0].At.Equal(r.At) {
		t.Fatalf("the case got %+v", book.got)
	}
}
