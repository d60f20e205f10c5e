// Package web holds the node's web assets: HTML templates, static CSS, ES
// modules and icons, and the Italian and English message catalogues. It is
// assets only, embedded with go:embed so that `go build` never needs npm or
// a front-end build step; node/webui renders them.
//
// web imports only the standard library; node/webui imports it.
package web

import (
	"embed"
	"io/fs"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var static embed.FS

//go:embed locales/*.json
var locales embed.FS

// Templates returns the HTML templates, one page per file plus the shared
// layout.html and partials.html.
func Templates() fs.FS { return sub(templates, "templates") }

// Static returns the files served under /static/.
func Static() fs.FS { return sub(static, "static") }

// Locales returns the message catalogues, one <lang>.json per language.
func Locales() fs.FS { return sub(locales, "locales") }

func sub(f embed.FS, dir string) fs.FS {
	s, err := fs.Sub(f, dir)
	if err != nil {
		// dir is a literal embedded above, so this is a build defect.
		panic(err)
	}
	return s
}

// Languages are the languages the UI is translated into; the first is the
// default.
func Languages() []string { return []string{"it", "en"} }
