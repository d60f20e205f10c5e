package schema

import (
	"regexp"
	"slices"
	"strings"
	"testing"
)

func TestTaxonomyIntegrity(t *testing.T) {
	terms := Taxonomy()
	codeRE := regexp.MustCompile(`^[a-z]+(\.[a-z0-9]+(-[a-z0-9]+)*)?$`)
	icons := TaxonomyIcons()
	seen := map[string]bool{}
	children := map[string]int{}
	for i, term := range terms {
		if seen[term.Code] {
			t.Errorf("code %q appears twice", term.Code)
		}
		seen[term.Code] = true
		if !codeRE.MatchString(term.Code) {
			t.Errorf("code %q is not lower-case dotted", term.Code)
		}
		if term.Parent != "" {
			p, ok := Term(term.Parent)
			switch {
			case !ok:
				t.Errorf("%s: parent %q does not exist", term.Code, term.Parent)
			case p.Parent != "":
				t.Errorf("%s: parent %q is not a top category (the tree has two levels)", term.Code, term.Parent)
			case !strings.HasPrefix(term.Code, term.Parent+"."):
				t.Errorf("%s: code does not start with its parent's %q", term.Code, term.Parent)
			case !seen[term.Parent]:
				t.Errorf("%s at %d comes before its parent", term.Code, i)
			}
			children[term.Parent]++
		}
		for field, v := range map[string]string{"name_it": term.NameIT, "name_en": term.NameEN,
			"description_it": term.DescriptionIT, "description_en": term.DescriptionEN} {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %s is empty", term.Code, field)
			}
		}
		if !slices.Contains(icons, term.Icon) {
			t.Errorf("%s: icon %q is not one of %v", term.Code, term.Icon, icons)
		}
		if len(term.Keywords) == 0 {
			t.Errorf("%s: no keywords", term.Code)
		}
	}
	top := TopTerms()
	if len(top) < 8 {
		t.Errorf("%d top categories, want the ten of the design", len(top))
	}
	for _, tt := range top {
		if n := children[tt.Code]; n < 3 || n > 8 {
			t.Errorf("%s has %d subcategories, want 3 to 8", tt.Code, n)
		}
		if got := Children(tt.Code); len(got) != children[tt.Code] {
			t.Errorf("Children(%s) = %d terms, want %d", tt.Code, len(got), children[tt.Code])
		}
	}
	for _, code := range []string{"bambini", "anziani", "disabilita", "casa", "animali", "salute", "compagnia", "sostegno", "trasporto", "pasti",
		"anziani.assistenza-domiciliare", "salute.assistente-familiare", "compagnia.video-check-in", "casa.spesa-domicilio"} {
		if !KnownTerm(code) {
			t.Errorf("expected term %q is missing", code)
		}
		if term, _ := Term(code); term.NameIT == "" {
			t.Errorf("term %q has no Italian name", code)
		} else if name, ok := TermName(code); !ok || name != term.NameIT {
			t.Errorf("TermName(%q) = %q, %v; want %q", code, name, ok, term.NameIT)
		}
		if parent, ok := TermParent(code); !ok || parent != strings.Split(code, ".")[0] && parent != "" || parent == "" && strings.Contains(code, ".") {
			t.Errorf("TermParent(%q) = %q, %v", code, parent, ok)
		}
	}
	if _, ok := TermName("anziani."); ok {
		t.Error("TermName knows an unknown code")
	}
	if _, ok := TermParent("anziani."); ok {
		t.Error("TermParent knows an unknown code")
	}
	if KnownTerm("") || KnownTerm("anziani.") || Children("nope") != nil || Children("casa.pulizie") != nil {
		t.Error("unknown or leaf codes answer as if they had terms")
	}
}

func TestTaxonomyReturnsCopies(t *testing.T) {
	a := Taxonomy()
	a[0].NameIT = "changed"
	a[0].Keywords[0] = "changed"
	term, _ := Term(a[0].Code)
	term.Keywords[0] = "changed too"
	kids := Children(a[0].Code)
	kids[0].Keywords[0] = "changed three"
	b := Taxonomy()
	if b[0].NameIT == "changed" || b[0].Keywords[0] == "changed" || b[0].Keywords[0] == "changed too" {
		t.Fatalf("a caller's change leaked into the taxonomy: %+v", b[0])
	}
	if k, _ := Term(kids[0].Code); k.Keywords[0] == "changed three" {
		t.Fatal("Children returned shared keyword slices")
	}
}

func BenchmarkTaxonomyTerm(b *testing.B) {
	b.Run("baseline=linear-scan", func(b *testing.B) {
		terms := Taxonomy()
		for b.Loop() {
			found := false
			for _, t := range terms {
				if t.Code == "pasti.pranzi-condivisi" {
					found = true
					break
				}
			}
			if !found {
				b.Fatal("not found")
			}
		}
	})
	b.Run("KnownTerm", func(b *testing.B) {
		for b.Loop() {
			if !KnownTerm("pasti.pranzi-condivisi") {
				b.Fatal("not found")
			}
		}
	})
}

func TestCategoryTerms(t *testing.T) {
	codes, terms := CategoryTerms("anziani.assistenza-domiciliare", []string{"anziani", "salute.assistente-familiare", "nope"})
	if want := []string{"anziani", "anziani.assistenza-domiciliare", "nope", "salute", "salute.assistente-familiare"}; !slices.Equal(codes, want) {
		t.Fatalf("codes %v, want %v", codes, want)
	}
	var got []string
	for _, term := range terms {
		got = append(got, term.Code)
	}
	if want := []string{"anziani.assistenza-domiciliare", "anziani", "salute.assistente-familiare", "salute"}; !slices.Equal(got, want) {
		t.Fatalf("terms %v, want %v", got, want)
	}
}
