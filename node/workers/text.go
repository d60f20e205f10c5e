package workers

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/web"
)

// Texts renders the reasons and gaps of matches through the message
// catalogues (web/locales/workers.<lang>.json), Italian first.
type Texts struct {
	locs map[string]*i18n.Localizer
}

// LoadTexts reads the workers' catalogues.
func LoadTexts() (*Texts, error) {
	langs := web.Languages()
	b := i18n.NewBundle(language.Make(langs[0]))
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	t := &Texts{locs: map[string]*i18n.Localizer{}}
	for _, l := range langs {
		name := "workers." + l + ".json"
		raw, err := fs.ReadFile(web.Locales(), name)
		if err != nil {
			return nil, fmt.Errorf("read catalogue %s: %w", name, err)
		}
		if _, err := b.ParseMessageFileBytes(raw, name); err != nil {
			return nil, fmt.Errorf("parse catalogue %s: %w", name, err)
		}
		t.locs[l] = i18n.NewLocalizer(b, l)
	}
	return t, nil
}

// Lang picks the catalogue language for an Accept-Language header.
func (t *Texts) Lang(accept string) string {
	for _, part := range strings.Split(accept, ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		base := strings.SplitN(tag, "-", 2)[0]
		if _, ok := t.locs[base]; ok {
			return base
		}
	}
	return web.Languages()[0]
}

// T translates one key; a missing key shows as ⟦key⟧.
func (t *Texts) T(lang, key string, data map[string]any) string {
	loc := t.locs[lang]
	if loc == nil {
		loc = t.locs[web.Languages()[0]]
	}
	cfg := &i18n.LocalizeConfig{MessageID: key, TemplateData: data}
	if n, ok := data["Count"]; ok {
		cfg.PluralCount = n
	}
	s, err := loc.Localize(cfg)
	if err != nil {
		return "⟦" + key + "⟧"
	}
	return s
}

// Render fills the Text of every reason and gap of ms in lang.
func (t *Texts) Render(lang string, ms []Match) {
	for i := range ms {
		for j := range ms[i].Reasons {
			ms[i].Reasons[j].Text = t.note(lang, "workers.reason.", ms[i].Reasons[j])
		}
		for j := range ms[i].Gaps {
			ms[i].Gaps[j].Text = t.note(lang, "workers.gap.", ms[i].Gaps[j])
		}
	}
}

func (t *Texts) note(lang, prefix string, n Note) string {
	data := map[string]any{}
	for k, v := range n.Args {
		switch k {
		case "Langs":
			var names []string
			for _, l := range v.([]string) {
				names = append(names, t.LangName(lang, l))
			}
			data[k] = t.list(lang, names)
		case "Certificates":
			var names []string
			for _, c := range v.([]schema.Certificate) {
				names = append(names, t.T(lang, "workers.cert."+string(c), nil))
			}
			data[k] = t.list(lang, names)
		case "Municipality":
			data[k] = MunicipalityName(v.(string))
		case "Date":
			data[k] = shortDate(v.(string))
		case "Cents":
			data["Amount"] = Euros(v.(int64))
		default:
			data[k] = v
		}
	}
	return t.T(lang, prefix+n.Code, data)
}

// LangName names a language tag in lang, or returns the tag.
func (t *Texts) LangName(lang, tag string) string {
	s := t.T(lang, "workers.lang."+tag, nil)
	if strings.HasPrefix(s, "⟦") {
		return tag
	}
	return s
}

// list joins "a, b e c".
func (t *Texts) list(lang string, items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + t.T(lang, "workers.and", nil) + " " + items[len(items)-1]
}

// MunicipalityName is the official name of an ISTAT code, or the code.
func MunicipalityName(code string) string {
	if m, ok := schema.LookupMunicipality(code); ok {
		return m.Name
	}
	return code
}

// shortDate writes 2026-10-12 as 12/10.
func shortDate(d string) string {
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return d
	}
	return t.Format("02/01")
}

// Euros writes cents the Italian way: 135000 → "1.350 €", 135050 → "1.350,50 €".
func Euros(cents int64) string {
	e, c := cents/100, cents%100
	s := fmt.Sprint(e)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "." + s[i:]
	}
	if c != 0 {
		s += fmt.Sprintf(",%02d", c)
	}
	return s + " €"
}
