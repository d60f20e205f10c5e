package node

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/vouchers"
)

// startVouchers runs after the qualifications, whose trust set and
// authority key it shares: every node holds vouchers for its citizens and
// redeems those its providers are paid with; an authority node also
// issues them.
func (n *Node) startVouchers(ctx context.Context) error {
	cfg := vouchers.Config{Self: n.peerID, Trust: n.qual.trust, Store: n.store.Namespace("/vouchers"),
		Audit: n.audit, Clock: n.cfg.Clock, Logger: n.log.With("component", "vouchers")}
	if kf := n.qual.keys; kf != nil {
		priv, k, err := kf.Current()
		if err != nil {
			return fmt.Errorf("vouchers: %w", err)
		}
		cfg.Signer = &vouchers.Signer{Key: priv, Kid: k.Kid, Issuer: k.Issuer, Name: n.cfg.AuthorityName}
	}
	cfg.Send = func(context.Context, string, federation.VoucherRequest) (federation.VoucherResponse, error) {
		return federation.VoucherResponse{}, errors.New("this node runs without federation")
	}
	if n.fed != nil {
		h := n.fed.Host()
		cfg.Send = func(ctx context.Context, to string, req federation.VoucherRequest) (federation.VoucherResponse, error) {
			pid, err := peer.Decode(to)
			if err != nil {
				return federation.VoucherResponse{}, fmt.Errorf("node %q: %w", to, err)
			}
			return federation.SendVoucher(ctx, h, pid, req)
		}
	}
	cfg.Cases = voucherCases{n}
	svc, err := vouchers.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("vouchers: %w", err)
	}
	n.vouchers = svc
	if n.fed != nil {
		stop := federation.ServeVoucher(n.fed.Host(), svc)
		n.lc.add("voucher protocol", func() error { stop(); return nil })
	}
	return nil
}

// Vouchers is the node's voucher service (after Start).
func (n *Node) Vouchers() *vouchers.Service { return n.vouchers }

// voucherCases ties redemptions to the requests domain's cases (which
// starts after the vouchers, and is there by the time anyone redeems).
type voucherCases struct{ n *Node }

func (c voucherCases) Known(id string) bool {
	return c.n.requests != nil && c.n.requests.HasCase(id)
}

func (c voucherCases) Redeemed(ctx context.Context, a auth.Actor, r vouchers.Redemption) error {
	if c.n.requests == nil {
		return errors.New("no requests domain")
	}
	return c.n.requests.RecordVoucher(ctx, a, r.Case, r.Voucher, r.AmountCents, r.At)
}
