package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// newFlagSet returns a flag set whose errors are returned, not fatal, and
// whose help lists each flag with its environment twin and default.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("difronte "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { printUsage(fs, nil) }
	return fs
}

// envVar is a setting read only from the environment, listed by --help
// after the flags.
type envVar struct{ name, usage string }

// withEnvOnly makes fs's help also list the variables the command reads
// from the environment without a flag twin.
func withEnvOnly(fs *flag.FlagSet, vars ...envVar) {
	fs.Usage = func() { printUsage(fs, vars) }
}

func printUsage(fs *flag.FlagSet, vars []envVar) {
	w := fs.Output()
	fmt.Fprintf(w, "Usage: %s [flags]\n\nFlags:\n", fs.Name())
	fs.PrintDefaults()
	if len(vars) == 0 {
		return
	}
	fmt.Fprintln(w, "\nEnvironment only (no flag):")
	for _, v := range vars {
		fmt.Fprintf(w, "  %s\n    \t%s\n", v.name, v.usage)
	}
}

// envName is the environment twin of a flag: --coop-name -> DIFRONTE_COOP_NAME.
func envName(flagName string) string {
	return "DIFRONTE_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// parse registers the env twin in the usage text, parses args and applies
// the environment values of every flag not given on the command line. A
// usage error comes back as one line (the caller prints it with a hint to
// --help), never after a dump of every flag; --help prints the usage.
func parse(fs *flag.FlagSet, args []string) error {
	return parseEnv(fs, args, nil, 0)
}

// parseEnv is parse with some flags' environment twins named by twins
// (flag name -> variable) instead of by envName, and up to positional
// arguments after the flags.
func parseEnv(fs *flag.FlagSet, args []string, twins map[string]string, positional int) error {
	twin := func(f *flag.Flag) string {
		if v, ok := twins[f.Name]; ok {
			return v
		}
		return envName(f.Name)
	}
	fs.VisitAll(func(f *flag.Flag) {
		f.Usage = fmt.Sprintf("%s (env %s)", f.Usage, twin(f))
	})
	out, usage := fs.Output(), fs.Usage
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	err := fs.Parse(args)
	fs.SetOutput(out)
	fs.Usage = usage
	if err == flag.ErrHelp {
		fs.Usage()
		return err
	}
	if err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > positional {
		return fmt.Errorf("%w: unexpected argument %q", errUsage, fs.Arg(positional))
	}
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	fs.VisitAll(func(f *flag.Flag) {
		if set[f.Name] || err != nil {
			return
		}
		if v, ok := os.LookupEnv(twin(f)); ok {
			if e := f.Value.Set(v); e != nil {
				err = fmt.Errorf("%w: invalid value %q for %s: %v", errUsage, v, twin(f), e)
			}
		}
	})
	return err
}

// listFlag is a repeatable string flag; from the environment it takes a
// comma-separated list.
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }
func (l *listFlag) Set(v string) error {
	for _, s := range strings.Split(v, ",") {
		if s = strings.TrimSpace(s); s != "" {
			*l = append(*l, s)
		}
	}
	return nil
}
