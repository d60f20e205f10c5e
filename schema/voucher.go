package schema

import (
	"strings"
	"time"
)

// A voucher ("sostegno economico", WeMi's buono) is a municipality's
// economic support for one citizen: an amount in euro cents to spend on
// services of some categories before a date. It is a Verifiable Credential
// secured as VC-JWT like a qualification, signed by an authority key the
// nodes trust, but it is never gossiped: the authority hands it privately
// to the citizen's home node, the citizen's node gives it to the provider
// the citizen chose, and the provider redeems it with the authority, which
// alone knows whether it was spent (node/vouchers, docs/PROTOCOL.md).

// VoucherType is a voucher credential's own type.
const VoucherType = "DifronteVoucher"

// CitizenURNPrefix names a citizen by home node and wallet id, an opaque
// id the home node gives the citizen for vouchers:
// urn:difronte:citizen:<home peer ID>:<wallet id>. Nobody but the home
// node can tell who it is.
const CitizenURNPrefix = "urn:difronte:citizen:"

// MaxVoucherCents bounds a voucher's amount (100,000 euro).
const MaxVoucherCents = 10_000_000

// VoucherSubject is what a voucher grants to whom.
type VoucherSubject struct {
	ID          string   `json:"id"`
	AmountCents int64    `json:"amountCents"`
	Currency    string   `json:"currency"`
	Categories  []string `json:"categories"`
}

// Voucher is the payload of a voucher credential.
type Voucher struct {
	Context           []string       `json:"@context"`
	ID                string         `json:"id"`
	Type              []string       `json:"type"`
	Issuer            Issuer         `json:"issuer"`
	ValidFrom         string         `json:"validFrom"`
	ValidUntil        string         `json:"validUntil"`
	CredentialSubject VoucherSubject `json:"credentialSubject"`
}

// CitizenURN names wallet on home as a voucher's subject.
func CitizenURN(home, wallet string) string { return CitizenURNPrefix + home + ":" + wallet }

// Holder returns the subject's home node and wallet id.
func (v *Voucher) Holder() (home, wallet string) {
	rest := strings.TrimPrefix(v.CredentialSubject.ID, CitizenURNPrefix)
	home, wallet, _ = strings.Cut(rest, ":")
	return home, wallet
}

// Window returns the validity window.
func (v *Voucher) Window() (from, until time.Time) {
	from, _ = time.Parse(time.RFC3339, v.ValidFrom)
	until, _ = time.Parse(time.RFC3339, v.ValidUntil)
	return from, until
}

// Covers reports whether the voucher may pay for a service of category
// (a granted top term covers its children).
func (v *Voucher) Covers(category string) bool {
	return coversCategory(v.CredentialSubject.Categories, category)
}

// ValidWalletID: 8 to 64 characters of A-Z a-z 0-9 _ -.
func ValidWalletID(s string) bool {
	if len(s) < 8 || len(s) > 64 {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '-') {
			return false
		}
	}
	return true
}

// Validate checks the VC 2.0 shape and Difronte's rules on a voucher.
func (v *Voucher) Validate() error {
	if err := checkVCFrame(v.Context, v.Type, VoucherType, v.Issuer); err != nil {
		return err
	}
	if !isURI(v.ID) {
		return refuse("credential id %q is not a URI", v.ID)
	}
	if _, _, err := window(v.ValidFrom, v.ValidUntil, true); err != nil {
		return err
	}
	s := v.CredentialSubject
	rest, ok := strings.CutPrefix(s.ID, CitizenURNPrefix)
	home, wallet, ok2 := strings.Cut(rest, ":")
	if !ok || !ok2 {
		return refuse("subject %q is not a citizen URN", s.ID)
	}
	if _, err := PublicKeyFromPeerID(home); err != nil {
		return refuse("subject's home node: %v", err)
	}
	if !ValidWalletID(wallet) {
		return refuse("subject's wallet id %q is not valid", wallet)
	}
	if s.AmountCents < 1 || s.AmountCents > MaxVoucherCents {
		return refuse("amount of %d cents", s.AmountCents)
	}
	if s.Currency != "EUR" {
		return refuse("currency %q; only EUR", s.Currency)
	}
	if len(s.Categories) == 0 || len(s.Categories) > 20 {
		return refuse("%d categories", len(s.Categories))
	}
	for _, c := range s.Categories {
		if !KnownTerm(c) {
			return refuse("unknown category %q", c)
		}
	}
	return nil
}

// DecodeVoucher decodes and validates a voucher payload.
func DecodeVoucher(p []byte) (*Voucher, error) { return decodeValid[Voucher](p) }

// VerifyVoucher verifies a voucher from a trusted key: signature, shape,
// the key's life and, at now, the voucher's window and the key's expiry.
func (ts *TrustSet) VerifyVoucher(token string, now time.Time) (*Voucher, *AuthorityKey, error) {
	_, k, p, err := ts.verified(token)
	if err != nil {
		return nil, nil, err
	}
	v, err := DecodeVoucher(p)
	if err != nil {
		return nil, nil, err
	}
	from, _ := v.Window()
	if err := keyCovers(k, v.Issuer.ID, from); err != nil {
		return nil, nil, err
	}
	if err := currentAt(v.ValidFrom, v.ValidUntil, k, now); err != nil {
		return nil, nil, err
	}
	return v, k, nil
}
