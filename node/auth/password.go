package auth

import (
	_ "embed"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/trustelem/zxcvbn"
	"github.com/trustelem/zxcvbn/match"
)

// PasswordError says why a chosen password is refused, so that the person
// can choose a better one (NIST SP 800-63B asks for the reason to be given).
// Every PasswordError is an ErrWeakPassword for errors.Is.
type PasswordError struct {
	Code string // stable machine code, also the message-catalogue key "err.<code>"
	msg  string // safe English text for API clients
}

func (e *PasswordError) Error() string { return e.msg }

// Is makes every refusal of a password match ErrWeakPassword.
func (e *PasswordError) Is(target error) bool { return target == ErrWeakPassword }

// The refusals of a chosen password.
var (
	ErrWeakPassword     = &PasswordError{Code: "weak_password", msg: "password must have at least 10 characters"}
	ErrPasswordPersonal = &PasswordError{Code: "password_personal",
		msg: "password must not be built on the username, the person's name or the coop's name"}
	ErrPasswordCommon = &PasswordError{Code: "password_common",
		msg: "password is made of common words, names or passwords: add unusual words, or use a longer phrase"}
	ErrPasswordPattern = &PasswordError{Code: "password_pattern",
		msg: "password is easy to guess: avoid repeats, sequences such as 12345 or abcd, keyboard rows and dates"}
)

// minStrength is the lowest zxcvbn score accepted: 3 means about 10^8
// guesses or more, safe against online guessing and slowed down offline.
const minStrength = 3

// maxScored bounds the characters the estimator looks at: its cost grows
// faster than linearly, and a prefix can only look weaker than the whole.
const maxScored = 64

// wordsIT are Italian words and passwords the estimator's English lists
// miss, most common first.
//
//go:embed words_it.txt
var wordsIT string

// ValidatePassword checks a chosen password: at least 10 characters, and
// hard to guess for the zxcvbn estimator with Italian words added and with
// personal (the username, the person's name, the coop's name) counted as
// the easiest words of all.
func ValidatePassword(pw string, personal ...string) error {
	if utf8.RuneCountInString(pw) < 10 || len(pw) > 256 {
		return ErrWeakPassword
	}
	own := personalWords(personal)
	scored := pw
	if utf8.RuneCountInString(pw) > maxScored {
		scored = string([]rune(pw)[:maxScored])
	}
	words := append(own, italianWords(own)...)
	r := zxcvbn.PasswordStrength(scored, words)
	if r.Score < minStrength {
		return weakness(r.Sequence, len(own))
	}
	// The estimator lets many short matches add up: "rossimario1960" passes.
	// What is left without the personal words must be strong by itself.
	if rest := withoutWords(strings.ToLower(scored), own); rest != strings.ToLower(scored) &&
		zxcvbn.PasswordStrength(rest, words).Score < minStrength {
		return ErrPasswordPersonal
	}
	return nil
}

// withoutWords removes every occurrence of words from s, longest first.
func withoutWords(s string, words []string) string {
	words = slices.Clone(words)
	slices.SortStableFunc(words, func(a, b string) int { return len(b) - len(a) })
	for _, w := range words {
		s = strings.ReplaceAll(s, w, "")
	}
	return s
}

// weakness names the reason a password scored low from the matches the
// estimator found in it; the first own words are the personal ones.
func weakness(seq []*match.Match, own int) error {
	var dict, pattern bool
	for _, m := range seq {
		switch m.Pattern {
		case "dictionary":
			if m.DictionaryName == "user_inputs" && m.Rank <= own {
				return ErrPasswordPersonal
			}
			dict = true
		case "repeat", "sequence", "spatial", "date", "regex":
			pattern = true
		}
	}
	if pattern && !dict {
		return ErrPasswordPattern
	}
	return ErrPasswordCommon
}

// personalWords are the personal inputs, whole and split into words of
// three letters or more, lower case, without repeats.
func personalWords(inputs []string) []string {
	var out []string
	seen := map[string]bool{}
	add := func(w string) {
		w = strings.ToLower(w)
		if utf8.RuneCountInString(w) >= 3 && !seen[w] {
			seen[w] = true
			out = append(out, w)
		}
	}
	for _, in := range inputs {
		words := strings.FieldsFunc(in, func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsDigit(r) })
		add(in)
		add(strings.Join(words, ""))
		for _, w := range words {
			add(w)
		}
	}
	return out
}

// italianWords lists wordsIT but for the personal words, which must keep
// their own, lower, rank.
func italianWords(personal []string) []string {
	var out []string
	for line := range strings.Lines(wordsIT) {
		if w := strings.TrimSpace(line); w != "" && !strings.HasPrefix(w, "#") && !slices.Contains(personal, w) {
			out = append(out, w)
		}
	}
	return out
}
