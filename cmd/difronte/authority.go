package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/schema"
)

// runAuthority handles "authority keygen --out FILE": it writes a new
// Ed25519 authority key (or rotates the existing file's key) and prints
// the public JWKS, to hand to the coops that will trust the authority.
func runAuthority(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "keygen" {
		return fmt.Errorf("%w: authority keygen --out FILE [--name NAME --territory ISTAT,...]", errUsage)
	}
	fs := newFlagSet("authority keygen", stderr)
	out := fs.String("out", "", "authority key file to create (0600); an existing file gets a new key and its current one is retired")
	name := fs.String("name", "Autorità", "authority name written into the printed JWKS")
	territory := fs.String("territory", "", "ISTAT codes (municipalities, or 3-digit provinces) written into the printed JWKS, comma-separated")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("%w: --out is required", errUsage)
	}
	kf, err := qualify.GenerateKey(*out, time.Now())
	if err != nil {
		return err
	}
	terr := splitList(*territory)
	if len(terr) == 0 {
		terr = []string{"000"}
	}
	b, err := schema.MarshalJWKS(kf.Public(*name, terr, ""))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s\n", b)
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}
