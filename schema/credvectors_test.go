package schema

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// The credential conformance vectors of docs/PROTOCOL.md, section 8:
// qualification and status-list tokens, each with the JWKS a receiver
// trusts, the receiver's clock and what it decides, with the reason of a
// refusal word for word. This test writes them (-update) and checks that
// this implementation agrees with every one.

type credentialVectorFile struct {
	Format  string             `json:"format"`
	Trust   json.RawMessage    `json:"trust"`
	Vectors []credentialVector `json:"vectors"`
}

type credentialVector struct {
	Name string `json:"name"`
	// Kind is qualification or status_list.
	Kind  string `json:"kind"`
	Token string `json:"token"`
	Now   string `json:"now"`
	// Trust replaces the file's trust for this vector.
	Trust  json.RawMessage `json:"trust,omitempty"`
	Expect string          `json:"expect"` // accept or refuse
	// Reason is the refusal after "credential refused: ".
	Reason string `json:"reason,omitempty"`
	// Revoked lists, for an accepted status list, the indexes it revokes
	// among those of Probe; every other index of Probe is not revoked.
	Revoked []int `json:"revoked,omitempty"`
	Probe   []int `json:"probe,omitempty"`
}

func credentialVectorsPath() string {
	return filepath.Join("..", "testdata", "protocol", "credentials.json")
}

func vectorJWKS(t testing.TB, mut func(*AuthorityKey)) json.RawMessage {
	k := NewAuthorityKey(authPub(), testIssuer, "Comune di Bologna", []string{"037006", "037"})
	if mut != nil {
		mut(&k)
	}
	b, err := MarshalJWKS([]AuthorityKey{k})
	if err != nil {
		t.Fatal(err)
	}
	var c json.RawMessage
	if c, err = json.Marshal(json.RawMessage(b)); err != nil {
		t.Fatal(err)
	}
	return c
}

func buildCredentialVectors(t *testing.T) credentialVectorFile {
	at := func(tm time.Time) string { return tm.UTC().Format(time.RFC3339) }
	now := t0.Add(time.Hour)
	bits := NewBitstring()
	SetBit(bits, 7)
	SetBit(bits, 131071)
	v := []credentialVector{
		{Name: "valid qualification", Kind: "qualification", Token: mustSign(t, authKey, sampleQualification()), Now: at(now), Expect: "accept"},
		{Name: "valid qualification under a province code", Kind: "qualification", Token: mustSign(t, authKey, json.RawMessage(qualJSON(func(q *Qualification) {
			q.CredentialSubject.Municipalities = []string{"037054"}
		}))), Now: at(now), Expect: "accept"},
		{Name: "valid status list", Kind: "status_list", Token: mustSign(t, authKey, sampleStatusList(bits, t0)), Now: at(now), Expect: "accept",
			Revoked: []int{7, 131071}, Probe: []int{0, 6, 7, 8, 131071}},
		{Name: "status list from an untrusted key", Kind: "status_list", Token: mustSign(t, otherKey, sampleStatusList(bits, t0)), Now: at(now), Expect: "refuse",
			Reason: `kid "` + Thumbprint(otherPub()) + `" is not a trusted authority key`},
	}
	for _, c := range hostileCredentials(t) {
		cv := credentialVector{Name: c.name, Kind: "qualification", Token: c.token, Now: at(c.now), Expect: "refuse", Reason: c.why}
		if c.key != nil {
			cv.Trust = vectorJWKS(t, c.key)
		}
		v = append(v, cv)
	}
	return credentialVectorFile{Format: "difronte-credential-vectors/1", Trust: vectorJWKS(t, nil), Vectors: v}
}

func TestCredentialVectors(t *testing.T) {
	if updateGolden() {
		b, err := json.MarshalIndent(buildCredentialVectors(t), "", "  ")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(credentialVectorsPath(), append(b, '\n'), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile(credentialVectorsPath())
	if err != nil {
		t.Fatal(err)
	}
	var f credentialVectorFile
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	if f.Format != "difronte-credential-vectors/1" || len(f.Vectors) < 30 {
		t.Fatalf("format %q, %d vectors", f.Format, len(f.Vectors))
	}
	accepted := 0
	for _, v := range f.Vectors {
		t.Run(v.Name, func(t *testing.T) {
			trust := f.Trust
			if v.Trust != nil {
				trust = v.Trust
			}
			keys, err := ParseJWKS(trust)
			if err != nil {
				t.Fatal(err)
			}
			ts, err := NewTrustSet(keys)
			if err != nil {
				t.Fatal(err)
			}
			now, err := time.Parse(time.RFC3339, v.Now)
			if err != nil {
				t.Fatal(err)
			}
			err = checkCredentialVector(t, ts, v, now)
			switch {
			case v.Expect == "accept" && err != nil:
				t.Fatalf("refused: %v", err)
			case v.Expect == "accept":
				accepted++
			case err == nil:
				t.Fatal("accepted")
			case !errors.Is(err, ErrCredential) || err.Error() != ErrCredential.Error()+": "+v.Reason:
				t.Fatalf("reason %q, the vector says %q", err, v.Reason)
			}
		})
	}
	if accepted != 3 {
		t.Fatalf("%d vectors accepted, want 3", accepted)
	}
}

func checkCredentialVector(t *testing.T, ts *TrustSet, v credentialVector, now time.Time) error {
	if v.Kind == "qualification" {
		_, _, err := ts.VerifyQualification(v.Token, now)
		return err
	}
	l, _, err := ts.VerifyStatusList(v.Token)
	if err != nil {
		return err
	}
	for _, i := range v.Probe {
		got, err := l.Revoked(i)
		if err != nil {
			t.Fatalf("index %d: %v", i, err)
		}
		if want := slices.Contains(v.Revoked, i); got != want {
			t.Fatalf("index %d revoked %v, the vector says %v", i, got, want)
		}
	}
	return nil
}
