package search

// uuid is a UUID as its 16 bytes.
type uuid [16]byte

// parseUUID reads a UUID in its text form; anything else is the zero uuid.
func parseUUID(s string) uuid {
	var u uuid
	if len(s) != 36 {
		return uuid{}
	}
	j := 0
	for i := 0; i < 36; i++ {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			if s[i] != '-' {
				return uuid{}
			}
			continue
		}
		h, ok1 := unhex(s[i])
		l, ok2 := unhex(s[i+1])
		if !ok1 || !ok2 {
			return uuid{}
		}
		u[j] = h<<4 | l
		j++
		i++
	}
	return u
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// String is the UUID's text form (lower case).
func (u uuid) String() string {
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 36)
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			b = append(b, '-')
		}
		b = append(b, hex[c>>4], hex[c&15])
	}
	return string(b)
}
