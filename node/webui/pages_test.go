package webui

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/difronte/difronte/web"
)

// TestPagesShareOneSet: every page is in one template set with the layout
// and the partials (not a copy of them each: 57 copies were about 145,000
// objects that every garbage collection traced), with its content under
// its own name; a page that does not define "content" exactly once, or
// that defines a template another file defines, is refused at start.
func TestPagesShareOneSet(t *testing.T) {
	pages, err := parsePages(web.Templates())
	if err != nil {
		t.Fatal(err)
	}
	if len(pages) < 50 {
		t.Fatalf("%d pages parsed", len(pages))
	}
	set := pages["catalogue"]
	for name, p := range pages {
		if p != set {
			t.Fatalf("page %s has a template set of its own", name)
		}
		if p.Lookup(contentOf(name)) == nil {
			t.Fatalf("page %s has no %s", name, contentOf(name))
		}
	}
	if set.Lookup("content") != nil {
		t.Fatal(`a template is still named "content"`)
	}

	layout := `<main>{{.Content}}</main>`
	for name, page := range map[string]string{
		"none.html": `<p>no content</p>`,
		"two.html":  `{{define "content"}}a{{end}}{{define "content"}}b{{end}}`,
		"same.html": `{{define "content"}}a{{end}}{{define "x"}}another x{{end}}`,
	} {
		fsys := fstest.MapFS{"layout.html": {Data: []byte(layout)}, "partials.html": {Data: []byte(`{{define "x"}}{{end}}`)},
			name: {Data: []byte(page)}}
		if _, err := parsePages(fsys); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: %v, want a refusal naming it", name, err)
		}
	}
}
