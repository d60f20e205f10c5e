package schema

import (
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// AuthorityKey is one public key of an authority as a JWK (RFC 8037 OKP
// Ed25519) with Difronte's members: who the authority is ("iss", "name"),
// where it may qualify ("territory": ISTAT municipality codes, or 3-digit
// province codes for a whole province) and when the key is good ("nbf",
// "retired", "exp", Unix seconds; 0 means unbounded).
//
// Rotation: a retired key signs nothing new; credentials it signed before
// "retired" stay valid until their own validUntil. "exp" is a hard end
// (a compromised key: remove it, or set exp).
type AuthorityKey struct {
	Kty       string   `json:"kty"`
	Crv       string   `json:"crv"`
	X         string   `json:"x"`
	Kid       string   `json:"kid"`
	Alg       string   `json:"alg,omitempty"`
	Use       string   `json:"use,omitempty"`
	Issuer    string   `json:"iss"`
	Name      string   `json:"name"`
	Territory []string `json:"territory"`
	NotBefore int64    `json:"nbf,omitempty"`
	Retired   int64    `json:"retired,omitempty"`
	Expires   int64    `json:"exp,omitempty"`
	// Peer is the libp2p peer ID of the authority's node, where coops send
	// applications. Informative: trust rests on the key, not the node.
	Peer string `json:"peer,omitempty"`

	pub ed25519.PublicKey
}

// JWKS is a JSON Web Key Set of authority keys.
type JWKS struct {
	Keys []AuthorityKey `json:"keys"`
}

// PublicKey returns the decoded key (after Check).
func (k *AuthorityKey) PublicKey() ed25519.PublicKey { return k.pub }

// Check validates the JWK and decodes the key.
func (k *AuthorityKey) Check() error {
	if k.Kty != "OKP" || k.Crv != "Ed25519" {
		return fmt.Errorf("key %q: want an OKP Ed25519 key", k.Kid)
	}
	if k.Alg != "" && k.Alg != "EdDSA" {
		return fmt.Errorf("key %q: alg %q", k.Kid, k.Alg)
	}
	x, err := base64.RawURLEncoding.Strict().DecodeString(k.X)
	if err != nil || len(x) != ed25519.PublicKeySize {
		return fmt.Errorf("key %q: x is not a base64url Ed25519 key", k.Kid)
	}
	if k.Kid == "" {
		return fmt.Errorf("key without kid")
	}
	if !isURI(k.Issuer) {
		return fmt.Errorf("key %q: iss %q is not a URI", k.Kid, k.Issuer)
	}
	if k.Name == "" {
		return fmt.Errorf("key %q: no authority name", k.Kid)
	}
	if len(k.Territory) == 0 {
		return fmt.Errorf("key %q: no territory", k.Kid)
	}
	for _, t := range k.Territory {
		if !(len(t) == 3 && allDigits(t)) && !ValidMunicipality(t) {
			return fmt.Errorf("key %q: territory %q is neither a municipality nor a province code", k.Kid, t)
		}
	}
	k.pub = ed25519.PublicKey(x)
	return nil
}

// InTerritory reports whether municipality m is in the key's territory.
func (k *AuthorityKey) InTerritory(m string) bool {
	return slices.Contains(k.Territory, m) || len(m) == 6 && slices.Contains(k.Territory, m[:3])
}

// Public returns the key without private members, for a JWKS.
func (k AuthorityKey) Public() AuthorityKey { k.pub = nil; return k }

// Thumbprint returns the RFC 7638 thumbprint of an Ed25519 key, base64url:
// the kid Difronte gives to authority keys.
func Thumbprint(pub ed25519.PublicKey) string {
	x := base64.RawURLEncoding.EncodeToString(pub)
	h := sha256.Sum256([]byte(`{"crv":"Ed25519","kty":"OKP","x":"` + x + `"}`))
	return base64.RawURLEncoding.EncodeToString(h[:])
}

// NewAuthorityKey describes pub as a JWK.
func NewAuthorityKey(pub ed25519.PublicKey, issuer, name string, territory []string) AuthorityKey {
	return AuthorityKey{
		Kty: "OKP", Crv: "Ed25519", X: base64.RawURLEncoding.EncodeToString(pub),
		Kid: Thumbprint(pub), Alg: "EdDSA", Use: "sig",
		Issuer: issuer, Name: name, Territory: territory, pub: pub,
	}
}

// TrustSet is the set of authority keys a node trusts. It is immutable
// once built; it decides purely from a token, its keys and a time.
type TrustSet struct {
	byKid map[string]*AuthorityKey
}

// NewTrustSet checks every key. A kid appearing twice is an error: a kid
// must name one key.
func NewTrustSet(keys []AuthorityKey) (*TrustSet, error) {
	ts := &TrustSet{byKid: map[string]*AuthorityKey{}}
	for i := range keys {
		k := keys[i]
		if err := k.Check(); err != nil {
			return nil, fmt.Errorf("trusted key %d: %w", i, err)
		}
		if _, dup := ts.byKid[k.Kid]; dup {
			return nil, fmt.Errorf("trusted key %d: kid %q appears twice", i, k.Kid)
		}
		ts.byKid[k.Kid] = &k
	}
	return ts, nil
}

// ParseJWKS reads a JWKS document strictly.
func ParseJWKS(b []byte) ([]AuthorityKey, error) {
	var set JWKS
	if err := decodeStrict(b, &set); err != nil {
		return nil, fmt.Errorf("JWKS: %w", err)
	}
	return set.Keys, nil
}

// Keys returns the trusted keys.
func (ts *TrustSet) Keys() []AuthorityKey {
	out := make([]AuthorityKey, 0, len(ts.byKid))
	for _, k := range ts.byKid {
		out = append(out, *k)
	}
	slices.SortFunc(out, func(a, b AuthorityKey) int {
		if a.Issuer != b.Issuer {
			if a.Issuer < b.Issuer {
				return -1
			}
			return 1
		}
		if a.Kid < b.Kid {
			return -1
		}
		return 1
	})
	return out
}

// Key returns the trusted key with kid.
func (ts *TrustSet) Key(kid string) (*AuthorityKey, bool) {
	if ts == nil {
		return nil, false
	}
	k, ok := ts.byKid[kid]
	return k, ok
}

func (ts *TrustSet) verified(token string) (*Token, *AuthorityKey, []byte, error) {
	t, err := ParseToken(token)
	if err != nil {
		return nil, nil, nil, err
	}
	k, ok := ts.Key(t.KeyID)
	if !ok {
		return nil, nil, nil, refuse("kid %q is not a trusted authority key", t.KeyID)
	}
	p, err := t.Verify(k.pub)
	if err != nil {
		return nil, nil, nil, err
	}
	return t, k, p, nil
}

// keyCovers checks that k could sign something dated from: within the
// key's life and before its retirement.
func keyCovers(k *AuthorityKey, issuer string, from time.Time) error {
	if issuer != k.Issuer {
		return refuse("issuer %q does not own key %s (%s)", issuer, k.Kid, k.Issuer)
	}
	if k.NotBefore != 0 && from.Unix() < k.NotBefore {
		return refuse("validFrom precedes key %s", k.Kid)
	}
	if k.Retired != 0 && from.Unix() >= k.Retired {
		return refuse("key %s was retired before validFrom", k.Kid)
	}
	return nil
}

// CheckQualification verifies everything about a qualification that does
// not depend on the time or the status list: form, trusted kid, signature,
// VC shape, issuer, key period and territory. Its result can be cached by
// token hash.
func (ts *TrustSet) CheckQualification(token string) (*Qualification, *AuthorityKey, error) {
	_, k, p, err := ts.verified(token)
	if err != nil {
		return nil, nil, err
	}
	q, err := DecodeQualification(p)
	if err != nil {
		return nil, nil, err
	}
	from, _ := q.Window()
	if err := keyCovers(k, q.Issuer.ID, from); err != nil {
		return nil, nil, err
	}
	for _, m := range q.CredentialSubject.Municipalities {
		if !k.InTerritory(m) {
			return nil, nil, refuse("municipality %s is outside the territory of %s", m, k.Name)
		}
	}
	return q, k, nil
}

// CurrentAt checks the time-dependent rules: the credential's window and
// the key's hard expiry.
func CurrentAt(q *Qualification, k *AuthorityKey, now time.Time) error {
	return currentAt(q.ValidFrom, q.ValidUntil, k, now)
}

// currentAt checks a credential's window (RFC 3339 bounds, already
// validated) and its key's hard expiry at now.
func currentAt(validFrom, validUntil string, k *AuthorityKey, now time.Time) error {
	from, _ := time.Parse(time.RFC3339, validFrom)
	until, _ := time.Parse(time.RFC3339, validUntil)
	if now.Before(from) {
		return refuse("not valid before %s", validFrom)
	}
	if !now.Before(until) {
		return refuse("expired at %s", validUntil)
	}
	if k.Expires != 0 && now.Unix() >= k.Expires {
		return refuse("key %s expired", k.Kid)
	}
	return nil
}

// VerifyQualification is CheckQualification then CurrentAt.
func (ts *TrustSet) VerifyQualification(token string, now time.Time) (*Qualification, *AuthorityKey, error) {
	q, k, err := ts.CheckQualification(token)
	if err != nil {
		return nil, nil, err
	}
	if err := CurrentAt(q, k, now); err != nil {
		return nil, nil, err
	}
	return q, k, nil
}

// VerifyStatusList verifies a status list credential from a trusted key.
func (ts *TrustSet) VerifyStatusList(token string) (*StatusList, *AuthorityKey, error) {
	_, k, p, err := ts.verified(token)
	if err != nil {
		return nil, nil, err
	}
	l, err := DecodeStatusList(p)
	if err != nil {
		return nil, nil, err
	}
	// A list signed before its key retired keeps revoking what it
	// revokes; a retired key cannot sign a newer list (that could
	// un-revoke): the current key does.
	if err := keyCovers(k, l.Issuer.ID, l.Issued()); err != nil {
		return nil, nil, err
	}
	return l, k, nil
}

// MarshalJWKS encodes public keys as a JWKS document.
func MarshalJWKS(keys []AuthorityKey) ([]byte, error) {
	pub := make([]AuthorityKey, len(keys))
	for i, k := range keys {
		pub[i] = k.Public()
	}
	return json.MarshalIndent(JWKS{Keys: pub}, "", "  ")
}
