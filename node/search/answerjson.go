package search

import (
	"slices"
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends a's JSON to b: the same bytes encoding/json writes
// (HTML characters escaped, map keys sorted), without reflection or an
// allocation per field. Answers are the node's most frequent and largest
// replies; httpx.WriteJSON uses this and sends them in one write.
func (a Answer) AppendJSON(b []byte) []byte {
	b = append(b, `{"total":`...)
	b = strconv.AppendInt(b, int64(a.Total), 10)
	b = append(b, `,"page":`...)
	b = strconv.AppendInt(b, int64(a.Page), 10)
	b = append(b, `,"per_page":`...)
	b = strconv.AppendInt(b, int64(a.PerPage), 10)
	b = append(b, `,"results":`...)
	b = appendCards(b, a.Results)
	b = append(b, `,"facets":`...)
	if a.Facets == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '{')
		names := make([]string, 0, 8)
		for k := range a.Facets {
			names = append(names, k)
		}
		slices.Sort(names)
		for i, k := range names {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = appendValues(b, a.Facets[k])
		}
		b = append(b, '}')
	}
	if len(a.Similar) > 0 {
		b = append(b, `,"similar":`...)
		b = appendCards(b, a.Similar)
	}
	return append(b, '}')
}

func appendValues(b []byte, vs []LabelledValue) []byte {
	if vs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i, v := range vs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"value":`...)
		b = appendString(b, v.Value)
		if v.Label != "" {
			b = append(b, `,"label":`...)
			b = appendString(b, v.Label)
		}
		b = append(b, `,"count":`...)
		b = strconv.AppendInt(b, int64(v.Count), 10)
		b = append(b, '}')
	}
	return append(b, ']')
}

func appendCards(b []byte, cs []Card) []byte {
	if cs == nil {
		return append(b, "null"...)
	}
	b = append(b, '[')
	for i := range cs {
		if i > 0 {
			b = append(b, ',')
		}
		b = cs[i].appendJSON(b)
	}
	return append(b, ']')
}

func (c *Card) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = appendString(b, c.ID)
	b = append(b, `,"publisher":`...)
	b = appendString(b, c.Publisher)
	b = append(b, `,"coop_name":`...)
	b = appendString(b, c.CoopName)
	b = append(b, `,"name":`...)
	b = appendString(b, c.Name)
	b = append(b, `,"category":`...)
	b = appendString(b, c.Category)
	b = append(b, `,"delivery":`...)
	b = appendString(b, c.Delivery)
	b = append(b, `,"price":{"type":`...)
	b = appendString(b, c.Price.Type)
	if c.Price.AmountCents != 0 {
		b = append(b, `,"amount_cents":`...)
		b = strconv.AppendInt(b, c.Price.AmountCents, 10)
	}
	if c.Price.Currency != "" {
		b = append(b, `,"currency":`...)
		b = appendString(b, c.Price.Currency)
	}
	if c.Price.Unit != "" {
		b = append(b, `,"unit":`...)
		b = appendString(b, c.Price.Unit)
	}
	b = append(b, `},"municipalities":`...)
	if c.Municipalities == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i, p := range c.Municipalities {
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"code":`...)
			b = appendString(b, p.Code)
			b = append(b, `,"name":`...)
			b = appendString(b, p.Name)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"municipalities_total":`...)
	b = strconv.AppendInt(b, int64(c.MunicipalitiesTotal), 10)
	b = append(b, `,"qualified":`...)
	if q := c.Qualified; q == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, `{"authority":`...)
		b = appendString(b, q.Authority)
		if !q.Until.IsZero() {
			b = append(b, `,"until":"`...)
			b = q.Until.AppendFormat(b, time.RFC3339Nano)
			b = append(b, '"')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string the way encoding/json does with
// HTML escaping: <, > and & as \u escapes, U+2028 and U+2029 escaped,
// invalid UTF-8 as U+FFFD.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		if c := s[i]; c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
