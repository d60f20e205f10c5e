package vouchers

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// Citizen is the role of a citizen's account, who holds vouchers.
const Citizen = auth.Citizen

// Signer is the authority key a node issues vouchers with (an authority
// node only).
type Signer struct {
	Key    ed25519.PrivateKey
	Kid    string
	Issuer string // the key's iss
	Name   string // the authority's name
}

// Config is what the service needs. Send runs one exchange of the voucher
// protocol with another node (federation.SendVoucher).
type Config struct {
	Self   string // this node's peer ID
	Trust  *schema.TrustSet
	Signer *Signer // nil on a node that is not an authority
	Store  store.Namespace
	Audit  *audit.Log
	Clock  clock.Clock
	Logger *slog.Logger
	Send   func(ctx context.Context, to string, req federation.VoucherRequest) (federation.VoucherResponse, error)
	// Cases, when set, ties redemptions to this provider's cases: a
	// voucher is redeemed only for a case the provider holds (checked
	// before the authority is asked), and a redemption is recorded on the
	// case, so that it shows on both sides of it.
	Cases CaseBook
}

// CaseBook is the provider's cases as redemptions need them.
type CaseBook interface {
	Known(caseID string) bool
	Redeemed(ctx context.Context, a auth.Actor, r Redemption) error
}

// The states of an issued voucher.
const (
	Issued    = "issued"    // signed, not yet taken by the citizen's node
	Delivered = "delivered" // held by the citizen's node
	Redeemed  = "redeemed"  // spent with a provider
	Revoked   = "revoked"   // withdrawn by an officer
)

// IssuedVoucher is the authority's record of a voucher it signed.
type IssuedVoucher struct {
	ID          string      `json:"id"`
	Token       string      `json:"token"`
	Home        string      `json:"home"`
	Wallet      string      `json:"wallet"`
	AmountCents int64       `json:"amount_cents"`
	Categories  []string    `json:"categories"`
	ValidUntil  time.Time   `json:"valid_until"`
	State       string      `json:"state"`
	Created     time.Time   `json:"created"`
	By          string      `json:"by"`
	Redemption  *Redemption `json:"redemption,omitempty"`
	Reason      string      `json:"reason,omitempty"` // of a revocation
}

// Redemption is a voucher spent: on the authority, who redeemed it; on
// the provider, with which authority.
type Redemption struct {
	Voucher     string    `json:"voucher"`
	Peer        string    `json:"peer"` // the provider (authority side) or the authority (provider side)
	Case        string    `json:"case"`
	AmountCents int64     `json:"amount_cents"`
	At          time.Time `json:"at"`
}

// HeldVoucher is a voucher the citizen's home node holds for a wallet.
type HeldVoucher struct {
	ID          string    `json:"id"`
	Token       string    `json:"token"`
	Wallet      string    `json:"wallet"`
	Authority   string    `json:"authority"`
	AmountCents int64     `json:"amount_cents"`
	Categories  []string  `json:"categories"`
	ValidUntil  time.Time `json:"valid_until"`
	Received    time.Time `json:"received"`
}

// Wallet ties a citizen's account to the opaque id vouchers name.
type Wallet struct {
	Account string `json:"account"`
	ID      string `json:"id"`
}

// Service keeps vouchers: issued ones on an authority, held ones on a
// citizen's home node, redemptions on a provider.
type Service struct {
	cfg      Config
	mu       sync.Mutex // serialises redemptions and state changes
	issued   *store.Collection[IssuedVoucher]
	held     *store.Collection[HeldVoucher]
	wallets  *store.Collection[Wallet]
	redeemed *store.Collection[Redemption]
}

// Open loads the service's records.
func Open(ctx context.Context, cfg Config) (*Service, error) {
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Service{cfg: cfg}
	l := store.NewLoader(ctx, cfg.Store)
	store.Load(l, &s.issued, "issued", func(v *IssuedVoucher) string { return v.ID })
	store.Load(l, &s.held, "held", func(v *HeldVoucher) string { return v.ID })
	store.Load(l, &s.wallets, "wallets", func(w *Wallet) string { return w.Account })
	store.Load(l, &s.redeemed, "redeemed", func(r *Redemption) string { return r.Voucher })
	return s, l.Err
}

// Authority reports whether this node issues vouchers.
func (s *Service) Authority() bool { return s.cfg.Signer != nil }

func (s *Service) now() time.Time { return s.cfg.Clock.Now().UTC() }

func (s *Service) event(a auth.Actor, act audit.Action, kind, id, detail string) audit.Event {
	return audit.Event{Actor: a.Username, Role: string(a.Role), Action: act, Kind: kind, Object: id, Remote: a.Remote, Detail: detail}
}

func (s *Service) deny(ctx context.Context, a auth.Actor, kind, id, what string) error {
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Denied, kind, id, what))
	return problem.ErrForbidden
}

// peerActor is a remote node acting over the voucher protocol.
func peerActor(p peer.ID) auth.Actor {
	return auth.Actor{Username: auth.SystemUser, Remote: "peer:" + p.String()}
}

func newWalletID() string { return "w-" + strings.ToLower(rand.Text()) }

// WalletOf returns the citizen's wallet id and the subject URN an
// authority addresses vouchers to, creating the wallet the first time.
func (s *Service) WalletOf(ctx context.Context, a auth.Actor) (Wallet, string, error) {
	if a.Role != Citizen {
		return Wallet{}, "", s.deny(ctx, a, "wallet", "", "read")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	w, ok := s.wallets.Get(a.Username)
	if !ok {
		w = Wallet{Account: a.Username, ID: newWalletID()}
		if err := s.wallets.Put(ctx, w); err != nil {
			return Wallet{}, "", err
		}
		_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "wallet", w.ID, ""))
	}
	return w, schema.CitizenURN(s.cfg.Self, w.ID), nil
}

// IssueInput is what an officer fills in.
type IssueInput struct {
	Home        string    `json:"home"`
	Wallet      string    `json:"wallet"`
	AmountCents int64     `json:"amount_cents"`
	Categories  []string  `json:"categories"`
	ValidUntil  time.Time `json:"valid_until"`
}

// Issue signs a voucher and hands it to the citizen's home node; if that
// node cannot be reached the voucher stays issued and Deliver tries again.
func (s *Service) Issue(ctx context.Context, a auth.Actor, in IssueInput) (IssuedVoucher, error) {
	if a.Role != auth.Officer || s.cfg.Signer == nil {
		return IssuedVoucher{}, s.deny(ctx, a, "voucher", "", "issue")
	}
	now := s.now().Truncate(time.Second)
	id := "urn:difronte:voucher:" + strings.ToLower(rand.Text())
	v := schema.Voucher{
		Context: []string{schema.CredentialsV2Context}, ID: id,
		Type:      []string{schema.VerifiableCredential, schema.VoucherType},
		Issuer:    schema.Issuer{ID: s.cfg.Signer.Issuer, Name: s.cfg.Signer.Name},
		ValidFrom: schema.FormatTime(now), ValidUntil: schema.FormatTime(in.ValidUntil),
		CredentialSubject: schema.VoucherSubject{ID: schema.CitizenURN(in.Home, in.Wallet), AmountCents: in.AmountCents,
			Currency: "EUR", Categories: in.Categories},
	}
	if err := v.Validate(); err != nil {
		return IssuedVoucher{}, problem.BadRequest("voucher_invalid", strings.TrimPrefix(err.Error(), schema.ErrCredential.Error()+": "), err)
	}
	tok, err := schema.SignCredential(s.cfg.Signer.Key, s.cfg.Signer.Kid, v)
	if err != nil {
		return IssuedVoucher{}, err
	}
	iv := IssuedVoucher{ID: id, Token: tok, Home: in.Home, Wallet: in.Wallet, AmountCents: in.AmountCents,
		Categories: slices.Clone(in.Categories), ValidUntil: in.ValidUntil.UTC().Truncate(time.Second), State: Issued, Created: now, By: a.Username}
	s.mu.Lock()
	err = s.issued.Put(ctx, iv)
	s.mu.Unlock()
	if err != nil {
		return IssuedVoucher{}, err
	}
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "voucher", id, fmt.Sprintf("amount_cents=%d", in.AmountCents)))
	if d, err := s.Deliver(ctx, a, id); err == nil {
		iv = d
	} else {
		s.cfg.Logger.Info("voucher not delivered yet", "component", "vouchers", "voucher", id, "err", err)
	}
	return iv, nil
}

// Deliver sends an issued voucher to the citizen's home node.
func (s *Service) Deliver(ctx context.Context, a auth.Actor, id string) (IssuedVoucher, error) {
	if a.Role != auth.Officer {
		return IssuedVoucher{}, s.deny(ctx, a, "voucher", id, "deliver")
	}
	iv, ok := s.issued.Get(id)
	if !ok {
		return IssuedVoucher{}, problem.ErrNotFound
	}
	if iv.State != Issued {
		return iv, nil
	}
	if _, err := s.cfg.Send(ctx, iv.Home, federation.VoucherRequest{Op: federation.VoucherDeliver, Token: iv.Token}); err != nil {
		return iv, problem.New(502, "unreachable", "the citizen's node did not take the voucher: "+err.Error())
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if cur, _ := s.issued.Get(id); cur.State == Issued {
		cur.State = Delivered
		if err := s.issued.Put(ctx, cur); err != nil {
			return cur, err
		}
		iv = cur
	}
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Update, "voucher", id, "delivered"))
	return iv, nil
}

// Revoke withdraws a voucher not yet spent.
func (s *Service) Revoke(ctx context.Context, a auth.Actor, id, reason string) (IssuedVoucher, error) {
	if a.Role != auth.Officer {
		return IssuedVoucher{}, s.deny(ctx, a, "voucher", id, "revoke")
	}
	if f := schema.TextFault(reason, 500, true); f != "" {
		return IssuedVoucher{}, problem.Invalid(map[string]string{"reason": f})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	iv, ok := s.issued.Get(id)
	switch {
	case !ok:
		return iv, problem.ErrNotFound
	case iv.State == Redeemed:
		return iv, problem.New(409, "already_redeemed", "the voucher was already spent")
	case iv.State == Revoked:
		return iv, nil
	}
	iv.State, iv.Reason = Revoked, reason
	if err := s.issued.Put(ctx, iv); err != nil {
		return iv, err
	}
	_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Update, "voucher", id, "revoked"))
	return iv, nil
}

// ErrNotRedeemable is wrapped by a refusal to redeem, with its reason code.
var ErrNotRedeemable = errors.New("voucher not redeemable")
