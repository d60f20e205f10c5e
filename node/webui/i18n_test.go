package webui

import "testing"

// TestCataloguesParsedOnce: every translator (the alerts', the citizens'
// notices') reads the same parse of the embedded catalogues as the pages
// do, instead of holding its own copy of every message's templates.
func TestCataloguesParsedOnce(t *testing.T) {
	a, err := NewTranslator()
	if err != nil {
		t.Fatal(err)
	}
	b, err := NewTranslator()
	if err != nil {
		t.Fatal(err)
	}
	pages, err := embedded()
	if err != nil {
		t.Fatal(err)
	}
	if a.c != b.c || a.c != pages {
		t.Error("two translators parsed the catalogues twice")
	}
	if got := a.Text("it", "lang.en"); got == "⟦lang.en⟧" {
		t.Errorf("shared catalogue does not translate: %q", got)
	}
}
