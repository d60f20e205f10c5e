package qualify

import (
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/difronte/difronte/schema"
)

// LoadTrust reads a trust file: a JWKS of authority keys (schema.AuthorityKey).
func LoadTrust(path string) (*schema.TrustSet, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read trust file: %w", err)
	}
	keys, err := schema.ParseJWKS(b)
	if err != nil {
		return nil, fmt.Errorf("trust file %s: %w", path, err)
	}
	ts, err := schema.NewTrustSet(keys)
	if err != nil {
		return nil, fmt.Errorf("trust file %s: %w", path, err)
	}
	return ts, nil
}

// PrivateKey is one authority signing key as stored in the key file: an
// Ed25519 private JWK with the issuer id and the key's life.
type PrivateKey struct {
	Kty       string `json:"kty"`
	Crv       string `json:"crv"`
	X         string `json:"x"`
	D         string `json:"d"`
	Kid       string `json:"kid"`
	Issuer    string `json:"iss"`
	NotBefore int64  `json:"nbf,omitempty"`
	Retired   int64  `json:"retired,omitempty"`
}

// KeyFile is the authority key file: every key the authority ever used,
// the current one last. Rotation retires the current key and appends a new
// one; retired keys stay so the JWKS keeps publishing them.
type KeyFile struct {
	Keys []PrivateKey `json:"keys"`
}

// Current returns the signing key.
func (f *KeyFile) Current() (ed25519.PrivateKey, PrivateKey, error) {
	if len(f.Keys) == 0 {
		return nil, PrivateKey{}, errors.New("no authority key")
	}
	k := f.Keys[len(f.Keys)-1]
	if k.Retired != 0 {
		return nil, k, errors.New("the newest authority key is retired")
	}
	d, err := base64.RawURLEncoding.DecodeString(k.D)
	if err != nil || len(d) != ed25519.SeedSize {
		return nil, k, fmt.Errorf("authority key %s: bad d", k.Kid)
	}
	priv := ed25519.NewKeyFromSeed(d)
	if schema.Thumbprint(priv.Public().(ed25519.PublicKey)) != k.Kid {
		return nil, k, fmt.Errorf("authority key %s: kid does not match the key", k.Kid)
	}
	return priv, k, nil
}

// Public returns the public keys for a JWKS, with name, territory and the
// node's peer ID.
func (f *KeyFile) Public(name string, territory []string, peer string) []schema.AuthorityKey {
	out := make([]schema.AuthorityKey, 0, len(f.Keys))
	for _, k := range f.Keys {
		x, _ := base64.RawURLEncoding.DecodeString(k.X)
		a := schema.NewAuthorityKey(ed25519.PublicKey(x), k.Issuer, name, territory)
		a.NotBefore, a.Retired, a.Peer = k.NotBefore, k.Retired, peer
		out = append(out, a)
	}
	return out
}

// LoadKeyFile reads the authority key file.
func LoadKeyFile(path string) (*KeyFile, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read authority key: %w", err)
	}
	var f KeyFile
	if err := json.Unmarshal(b, &f); err != nil {
		return nil, fmt.Errorf("authority key %s: %w", path, err)
	}
	if _, _, err := f.Current(); err != nil {
		return nil, fmt.Errorf("authority key %s: %w", path, err)
	}
	return &f, nil
}

// GenerateKey creates the key file at path with a new key, or, if it
// exists, rotates: the current key is retired now and a new one appended
// under the same issuer. The file is written with mode 0600.
func GenerateKey(path string, now time.Time) (*KeyFile, error) {
	var f KeyFile
	b, err := os.ReadFile(path)
	switch {
	case err == nil:
		if err := json.Unmarshal(b, &f); err != nil {
			return nil, fmt.Errorf("authority key %s: %w", path, err)
		}
	case errors.Is(err, fs.ErrNotExist):
	default:
		return nil, fmt.Errorf("read authority key: %w", err)
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	issuer := "urn:difronte:authority:" + schema.Thumbprint(pub)
	if n := len(f.Keys); n > 0 {
		issuer = f.Keys[n-1].Issuer
		if f.Keys[n-1].Retired == 0 {
			f.Keys[n-1].Retired = now.Unix()
		}
	}
	f.Keys = append(f.Keys, PrivateKey{
		Kty: "OKP", Crv: "Ed25519",
		X:   base64.RawURLEncoding.EncodeToString(pub),
		D:   base64.RawURLEncoding.EncodeToString(priv.Seed()),
		Kid: schema.Thumbprint(pub), Issuer: issuer, NotBefore: now.Unix(),
	})
	out, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, out, 0o600); err != nil {
		return nil, fmt.Errorf("write authority key: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return nil, fmt.Errorf("write authority key: %w", err)
	}
	return &f, nil
}
