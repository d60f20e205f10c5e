package auth

import "testing"

// TestAccountEmailChecked: a staff account's e-mail is one bare address
// or nothing.
func TestAccountEmailChecked(t *testing.T) {
	for _, e := range []string{"", "gestore@coop.example"} {
		if err := checkText(AccountRequest{Email: e}); err != nil {
			t.Errorf("%q refused: %v", e, err)
		}
	}
	for _, e := range []string{"gestore", "Gino <gestore@coop.example>", "a@b.example, c@d.example", "x@y.example\nBcc: z@w.example"} {
		if err := checkText(AccountRequest{Email: e}); err == nil {
			t.Errorf("%q accepted", e)
		}
	}
}
