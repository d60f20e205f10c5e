package federation

import (
	"encoding/hex"
	"testing"
)

// The memberlist key is derived, not stored: every node of a federation,
// of any release, must derive the same key from the same passphrase.
func TestMembersSecretDerivation(t *testing.T) {
	seed := make([]byte, 32)
	for i := range seed {
		seed[i] = byte(i)
	}
	for _, c := range []struct{ pass, want string }{
		{"redial pair", "34b4ee0d47f17bb4e5c12f351dc390eb0ab9c239ba383230b61d0d02566fc0f2"},
		{"", "58957b21cfc67a21e8cc0619dfd9f4b2604eb85ae34d127b096b6a6a6df102c7"},
	} {
		if got := hex.EncodeToString(membersSecret(c.pass, seed)); got != c.want {
			t.Errorf("secret of %q: %s, want %s", c.pass, got, c.want)
		}
	}
}
