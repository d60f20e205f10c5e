package schema

import (
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	jose "github.com/go-jose/go-jose/v4"
)

// Qualifications are W3C Verifiable Credentials (Data Model 2.0) secured
// as VC-JWT: a JWS in compact serialization, EdDSA over Ed25519, header
// {"alg":"EdDSA","kid":…,"typ":"vc+jwt"}, payload the credential itself
// (not wrapped in a "vc" claim as VC-JWT 1.1 did). The authority signs with
// its own key, distinct from its node's libp2p key, so the key can be kept
// and rotated as an authority's key, and a node trusts an authority by
// pinning its public keys (a JWKS, see TrustSet), never by the key a token
// names in its header.

// Credential constants.
const (
	CredentialsV2Context = "https://www.w3.org/ns/credentials/v2"
	CredentialTyp        = "vc+jwt"
	VerifiableCredential = "VerifiableCredential"
	QualificationType    = "DifronteQualification"
	StatusListType       = "BitstringStatusListCredential"
	StatusEntryType      = "BitstringStatusListEntry"
	StatusPurpose        = "revocation"

	// MaxCredentialSize bounds a token; a status list of StatusListBits is
	// well under 1 KiB compressed while nobody is revoked and at most
	// 16 KiB fully random, so this leaves room and stays inside an entry.
	MaxCredentialSize = 48 << 10
	// StatusListBits is the length of a status list: the W3C minimum
	// (16 KiB of bits), so a revocation does not tell which credential of
	// a small authority it concerns.
	StatusListBits = 131072

	// PeerURNPrefix turns a libp2p peer ID into the URI a credential names
	// its subject by (VC 2.0 wants ids to be URLs).
	PeerURNPrefix = "urn:difronte:peer:"
)

// ErrCredential is wrapped by every refusal of a credential; the message
// says why, in terms an operator can act on.
var ErrCredential = errors.New("credential refused")

func refuse(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrCredential, fmt.Sprintf(format, args...))
}

// Issuer names the authority that signed a credential.
type Issuer struct {
	ID   string `json:"id"`
	Name string `json:"name,omitempty"`
}

// QualificationSubject is what the authority states about the coop.
type QualificationSubject struct {
	ID             string   `json:"id"` // PeerURNPrefix + the coop's peer ID
	Categories     []string `json:"categories"`
	Municipalities []string `json:"municipalities"`
}

// StatusEntry points at the bit of a status list that revokes the credential.
type StatusEntry struct {
	ID                   string `json:"id"`
	Type                 string `json:"type"`
	StatusPurpose        string `json:"statusPurpose"`
	StatusListIndex      string `json:"statusListIndex"`
	StatusListCredential string `json:"statusListCredential"`
}

// Index returns the bit position, checked against the list length.
func (s StatusEntry) Index() (int, error) {
	i, err := strconv.Atoi(s.StatusListIndex)
	if err != nil || i < 0 || i >= StatusListBits || strconv.Itoa(i) != s.StatusListIndex {
		return 0, refuse("status list index %q out of range", s.StatusListIndex)
	}
	return i, nil
}

// Qualification is the payload of a qualification credential.
type Qualification struct {
	Context           []string             `json:"@context"`
	ID                string               `json:"id"`
	Type              []string             `json:"type"`
	Issuer            Issuer               `json:"issuer"`
	ValidFrom         string               `json:"validFrom"`
	ValidUntil        string               `json:"validUntil"`
	CredentialSubject QualificationSubject `json:"credentialSubject"`
	CredentialStatus  StatusEntry          `json:"credentialStatus"`
}

// Subject returns the coop's peer ID.
func (q *Qualification) Subject() string {
	return strings.TrimPrefix(q.CredentialSubject.ID, PeerURNPrefix)
}

// Window returns the validity window.
func (q *Qualification) Window() (from, until time.Time) {
	from, _ = time.Parse(time.RFC3339, q.ValidFrom)
	until, _ = time.Parse(time.RFC3339, q.ValidUntil)
	return from, until
}

// Covers reports whether the credential covers category (or a parent term
// of it) in every one of municipalities, and if not, why.
func (q *Qualification) Covers(category string, municipalities []string) (bool, string) {
	if !coversCategory(q.CredentialSubject.Categories, category) {
		return false, "category " + category + " not qualified"
	}
	for _, m := range municipalities {
		if !slices.Contains(q.CredentialSubject.Municipalities, m) {
			return false, "municipality " + m + " not qualified"
		}
	}
	return true, ""
}

// coversCategory: a credential for a top term covers its children, whose
// codes extend it after a dot ("anziani" covers "anziani.pasti").
func coversCategory(granted []string, category string) bool {
	for _, g := range granted {
		if g == category || strings.HasPrefix(category, g+".") {
			return true
		}
	}
	return false
}

// Validate checks the VC 2.0 shape and Difronte's rules on a qualification.
func (q *Qualification) Validate() error {
	if err := checkVCFrame(q.Context, q.Type, QualificationType, q.Issuer); err != nil {
		return err
	}
	if !isURI(q.ID) {
		return refuse("credential id %q is not a URI", q.ID)
	}
	from, until, err := window(q.ValidFrom, q.ValidUntil, true)
	if err != nil {
		return err
	}
	_, _ = from, until
	s := q.CredentialSubject
	pid, ok := strings.CutPrefix(s.ID, PeerURNPrefix)
	if !ok {
		return refuse("subject %q is not a peer URN", s.ID)
	}
	if _, err := PublicKeyFromPeerID(pid); err != nil {
		return refuse("subject: %v", err)
	}
	if len(s.Categories) == 0 || len(s.Categories) > 100 {
		return refuse("%d categories", len(s.Categories))
	}
	for _, c := range s.Categories {
		if !KnownTerm(c) {
			return refuse("unknown category %q", c)
		}
	}
	if len(s.Municipalities) == 0 || len(s.Municipalities) > MaxAreas {
		return refuse("%d municipalities", len(s.Municipalities))
	}
	for _, m := range s.Municipalities {
		if !ValidMunicipality(m) {
			return refuse("unknown municipality %q", m)
		}
	}
	st := q.CredentialStatus
	if st.Type != StatusEntryType || st.StatusPurpose != StatusPurpose {
		return refuse("credentialStatus must be a %s for %s", StatusEntryType, StatusPurpose)
	}
	if !isURI(st.StatusListCredential) || !isURI(st.ID) {
		return refuse("credentialStatus ids must be URIs")
	}
	if _, err := st.Index(); err != nil {
		return err
	}
	return nil
}

// StatusListSubject carries the compressed bitstring.
type StatusListSubject struct {
	ID            string `json:"id"`
	Type          string `json:"type"`
	StatusPurpose string `json:"statusPurpose"`
	EncodedList   string `json:"encodedList"`
}

// StatusList is the payload of a Bitstring Status List credential. Lists
// only move forward: of two lists with one id, the one with the later
// ValidFrom wins, so an old list replayed cannot un-revoke anybody.
type StatusList struct {
	Context           []string          `json:"@context"`
	ID                string            `json:"id"`
	Type              []string          `json:"type"`
	Issuer            Issuer            `json:"issuer"`
	ValidFrom         string            `json:"validFrom"`
	ValidUntil        string            `json:"validUntil,omitempty"`
	CredentialSubject StatusListSubject `json:"credentialSubject"`
}

// Validate checks the shape and that the list decodes to StatusListBits.
func (l *StatusList) Validate() error {
	if err := checkVCFrame(l.Context, l.Type, StatusListType, l.Issuer); err != nil {
		return err
	}
	if !isURI(l.ID) {
		return refuse("status list id %q is not a URI", l.ID)
	}
	if _, _, err := window(l.ValidFrom, l.ValidUntil, false); err != nil {
		return err
	}
	s := l.CredentialSubject
	if s.Type != "BitstringStatusList" || s.StatusPurpose != StatusPurpose {
		return refuse("status list subject must be a BitstringStatusList for %s", StatusPurpose)
	}
	if _, err := DecodeBitstring(s.EncodedList); err != nil {
		return err
	}
	return nil
}

// Issued returns ValidFrom as a time.
func (l *StatusList) Issued() time.Time {
	t, _ := time.Parse(time.RFC3339, l.ValidFrom)
	return t
}

// Revoked reports whether bit i is set.
func (l *StatusList) Revoked(i int) (bool, error) {
	bits, err := DecodeBitstring(l.CredentialSubject.EncodedList)
	if err != nil {
		return false, err
	}
	return BitSet(bits, i), nil
}

func checkVCFrame(ctx, typ []string, want string, iss Issuer) error {
	if len(ctx) == 0 || ctx[0] != CredentialsV2Context {
		return refuse("@context must start with %s", CredentialsV2Context)
	}
	if len(typ) != 2 || !slices.Contains(typ, VerifiableCredential) || !slices.Contains(typ, want) {
		return refuse("type must be [%s %s]", VerifiableCredential, want)
	}
	if !isURI(iss.ID) {
		return refuse("issuer id %q is not a URI", iss.ID)
	}
	if len(iss.Name) > 200 {
		return refuse("issuer name too long")
	}
	return nil
}

func window(from, until string, needUntil bool) (time.Time, time.Time, error) {
	f, err := time.Parse(time.RFC3339, from)
	if err != nil {
		return f, f, refuse("validFrom %q is not an RFC 3339 time", from)
	}
	if until == "" && !needUntil {
		return f, time.Time{}, nil
	}
	u, err := time.Parse(time.RFC3339, until)
	if err != nil {
		return f, u, refuse("validUntil %q is not an RFC 3339 time", until)
	}
	if !u.After(f) {
		return f, u, refuse("validUntil is not after validFrom")
	}
	return f, u, nil
}

// isURI is a deliberately small check: a scheme, a colon, no spaces.
func isURI(s string) bool {
	i := strings.IndexByte(s, ':')
	if i < 1 || i == len(s)-1 || len(s) > 500 || strings.ContainsAny(s, " \t\r\n\"<>") {
		return false
	}
	for j, r := range s[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || j > 0 && (r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.')) {
			return false
		}
	}
	return true
}

// Token is a structurally checked but not yet verified credential.
type Token struct {
	Raw     string
	KeyID   string
	payload []byte
	jws     *jose.JSONWebSignature
}

// allowedHeader is everything a Difronte credential header may hold.
// Anything else (jwk, jku, x5u, x5c, crit, b64, cty, ...) is refused rather
// than ignored: it either names a key we must not use, or changes how the
// signature must be read.
var allowedHeader = map[string]bool{"alg": true, "kid": true, "typ": true}

// ParseToken checks the form of a credential token without any key:
// compact serialization, protected header of exactly alg EdDSA, kid, typ
// vc+jwt, and no top-level "vc" claim in the payload.
func ParseToken(token string) (*Token, error) {
	if len(token) > MaxCredentialSize {
		return nil, refuse("token of %d bytes", len(token))
	}
	if strings.HasPrefix(strings.TrimSpace(token), "{") {
		return nil, refuse("JSON serialization; only the compact form is accepted")
	}
	parts := strings.Split(token, ".")
	if len(parts) != 3 {
		return nil, refuse("compact JWS has 3 parts, got %d", len(parts))
	}
	hb, err := base64.RawURLEncoding.Strict().DecodeString(parts[0])
	if err != nil {
		return nil, refuse("header is not base64url")
	}
	if err := CheckJSON(hb); err != nil {
		return nil, refuse("header: %v", err)
	}
	var hdr map[string]json.RawMessage
	if err := json.Unmarshal(hb, &hdr); err != nil {
		return nil, refuse("header is not a JSON object")
	}
	for k := range hdr {
		if !allowedHeader[k] {
			return nil, refuse("header member %q not allowed", k)
		}
	}
	var alg, typ, kid string
	_ = json.Unmarshal(hdr["alg"], &alg)
	_ = json.Unmarshal(hdr["typ"], &typ)
	_ = json.Unmarshal(hdr["kid"], &kid)
	if alg != string(jose.EdDSA) {
		return nil, refuse("alg %q; only EdDSA is accepted", alg)
	}
	if typ != CredentialTyp {
		return nil, refuse("typ %q; want %s", typ, CredentialTyp)
	}
	if kid == "" || len(kid) > 200 {
		return nil, refuse("kid missing")
	}
	jws, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{jose.EdDSA})
	if err != nil {
		return nil, refuse("parse JWS: %v", err)
	}
	if len(jws.Signatures) != 1 || jws.Signatures[0].Protected.JSONWebKey != nil {
		return nil, refuse("embedded key")
	}
	payload := jws.UnsafePayloadWithoutVerification()
	var top map[string]json.RawMessage
	if err := json.Unmarshal(payload, &top); err != nil {
		return nil, refuse("payload is not a JSON object")
	}
	if err := CheckJSON(payload); err != nil {
		return nil, refuse("payload: %v", err)
	}
	if _, ok := top["vc"]; ok {
		return nil, refuse(`top-level "vc" claim: VC-JWT 1.1 shape, not VC 2.0`)
	}
	return &Token{Raw: token, KeyID: kid, payload: payload, jws: jws}, nil
}

// Verify checks the signature with pub and returns the payload.
func (t *Token) Verify(pub ed25519.PublicKey) ([]byte, error) {
	p, err := t.jws.Verify(pub)
	if err != nil {
		return nil, refuse("signature does not verify with key %s", t.KeyID)
	}
	return p, nil
}

// Payload is the unverified payload: for display and routing only.
func (t *Token) Payload() []byte { return t.payload }

// Payload decoding is strict: unknown members are refused, so two nodes
// can never disagree on what a credential says.
func decodeCredential(p []byte, v any) error {
	if err := decodeOne(p, v); err != nil {
		return refuse("payload: %v", err)
	}
	return nil
}

// DecodeQualification decodes and validates a qualification payload.
func DecodeQualification(p []byte) (*Qualification, error) { return decodeValid[Qualification](p) }

// decodeValid decodes a credential payload strictly and validates it.
func decodeValid[T any, P interface {
	*T
	Validate() error
}](p []byte) (P, error) {
	v := P(new(T))
	if err := decodeCredential(p, v); err != nil {
		return nil, err
	}
	if err := v.Validate(); err != nil {
		return nil, err
	}
	return v, nil
}

// DecodeStatusList decodes and validates a status list payload.
func DecodeStatusList(p []byte) (*StatusList, error) { return decodeValid[StatusList](p) }

// SignCredential signs payload as a VC-JWT with an Ed25519 key.
func SignCredential(priv ed25519.PrivateKey, kid string, payload any) (string, error) {
	body, err := json.Marshal(payload)
	if err != nil {
		return "", fmt.Errorf("encode credential: %w", err)
	}
	opts := (&jose.SignerOptions{}).WithType(CredentialTyp).WithHeader(jose.HeaderKey("kid"), kid)
	s, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.EdDSA, Key: priv}, opts)
	if err != nil {
		return "", fmt.Errorf("credential signer: %w", err)
	}
	obj, err := s.Sign(body)
	if err != nil {
		return "", fmt.Errorf("sign credential: %w", err)
	}
	tok, err := obj.CompactSerialize()
	if err != nil {
		return "", fmt.Errorf("serialize credential: %w", err)
	}
	if len(tok) > MaxCredentialSize {
		return "", fmt.Errorf("credential of %d bytes exceeds %d", len(tok), MaxCredentialSize)
	}
	return tok, nil
}

// FormatTime writes a credential time (RFC 3339, seconds, UTC).
func FormatTime(t time.Time) string { return t.UTC().Truncate(time.Second).Format(time.RFC3339) }

// CredentialEntryBody wraps a token as an entry body (a JSON string).
func CredentialEntryBody(token string) []byte {
	b, _ := json.Marshal(token)
	return b
}

// CredentialBody checks an entry body of kind k (KindQualification or
// KindStatusList) under key, without any key material: it must be a JSON
// string holding a well-formed token whose payload has the right shape and
// whose id is the entry key. It returns the token.
func CredentialBody(k Kind, key string, body []byte) (*Token, error) {
	var raw string
	if err := decodeStrict(body, &raw); err != nil {
		return nil, refuse("entry body is not a JSON string")
	}
	t, err := ParseToken(raw)
	if err != nil {
		return nil, err
	}
	var id string
	switch k {
	case KindQualification:
		q, err := DecodeQualification(t.payload)
		if err != nil {
			return nil, err
		}
		id = q.ID
	case KindStatusList:
		l, err := DecodeStatusList(t.payload)
		if err != nil {
			return nil, err
		}
		id = l.ID
	default:
		return nil, fmt.Errorf("%w: %q is not a credential kind", ErrUnknownKind, k)
	}
	if id != key {
		return nil, refuse("credential id %q does not match entry key %q", id, key)
	}
	return t, nil
}
