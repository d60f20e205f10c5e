package vouchers

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// Reason codes of the voucher protocol's refusals (docs/PROTOCOL.md).
const (
	ReasonInvalid         = "invalid" // does not verify against the trust set
	ReasonNotHere         = "not_addressed_here"
	ReasonUnknownWallet   = "unknown_wallet"
	ReasonNotAuthority    = "not_an_authority"
	ReasonUnknown         = "unknown_voucher" // not issued by this authority
	ReasonRevoked         = "revoked"
	ReasonRedeemed        = "already_redeemed"
	ReasonExpired         = "expired"
	ReasonAmountTooLarge  = "amount_too_large"
	ReasonCategoryMissing = "category_not_covered"
)

// HandleVoucher is the node's side of the voucher protocol.
func (s *Service) HandleVoucher(ctx context.Context, from peer.ID, req federation.VoucherRequest) federation.VoucherResponse {
	var reason string
	var at time.Time
	switch req.Op {
	case federation.VoucherDeliver:
		reason = s.receive(ctx, from, req.Token)
	case federation.VoucherRedeem:
		at, reason = s.settle(ctx, from, req)
	}
	if reason != "" {
		_ = s.cfg.Audit.Record(ctx, s.event(peerActor(from), audit.Denied, "voucher", "", req.Op+": "+reason))
	}
	return federation.VoucherResponse{Error: reason, Redeemed: at}
}

// receive stores a voucher delivered for one of this node's wallets.
func (s *Service) receive(ctx context.Context, from peer.ID, token string) string {
	v, k, err := s.cfg.Trust.VerifyVoucher(token, s.now())
	if err != nil {
		return ReasonInvalid
	}
	home, wallet := v.Holder()
	if home != s.cfg.Self {
		return ReasonNotHere
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	known := slices.ContainsFunc(s.wallets.Filter(func(*Wallet) bool { return true }), func(w Wallet) bool { return w.ID == wallet })
	if !known {
		return ReasonUnknownWallet
	}
	if _, dup := s.held.Get(v.ID); dup {
		return ""
	}
	_, until := v.Window()
	h := HeldVoucher{ID: v.ID, Token: token, Wallet: wallet, Authority: k.Name, AmountCents: v.CredentialSubject.AmountCents,
		Categories: v.CredentialSubject.Categories, ValidUntil: until, Received: s.now()}
	if err := s.held.Put(ctx, h); err != nil {
		return "store_failed"
	}
	_ = s.cfg.Audit.Record(ctx, s.event(peerActor(from), audit.Create, "held_voucher", v.ID, "wallet="+wallet))
	return ""
}

// settle is the authority's side of a redemption: once per voucher. The
// same provider asking again for the same case (a retry whose answer was
// lost) gets the first answer again.
func (s *Service) settle(ctx context.Context, from peer.ID, req federation.VoucherRequest) (time.Time, string) {
	if s.cfg.Signer == nil {
		return time.Time{}, ReasonNotAuthority
	}
	_, _, verr := s.cfg.Trust.VerifyVoucher(req.Token, s.now())
	s.mu.Lock()
	defer s.mu.Unlock()
	// Found by its token: an expired voucher no longer verifies but is
	// still this authority's to name as expired.
	var iv IssuedVoucher
	found := s.issued.Filter(func(v *IssuedVoucher) bool { return v.Token == req.Token })
	ok := len(found) == 1
	if ok {
		iv = found[0]
	}
	id := iv.ID
	switch {
	case !ok:
		return time.Time{}, ReasonUnknown
	case iv.State == Revoked:
		return time.Time{}, ReasonRevoked
	case iv.State == Redeemed && iv.Redemption.Peer == from.String() && iv.Redemption.Case == req.Case:
		return iv.Redemption.At, ""
	case iv.State == Redeemed:
		return time.Time{}, ReasonRedeemed
	case verr != nil && strings.Contains(verr.Error(), "expired"):
		return time.Time{}, ReasonExpired
	case verr != nil:
		return time.Time{}, ReasonInvalid
	case req.AmountCents > iv.AmountCents:
		return time.Time{}, ReasonAmountTooLarge
	}
	iv.State = Redeemed
	iv.Redemption = &Redemption{Voucher: id, Peer: from.String(), Case: req.Case, AmountCents: req.AmountCents, At: s.now()}
	if err := s.issued.Put(ctx, iv); err != nil {
		return time.Time{}, "store_failed"
	}
	_ = s.cfg.Audit.Record(ctx, s.event(peerActor(from), audit.Update, "voucher", id, fmt.Sprintf("redeemed amount_cents=%d", req.AmountCents)))
	return iv.Redemption.At, ""
}

// RedeemInput is what a provider fills in: the token the citizen gave,
// the provider's case, the amount taken and the case's category.
type RedeemInput struct {
	Token       string `json:"token"`
	Case        string `json:"case"`
	AmountCents int64  `json:"amount_cents"`
	Category    string `json:"category,omitempty"`
}

// Redeem checks a voucher here, then redeems it with the authority that
// signed it (the node its trusted key names) and records the redemption.
func (s *Service) Redeem(ctx context.Context, a auth.Actor, in RedeemInput) (Redemption, error) {
	if a.Role != auth.Admin && a.Role != auth.CaseManager {
		return Redemption{}, s.deny(ctx, a, "voucher", "", "redeem")
	}
	if f := schema.TextFault(in.Case, 100, false); f != "" || in.Case == "" {
		return Redemption{}, problem.Invalid(map[string]string{"case": cmp.Or(f, schema.CodeRequired)})
	}
	if in.AmountCents < 1 || in.AmountCents > schema.MaxVoucherCents {
		return Redemption{}, problem.Invalid(map[string]string{"amount_cents": "out_of_range"})
	}
	if s.cfg.Cases != nil && !s.cfg.Cases.Known(in.Case) {
		_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Denied, "voucher", "", "redeem: unknown case"))
		return Redemption{}, problem.New(404, "unknown_case", "this coop holds no case with this id")
	}
	v, k, err := s.cfg.Trust.VerifyVoucher(in.Token, s.now())
	if err != nil {
		return Redemption{}, problem.BadRequest("voucher_invalid", strings.TrimPrefix(err.Error(), schema.ErrCredential.Error()+": "), err)
	}
	if in.Category != "" && !v.Covers(in.Category) {
		return Redemption{}, problem.New(409, ReasonCategoryMissing, "the voucher does not cover "+in.Category)
	}
	if k.Peer == "" {
		return Redemption{}, problem.New(409, "authority_unknown", "the trust file does not say which node the authority runs")
	}
	resp, err := s.cfg.Send(ctx, k.Peer, federation.VoucherRequest{Op: federation.VoucherRedeem, Token: in.Token, Case: in.Case, AmountCents: in.AmountCents})
	if err != nil {
		if r, ok := strings.CutPrefix(err.Error(), federation.ErrVoucherRefused.Error()+": "); ok {
			_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Denied, "voucher", v.ID, "redeem: "+r))
			return Redemption{}, problem.New(409, r, "the authority refused the voucher: "+r)
		}
		return Redemption{}, problem.New(502, "unreachable", "the authority could not be reached; try again later")
	}
	r := Redemption{Voucher: v.ID, Peer: k.Peer, Case: in.Case, AmountCents: in.AmountCents, At: resp.Redeemed}
	s.mu.Lock()
	err = s.redeemed.Put(ctx, r)
	s.mu.Unlock()
	if err != nil {
		return r, err
	}
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "redemption", v.ID, "case="+in.Case))
	if s.cfg.Cases != nil {
		if err := s.cfg.Cases.Redeemed(ctx, a, r); err != nil {
			s.cfg.Logger.Warn("redemption not recorded on its case", "voucher", v.ID, "err", err)
		}
	}
	return r, nil
}

// Held lists the vouchers held for the citizen's wallet.
func (s *Service) Held(ctx context.Context, a auth.Actor) ([]HeldVoucher, error) {
	if a.Role != Citizen {
		return nil, s.deny(ctx, a, "held_voucher", "", "list")
	}
	w, ok := s.wallets.Get(a.Username)
	if !ok {
		return []HeldVoucher{}, nil
	}
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.List, "held_voucher", "", ""))
	return s.held.Filter(func(h *HeldVoucher) bool { return h.Wallet == w.ID }), nil
}

// IssuedList lists the vouchers this authority issued (officers).
func (s *Service) IssuedList(ctx context.Context, a auth.Actor) ([]IssuedVoucher, error) {
	if a.Role != auth.Officer {
		return nil, s.deny(ctx, a, "voucher", "", "list")
	}
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.List, "voucher", "", ""))
	return s.issued.Filter(func(*IssuedVoucher) bool { return true }), nil
}

// Redemptions lists the vouchers this provider redeemed, by case.
func (s *Service) Redemptions(ctx context.Context, a auth.Actor, caseID string) ([]Redemption, error) {
	if a.Role != auth.Admin && a.Role != auth.CaseManager {
		return nil, s.deny(ctx, a, "redemption", "", "list")
	}
	return s.redeemed.Filter(func(r *Redemption) bool { return caseID == "" || r.Case == caseID }), nil
}
