package schema

import (
	"strings"
	"unicode"
)

// ContactHidden reports whether free text hides a way to reach someone
// directly: "a phone number", "an e-mail address" or "a web address", or
// "" when it hides none. It is deliberately suspicious: digits spelled
// out ("tre quattro sette…", "three four seven…") or spread with spaces,
// dots and dashes count as digits; "at"/"chiocciola" and "dot"/"punto"
// count as '@' and '.'. A public profile that needs eight digits in a row
// to say something is refused: families reach workers through the coop.
func ContactHidden(s string) string {
	if s == "" {
		return ""
	}
	toks := contactTokens(s)
	if phoneRun(toks) {
		return "a phone number"
	}
	if hasEmail(toks) {
		return "an e-mail address"
	}
	if hasURL(strings.ToLower(s), toks) {
		return "a web address"
	}
	return ""
}

// minPhoneDigits is the shortest digit run taken for a phone number: an
// Italian landline without prefix has 6 to 8 digits, a mobile 10; dates
// and years are broken by words or are shorter.
const minPhoneDigits = 8

var digitWords = map[string]string{
	"zero": "0", "uno": "1", "una": "1", "due": "2", "tre": "3", "quattro": "4", "cinque": "5",
	"sei": "6", "sette": "7", "otto": "8", "nove": "9",
	"one": "1", "two": "2", "three": "3", "four": "4", "five": "5", "six": "6",
	"seven": "7", "eight": "8", "nine": "9", "oh": "0",
}

// contactTokens lower-cases s and splits it into tokens: runs of letters,
// runs of digits, and every other non-space character on its own.
// Homoglyphs a hider might use for digits (O for 0, l for 1) are left
// alone: they would flag ordinary words.
func contactTokens(s string) []string {
	var toks []string
	var cur strings.Builder
	kind := 0 // 1 letters, 2 digits
	flush := func() {
		if cur.Len() > 0 {
			toks = append(toks, cur.String())
			cur.Reset()
		}
		kind = 0
	}
	for _, r := range strings.ToLower(s) {
		switch {
		case unicode.IsLetter(r):
			if kind != 1 {
				flush()
			}
			kind = 1
			cur.WriteRune(r)
		case unicode.IsDigit(r):
			if kind != 2 {
				flush()
			}
			kind = 2
			if d := r - '0'; d >= 0 && d <= 9 {
				cur.WriteRune(r)
			} else {
				cur.WriteRune('0' + rune(unicode.ToLower(r)%10)) // other scripts' digits: any digit will do
			}
		case unicode.IsSpace(r):
			flush()
		default:
			flush()
			toks = append(toks, string(r))
		}
	}
	flush()
	return toks
}

// phoneRun reports a run of at least minPhoneDigits digits, written as
// digits or digit words, broken only by separators a number is written
// with.
func phoneRun(toks []string) bool {
	n := 0
	for i := 0; i < len(toks); i++ {
		t := toks[i]
		switch {
		case clockTime(toks, i):
			n = 0
			i += 2
			continue
		case isDigits(t):
			n += len(t)
		case digitWords[t] != "":
			n++
		case t == "+" || t == "-" || t == "." || t == "/" || t == "(" || t == ")" || t == "–" || t == "_" || t == "," || t == "*":
			continue
		default:
			n = 0
			continue
		}
		if n >= minPhoneDigits {
			return true
		}
	}
	return false
}

// clockTime reports a time of day "8.00" or "14.30" at toks[i] that is not
// part of a longer dotted group ("02.14.30.45" is a number).
func clockTime(toks []string, i int) bool {
	if i+2 >= len(toks) || toks[i+1] != "." || !isDigits(toks[i]) || !isDigits(toks[i+2]) {
		return false
	}
	h, m := toks[i], toks[i+2]
	if len(h) > 2 || len(m) != 2 || (len(h) == 2 && h > "24") || m > "59" {
		return false
	}
	return (i == 0 || toks[i-1] != ".") && (i+3 >= len(toks) || toks[i+3] != ".")
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// hasEmail finds "name @ domain . tld" with '@' also as "at", "chiocciola"
// or "(at)", and '.' also as "dot" or "punto".
func hasEmail(toks []string) bool {
	for i, t := range toks {
		at := t == "@" || t == "＠" || t == "chiocciola" || t == "chiocciolina"
		if !at && t == "at" && i > 0 && i+1 < len(toks) {
			// "at" is an English word: count it only between brackets or
			// when a dot-word and a domain follow ("at gmail dot com").
			at = i > 0 && (toks[i-1] == "(" || toks[i-1] == "[") || dotAhead(toks[i+1:])
		}
		if at && i > 0 && i+1 < len(toks) && dotAhead(toks[i+1:]) {
			return true
		}
	}
	return false
}

// dotAhead reports "domain . tld" (with brackets skipped) at the start of toks.
func dotAhead(toks []string) bool {
	j := 0
	for j < len(toks) && (toks[j] == ")" || toks[j] == "]") {
		j++
	}
	if j >= len(toks) || !wordLike(toks[j]) {
		return false
	}
	for j+2 < len(toks) && wordLike(toks[j]) && toks[j+1] == "-" {
		j += 2
	}
	j++
	if j+1 >= len(toks) {
		return false
	}
	dot := toks[j] == "." || toks[j] == "dot" || toks[j] == "punto"
	return dot && wordLike(toks[j+1]) && len(toks[j+1]) >= 2 && len(toks[j+1]) <= 10
}

func wordLike(t string) bool {
	for _, r := range t {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			return false
		}
	}
	return t != ""
}

// webTLDs are endings taken for a web address when written after a dot
// with no space ("mio-sito.it"); with "dot"/"punto" any ending counts.
var webTLDs = map[string]bool{
	"it": true, "com": true, "org": true, "net": true, "eu": true, "info": true, "me": true,
	"ro": true, "ua": true, "io": true, "ly": true, "co": true, "biz": true, "app": true,
}

// hasURL finds a scheme, "www", a messaging link (wa.me, t.me) or
// "name.tld" for a common ending.
func hasURL(lower string, toks []string) bool {
	joined := strings.Join(toks, " ")
	for _, w := range []string{"http :", "https :", "www .", "www dot", "www punto"} {
		if strings.Contains(joined, w) {
			return true
		}
	}
	for i := 0; i+2 < len(toks); i++ {
		if !wordLike(toks[i]) || isDigits(toks[i]) {
			continue
		}
		sep := toks[i+1]
		tld := toks[i+2]
		// "name.it" written without spaces, not "a Milano. It was…".
		if sep == "." && webTLDs[tld] && strings.Contains(lower, toks[i]+"."+tld) {
			return true
		}
		if (sep == "dot" || sep == "punto") && webTLDs[tld] {
			return true
		}
	}
	return false
}
