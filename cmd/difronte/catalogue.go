package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/hsds"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/schema"
)

// openStopped opens the store of a stopped node (badger allows one
// process at a time, so a running node makes this fail, as it should).
func openStopped(data string) (*store.Store, error) {
	dir := filepath.Join(data, "store")
	if store.Empty(dir) {
		return nil, fmt.Errorf("no node data in %s", data)
	}
	st, err := store.Open(dir, store.Options{})
	if err != nil {
		return nil, fmt.Errorf("open %s (is the node stopped?): %w", dir, err)
	}
	return st, nil
}

// runReindex rebuilds the catalogue search index from the store.
func runReindex(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("reindex", stderr)
	data := fs.String("data", "data", "data directory of the stopped node")
	if err := parse(fs, args); err != nil {
		return err
	}
	st, err := openStopped(*data)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := replica.Open(ctx, st.Namespace("/fed"))
	if err != nil {
		return err
	}
	start := time.Now()
	bar := progressBar(stderr)
	err = search.Rebuild(ctx, search.Config{Dir: filepath.Join(*data, "search"), Replica: rep}, bar)
	fmt.Fprintln(stderr)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Search index rebuilt in %s.\n", time.Since(start).Round(time.Millisecond))
	return nil
}

// progressBar draws "[#####.....]  50%  500/1000" on one terminal line.
func progressBar(w io.Writer) func(done, total int) {
	return func(done, total int) {
		const width = 30
		pct := 100
		if total > 0 {
			pct = done * 100 / total
		}
		n := pct * width / 100
		fmt.Fprintf(w, "\r[%s%s] %3d%%  %d/%d", strings.Repeat("#", n), strings.Repeat(".", width-n), pct, done, total)
	}
}

// runExport writes the federated catalogue in an open format.
func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "hsds" {
		return fmt.Errorf("%w: the only export format is hsds: difronte export hsds --out DIR", errUsage)
	}
	fs := newFlagSet("export hsds", stderr)
	data := fs.String("data", "data", "data directory of the stopped node")
	out := fs.String("out", "", "directory to write the HSDS 3.0 JSON files into")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	st, err := openStopped(*data)
	if err != nil {
		return err
	}
	defer st.Close()
	rep, err := replica.Open(ctx, st.Namespace("/fed"))
	if err != nil {
		return err
	}
	n, err := hsds.Export(ctx, rep, *out)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "Exported %d services, %d organizations and %d taxonomy terms to %s.\n", n.Services, n.Organizations, n.TaxonomyTerms, *out)
	return nil
}

// runImport brings an HSDS dataset into the coop's own offerings; the
// node publishes them when it starts.
func runImport(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "hsds" {
		return fmt.Errorf("%w: the only import format is hsds: difronte import hsds [--data DIR] FILE", errUsage)
	}
	fs := newFlagSet("import hsds", stderr)
	data := fs.String("data", "data", "data directory of the stopped node")
	files, err := parseArgs(fs, args[1:], nil)
	if err != nil {
		return err
	}
	switch {
	case len(files) == 0:
		return fmt.Errorf("%w: give one HSDS JSON file", errUsage)
	case len(files) > 1:
		return fmt.Errorf("%w: give one HSDS JSON file: unexpected argument %q", errUsage, files[1])
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	docs, err := hsds.ReadServices(f)
	f.Close()
	if err != nil {
		return err
	}
	st, err := openStopped(*data)
	if err != nil {
		return err
	}
	defer st.Close()
	log := slog.New(slog.DiscardHandler)
	al, err := audit.Open(ctx, st.Namespace("/audit"), nil, log)
	if err != nil {
		return err
	}
	defer al.Close()
	own, err := catalogue.OpenOwn(ctx, st.Namespace("/own"), al, nil)
	if err != nil {
		return err
	}
	actor := auth.Actor{Username: "import-hsds", Role: auth.Admin, Remote: "cli"}
	rep := hsds.Import(ctx, docs, func(ctx context.Context, o schema.Offering) error {
		_, err := own.Import(ctx, actor, o)
		return err
	})
	for _, l := range rep.Lines {
		fmt.Fprintln(stdout, l)
	}
	fmt.Fprintf(stdout, "Imported %d services, skipped %d. The node publishes them when it starts.\n", rep.Imported, rep.Skipped)
	return nil
}
