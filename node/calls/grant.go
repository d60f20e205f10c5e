package calls

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/go-jose/go-jose/v4"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/schema"
)

// grantType is the JWS typ of a call grant; checked by hand because go-jose
// does not.
const grantType = "difronte-grant+jwt"

// maxGrantTTL bounds a grant's life: a coop renews trust at least yearly.
const maxGrantTTL = 366 * 24 * time.Hour

// Grant is this node's permission for a caregiver of another coop to call
// one beneficiary. The signed token goes to the caregiver's node; this
// record stays here so the grant can be listed and revoked.
type Grant struct {
	ID          string    `json:"id"`
	Beneficiary string    `json:"beneficiary"`
	Node        string    `json:"node"`      // the caregiver's node (peer id)
	Caregiver   string    `json:"caregiver"` // caregiver id on that node
	Name        string    `json:"name"`      // caregiver's name, as the coops agreed it
	Expires     time.Time `json:"expires"`
	CreatedAt   time.Time `json:"created_at"`
	CreatedBy   string    `json:"created_by"`
	Revoked     bool      `json:"revoked"`
	RevokedAt   time.Time `json:"revoked_at,omitzero"`
	Token       string    `json:"token"`
}

// HeldGrant is a grant another node issued to one of this node's caregivers.
type HeldGrant struct {
	ID          string    `json:"id"`
	Issuer      string    `json:"issuer"`      // the beneficiary's node
	Beneficiary string    `json:"beneficiary"` // id on the issuer
	DisplayName string    `json:"display_name"`
	Caregiver   string    `json:"caregiver"` // this node's caregiver id
	Expires     time.Time `json:"expires"`
	IssuedAt    time.Time `json:"issued_at"`
	Token       string    `json:"token"`
}

// grantClaims are the signed content of a grant.
type grantClaims struct {
	Issuer      string `json:"iss"` // beneficiary's node
	Audience    string `json:"aud"` // caregiver's node
	Subject     string `json:"sub"` // caregiver id there
	Beneficiary string `json:"ben"`
	DisplayName string `json:"dn"`
	ID          string `json:"jti"`
	IssuedAt    int64  `json:"iat"`
	// Issued orders grants issued within one second (a renewal right after
	// a revocation).
	Issued  time.Time `json:"issued"`
	Expires int64     `json:"exp"`
}

// Reasons a grant or call is refused; the code reaches the caller.
var (
	ErrNoGrant      = errors.New("no_grant")
	ErrGrantExpired = errors.New("grant_expired")
	ErrGrantRevoked = errors.New("grant_revoked")
	ErrGrantBad     = errors.New("grant_invalid")
)

func signGrant(key ed25519.PrivateKey, kid string, c grantClaims) (string, error) {
	sig, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: key},
		(&jose.SignerOptions{}).WithType(grantType).WithHeader("kid", kid))
	if err != nil {
		return "", fmt.Errorf("grant signer: %w", err)
	}
	body, err := json.Marshal(c)
	if err != nil {
		return "", err
	}
	jws, err := sig.Sign(body)
	if err != nil {
		return "", fmt.Errorf("sign grant: %w", err)
	}
	return jws.CompactSerialize()
}

// parseGrant checks a grant's signature against pub and returns its claims;
// expiry and revocation are the caller's.
func parseGrant(token string, pub ed25519.PublicKey) (grantClaims, error) {
	var c grantClaims
	if len(token) > 4096 {
		return c, fmt.Errorf("%w: too long", ErrGrantBad)
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return c, fmt.Errorf("%w: %v", ErrGrantBad, err)
	}
	h := jws.Signatures[0].Protected
	if typ, _ := h.ExtraHeaders[jose.HeaderType].(string); typ != grantType {
		return c, fmt.Errorf("%w: typ %q", ErrGrantBad, typ)
	}
	if h.KeyID == "" || h.JSONWebKey != nil {
		return c, fmt.Errorf("%w: want a kid and no embedded key", ErrGrantBad)
	}
	body, err := jws.Verify(pub)
	if err != nil {
		return c, fmt.Errorf("%w: signature: %v", ErrGrantBad, err)
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return c, fmt.Errorf("%w: claims: %v", ErrGrantBad, err)
	}
	return c, nil
}

// IssueGrant lets a caregiver of another node call a beneficiary of this
// one until expires. Admins only.
func (s *Service) IssueGrant(ctx context.Context, a auth.Actor, g Grant) (Grant, error) {
	if a.Role != auth.Admin {
		return Grant{}, s.deny(ctx, a, "grant", "", "issue")
	}
	now := s.now()
	bad := map[string]string{}
	if _, ok := s.cfg.Dir.Beneficiary(g.Beneficiary); !ok {
		bad["beneficiary"] = "unknown"
	}
	if _, err := schema.PublicKeyFromPeerID(g.Node); err != nil || g.Node == s.cfg.PeerID {
		bad["node"] = "invalid"
	}
	if g.Caregiver == "" || len(g.Caregiver) > 100 || strings.ContainsAny(g.Caregiver, "/ ") {
		bad["caregiver"] = "invalid"
	}
	if len(g.Name) > 100 {
		bad["name"] = "invalid"
	}
	if !g.Expires.After(now) || g.Expires.Sub(now) > maxGrantTTL {
		bad["expires"] = "invalid"
	}
	if err := problem.Invalid(bad); err != nil {
		return Grant{}, err
	}
	g.ID, g.CreatedAt, g.CreatedBy, g.Revoked = newID(), now, a.Username, false
	g.Expires = g.Expires.UTC().Truncate(time.Second)
	tok, err := signGrant(s.cfg.Key, s.cfg.PeerID, grantClaims{
		Issuer: s.cfg.PeerID, Audience: g.Node, Subject: g.Caregiver, Beneficiary: g.Beneficiary,
		DisplayName: s.Settings(g.Beneficiary).DisplayName, ID: g.ID, IssuedAt: now.Unix(), Issued: now, Expires: g.Expires.Unix(),
	})
	if err != nil {
		return Grant{}, err
	}
	g.Token = tok
	if err := s.grants.Put(ctx, g); err != nil {
		return Grant{}, fmt.Errorf("store grant: %w", err)
	}
	if err := s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "grant", g.ID, "node="+g.Node)); err != nil {
		return Grant{}, err
	}
	s.deliverGrant(g)
	return g, nil
}

// RevokeGrant stops a grant at once: the next call is refused, and a live
// call under it is hung up.
func (s *Service) RevokeGrant(ctx context.Context, a auth.Actor, id string) (Grant, error) {
	if a.Role != auth.Admin {
		return Grant{}, s.deny(ctx, a, "grant", id, "revoke")
	}
	g, ok := s.grants.Get(id)
	if !ok {
		return Grant{}, problem.ErrNotFound
	}
	g.Revoked, g.RevokedAt = true, s.now()
	if err := s.grants.Put(ctx, g); err != nil {
		return Grant{}, fmt.Errorf("store grant: %w", err)
	}
	s.hub.endGrant(id)
	return g, s.cfg.Audit.Record(ctx, s.event(a, audit.Update, "grant", id, "revoked"))
}

// Grants lists the grants this node issued. Admins only.
func (s *Service) Grants(ctx context.Context, a auth.Actor) ([]Grant, error) {
	if a.Role != auth.Admin {
		return nil, s.deny(ctx, a, "grant", "", "list")
	}
	out := s.grants.Filter(func(*Grant) bool { return true })
	if out == nil {
		out = []Grant{}
	}
	return out, nil
}

// checkGrant decides whether caller (authenticated peer) may call for its
// caregiver with token: signed by this node, addressed to the caller, for
// that caregiver, known here, not revoked, not expired.
func (s *Service) checkGrant(token, caller, caregiver string) (Grant, error) {
	pub := s.cfg.Key.Public().(ed25519.PublicKey)
	c, err := parseGrant(token, pub)
	if err != nil {
		return Grant{}, err
	}
	if c.Issuer != s.cfg.PeerID || c.Audience != caller || c.Subject != caregiver {
		// A grant replayed by another node or for another caregiver.
		return Grant{}, fmt.Errorf("%w: issued for another node or caregiver", ErrGrantBad)
	}
	g, ok := s.grants.Get(c.ID)
	if !ok {
		return Grant{}, ErrNoGrant
	}
	if g.Revoked {
		return Grant{}, ErrGrantRevoked
	}
	if !s.now().Before(g.Expires) || !s.now().Before(time.Unix(c.Expires, 0)) {
		return Grant{}, ErrGrantExpired
	}
	return g, nil
}

// ImportGrant stores a grant token issued by another node for one of this
// node's caregivers, pasted by an admin. The issuer's signature is checked
// against its peer id.
func (s *Service) ImportGrant(ctx context.Context, a auth.Actor, token string) (HeldGrant, error) {
	if a.Role != auth.Admin {
		return HeldGrant{}, s.deny(ctx, a, "held_grant", "", "import")
	}
	return s.importGrant(ctx, a, token)
}

// importGrant stores a grant token without a role check: for an admin, or
// for the node itself when the issuer delivers the grant over the signal
// protocol. An account's name never stands for the node.
func (s *Service) importGrant(ctx context.Context, a auth.Actor, token string) (HeldGrant, error) {
	h, err := s.heldFromToken(token)
	if err != nil {
		_ = s.cfg.Audit.Record(ctx, s.event(a, audit.Denied, "held_grant", "", err.Error()))
		return HeldGrant{}, problem.BadRequest("grant_invalid", "the grant is not valid for this node", err)
	}
	if err := s.held.Put(ctx, h); err != nil {
		return HeldGrant{}, fmt.Errorf("store held grant: %w", err)
	}
	return h, s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "held_grant", h.ID, "issuer="+h.Issuer))
}

func (s *Service) heldFromToken(token string) (HeldGrant, error) {
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return HeldGrant{}, fmt.Errorf("%w: %v", ErrGrantBad, err)
	}
	kid := jws.Signatures[0].Protected.KeyID
	pub, err := schema.PublicKeyFromPeerID(kid)
	if err != nil {
		return HeldGrant{}, fmt.Errorf("%w: kid: %v", ErrGrantBad, err)
	}
	c, err := parseGrant(token, pub)
	if err != nil {
		return HeldGrant{}, err
	}
	if c.Issuer != kid || c.Audience != s.cfg.PeerID {
		return HeldGrant{}, fmt.Errorf("%w: not addressed to this node", ErrGrantBad)
	}
	if _, ok := s.cfg.Dir.Caregiver(c.Subject); !ok {
		return HeldGrant{}, fmt.Errorf("%w: unknown caregiver", ErrGrantBad)
	}
	if !s.now().Before(time.Unix(c.Expires, 0)) {
		return HeldGrant{}, ErrGrantExpired
	}
	return HeldGrant{ID: c.ID, Issuer: c.Issuer, Beneficiary: c.Beneficiary, DisplayName: c.DisplayName,
		Caregiver: c.Subject, Expires: time.Unix(c.Expires, 0).UTC(), IssuedAt: c.Issued.UTC(), Token: token}, nil
}

// HeldGrants lists the grants held for a caregiver of this node ("" = all).
func (s *Service) HeldGrants(caregiver string) []HeldGrant {
	now := s.now()
	return s.held.Filter(func(h *HeldGrant) bool {
		return (caregiver == "" || h.Caregiver == caregiver) && now.Before(h.Expires)
	})
}

// heldFor finds the grant a caregiver holds to call a remote beneficiary:
// the newest, since a renewed grant replaces an older (maybe revoked) one.
func (s *Service) heldFor(caregiver, node, ben string) (HeldGrant, bool) {
	var best HeldGrant
	found := false
	for _, h := range s.HeldGrants(caregiver) {
		if h.Issuer == node && h.Beneficiary == ben && (!found || !h.IssuedAt.Before(best.IssuedAt)) {
			best, found = h, true
		}
	}
	return best, found
}
