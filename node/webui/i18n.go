package webui

import (
	"encoding/json"
	"fmt"
	"io/fs"
	"net/http"
	"path"
	"strings"
	"sync"

	"github.com/nicksnyder/go-i18n/v2/i18n"
	"golang.org/x/text/language"

	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/web"
)

// catalogues are the loaded message catalogues.
type catalogues struct {
	bundle  *i18n.Bundle
	matcher language.Matcher
	langs   []string
	locs    map[string]*i18n.Localizer
}

func loadCatalogues(fsys fs.FS) (*catalogues, error) {
	langs := web.Languages()
	b := i18n.NewBundle(language.Make(langs[0]))
	b.RegisterUnmarshalFunc("json", json.Unmarshal)
	c := &catalogues{bundle: b, langs: langs, locs: map[string]*i18n.Localizer{}}
	tags := make([]language.Tag, 0, len(langs))
	for _, l := range langs {
		// <lang>.json, plus one <area>.<lang>.json per feature area, so
		// features keep their messages apart.
		names := []string{l + ".json"}
		more, err := fs.Glob(fsys, "*."+l+".json")
		if err != nil {
			return nil, err
		}
		names = append(names, more...)
		for _, name := range names {
			raw, err := fs.ReadFile(fsys, name)
			if err != nil {
				return nil, fmt.Errorf("read catalogue %s: %w", name, err)
			}
			if _, err := b.ParseMessageFileBytes(raw, path.Join("locales", name)); err != nil {
				return nil, fmt.Errorf("parse catalogue %s: %w", name, err)
			}
		}
		tags = append(tags, language.Make(l))
		// Only the chosen language, no fallback: a key missing in English
		// is a defect the tests catch, not something to paper over.
		c.locs[l] = i18n.NewLocalizer(b, l)
	}
	c.matcher = language.NewMatcher(tags)
	return c, nil
}

// translate returns the message key in lang, with args as name/value pairs
// for the message's template. A missing key shows as ⟦key⟧ so that tests
// and people notice.
func (c *catalogues) translate(lang, key string, args ...any) string {
	loc := c.locs[lang]
	if loc == nil {
		loc = c.locs[c.langs[0]]
	}
	var data map[string]any
	if len(args) > 0 {
		data = make(map[string]any, len(args)/2)
		for i := 0; i+1 < len(args); i += 2 {
			data[fmt.Sprint(args[i])] = args[i+1]
		}
	}
	cfg := &i18n.LocalizeConfig{MessageID: key, TemplateData: data}
	// A message with plural forms ({"one": ..., "other": ...}) picks its
	// form by the Count argument.
	switch n := data["Count"].(type) {
	case int, int64, float64, string:
		cfg.PluralCount = n
	case uint64:
		cfg.PluralCount = int64(n)
	case uint32:
		cfg.PluralCount = int64(n)
	case int32:
		cfg.PluralCount = int64(n)
	}
	s, err := loc.Localize(cfg)
	if err != nil {
		return "⟦" + key + "⟧"
	}
	return s
}

// has reports whether lang's catalogue has key.
func (c *catalogues) has(lang, key string) bool {
	_, err := c.locs[lang].Localize(&i18n.LocalizeConfig{MessageID: key})
	return err == nil
}

// language picks the page language: the lang cookie, then the account's
// preference, then Accept-Language, then Italian.
func (c *catalogues) language(r *http.Request) string {
	if ck, err := r.Cookie(LangCookie); err == nil && c.locs[ck.Value] != nil {
		return ck.Value
	}
	if a := httpx.Account(r); a != nil && c.locs[a.Lang] != nil {
		return a.Lang
	}
	if h := r.Header.Get("Accept-Language"); h != "" {
		tags, _, err := language.ParseAcceptLanguage(h)
		if err == nil && len(tags) > 0 {
			_, i, conf := c.matcher.Match(tags...)
			if conf != language.No {
				return c.langs[i]
			}
		}
	}
	return c.langs[0]
}

// langPost stores the chosen language in a cookie and goes back.
func (u *ui) langPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, err)
		return
	}
	l := r.PostForm.Get("lang")
	if u.cat.locs[l] == nil {
		l = u.cat.langs[0]
	}
	http.SetCookie(w, &http.Cookie{Name: LangCookie, Value: l, Path: "/", MaxAge: 365 * 24 * 3600, HttpOnly: true, SameSite: http.SameSiteLaxMode})
	http.Redirect(w, r, localPath(strings.TrimSpace(r.PostForm.Get("next"))), http.StatusSeeOther)
}

// Translator renders the message catalogues outside the pages: the texts
// of alerts and notices the node sends, in their recipient's language.
type Translator struct{ c *catalogues }

// embedded are the embedded catalogues, parsed once per process: the
// pages, the alerts and the citizens' notices of every node in it share
// them, read only. Each parse holds some 25,000 heap objects (a message's
// templates) that every collection marks.
var embedded = sync.OnceValues(func() (*catalogues, error) { return loadCatalogues(web.Locales()) })

// NewTranslator returns a translator over the embedded catalogues.
func NewTranslator() (*Translator, error) {
	c, err := embedded()
	if err != nil {
		return nil, err
	}
	return &Translator{c: c}, nil
}

// Text is the message key in lang (the first language when lang has no
// catalogue), with args as name/value pairs.
func (t *Translator) Text(lang, key string, args ...any) string {
	return t.c.translate(lang, key, args...)
}
