package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestEveryMutationApplies checks, without running any mutant, that each
// mutation's snippet still occurs exactly once in its file and that names
// are unique: a change to the code that moves a snippet makes `make
// mutate` report the mutation invalid, and this test says so in `make
// test` first.
func TestEveryMutationApplies(t *testing.T) {
	root := filepath.Join("..", "..")
	seen := map[string]bool{}
	for _, m := range mutations {
		if seen[m.Name] {
			t.Errorf("mutation name %q used twice", m.Name)
		}
		seen[m.Name] = true
		if m.From == m.To || len(m.Pkgs) == 0 {
			t.Errorf("%s: changes nothing or names no packages", m.Name)
		}
		src, err := os.ReadFile(filepath.Join(root, m.File))
		if err != nil {
			t.Errorf("%s: %v", m.Name, err)
			continue
		}
		if n := strings.Count(string(src), m.From); n != 1 {
			t.Errorf("%s: snippet %q occurs %d times in %s, want 1", m.Name, firstLineOf(m.From), n, m.File)
		}
	}
}
