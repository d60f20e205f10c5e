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
// --help), never after a dump of every flag; --help prints the usage. It
// is for commands that take no positional argument.
func parse(fs *flag.FlagSet, args []string) error {
	return parseEnv(fs, args, nil)
}

// parseEnv is parse with some flags' environment twins named by twins
// (flag name -> variable) instead of by envName.
func parseEnv(fs *flag.FlagSet, args []string, twins map[string]string) error {
	rest, err := parseArgs(fs, args, twins)
	if err == nil && len(rest) > 0 {
		err = fmt.Errorf("%w: unexpected argument %q", errUsage, rest[0])
	}
	return err
}

// parseArgs is parseEnv for a command with positional arguments, which it
// returns: flags may come before, between or after them, and everything
// after "--" is positional.
func parseArgs(fs *flag.FlagSet, args []string, twins map[string]string) ([]string, error) {
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
	rest, err := parsePositional(fs, args)
	fs.SetOutput(out)
	fs.Usage = usage
	if err == flag.ErrHelp {
		fs.Usage()
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errUsage, err)
	}
	return rest, applyEnv(fs, twin)
}

// parsePositional parses the flags of args wherever they stand and returns
// the other arguments in order.
func parsePositional(fs *flag.FlagSet, args []string) ([]string, error) {
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		left := fs.Args()
		if len(left) == 0 {
			return rest, nil
		}
		if n := len(args) - len(left); n > 0 && args[n-1] == "--" {
			return append(rest, left...), nil // after "--" nothing is a flag
		}
		rest, args = append(rest, left[0]), left[1:]
	}
}

// applyEnv sets every flag not given on the command line from its
// environment twin.
func applyEnv(fs *flag.FlagSet, twin func(*flag.Flag) string) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
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
