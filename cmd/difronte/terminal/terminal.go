package terminal

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"time"
)

// ErrUsage is a wrong command line (exit status 2).
var ErrUsage = errors.New("usage error")

// Main runs `difronte terminal <probe|setup|run> [flags]`.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, version string) error {
	if len(args) == 0 {
		usage(stderr)
		return fmt.Errorf("%w: want probe, setup or run", ErrUsage)
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		usage(stderr)
		return nil
	case "probe":
		return runProbe(ctx, args[1:], stdout, stderr)
	case "setup":
		return runSetup(ctx, args[1:], stdout, stderr)
	case "run":
		return runAgent(ctx, args[1:], stderr, version)
	}
	return fmt.Errorf("%w: unknown terminal command %q (want probe, setup or run)", ErrUsage, args[0])
}

func usage(w io.Writer) {
	fmt.Fprint(w, `Usage: difronte terminal <command> [flags]

Runs on a refurbished PC (Debian, 64-bit) that becomes a call terminal.

Commands:
  probe   collect the hardware report and send it with the workshop's code
  setup   make this PC a kiosk on the node's /terminal page (idempotent; --check)
  run     the agent service: wake alarm before each call window, health, power saving

Run 'difronte terminal <command> --help' for the flags of a command.
`)
}

func newFlags(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("difronte terminal "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parse parses args; --help returns flag.ErrHelp, a bad flag ErrUsage.
func parse(fs *flag.FlagSet, args []string) error {
	out := fs.Output()
	fs.SetOutput(io.Discard) // the one-line error, not a dump of every flag
	err := fs.Parse(args)
	fs.SetOutput(out)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return err
	case err != nil:
		return fmt.Errorf("%w: %v", ErrUsage, err)
	case fs.NArg() > 0:
		return fmt.Errorf("%w: unexpected argument %q", ErrUsage, fs.Arg(0))
	}
	return nil
}

// help prints fs's flags to w when err is --help.
func help(fs *flag.FlagSet, w io.Writer, err error) error {
	if errors.Is(err, flag.ErrHelp) {
		fs.SetOutput(w)
		fmt.Fprintf(w, "Usage: %s [flags]\n\nFlags:\n", fs.Name())
		fs.PrintDefaults()
	}
	return err
}

func pathFlags(fs *flag.FlagSet) *Paths {
	p := DefaultPaths()
	fs.StringVar(&p.Sys, "sysfs", p.Sys, "sysfs root")
	fs.StringVar(&p.Proc, "procfs", p.Proc, "procfs root")
	fs.StringVar(&p.Etc, "etc", p.Etc, "the /etc directory (adjtime: does the RTC keep local time)")
	return &p
}

func runProbe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("probe", stderr)
	node := fs.String("node", "", "the coop's node, e.g. http://192.168.1.10:8080")
	code := fs.String("code", "", "the one-time code the workshop printed")
	p := pathFlags(fs)
	fs.StringVar(&p.Smartctl, "smartctl", p.Smartctl, "smartctl executable (missing: SMART health \"unknown\")")
	fs.StringVar(&p.Arecord, "arecord", p.Arecord, "arecord executable, for --audio-test")
	audio := fs.Int("audio-test", 0, "record this many seconds from the microphone to test it (0: no test)")
	printOnly := fs.Bool("print", false, "print the report instead of sending it")
	if err := help(fs, stderr, parse(fs, args)); err != nil {
		return err
	}
	if !*printOnly && (*node == "" || *code == "") {
		return fmt.Errorf("%w: --node and --code are required (or --print)", ErrUsage)
	}
	r := Collect(ctx, *p, time.Now())
	if *audio > 0 {
		r.AudioTest = audioTest(ctx, p.Arecord, min(*audio, 30))
	}
	if *printOnly {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(r)
	}
	if err := SendReport(ctx, &http.Client{Timeout: time.Minute}, *node, strings.TrimSpace(*code), r); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "report sent: the workshop sees it on the terminal's page")
	return nil
}

func runSetup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("setup", stderr)
	s := Setup{}
	fs.StringVar(&s.Root, "root", "/", "write under this root instead of / (a throwaway tree)")
	fs.StringVar(&s.Node, "node", "", "the coop's node (default: the one in the settings file)")
	fs.StringVar(&s.Credential, "credential", os.Getenv("DIFRONTE_TERMINAL_CREDENTIAL"), "the paired device credential (env DIFRONTE_TERMINAL_CREDENTIAL; default: the settings file's)")
	pairCode := fs.String("pair-code", "", "pair with this code from the admin's terminal page when no credential is known")
	fs.StringVar(&s.User, "user", "difronte-kiosk", "the kiosk user, logged in automatically")
	fs.StringVar(&s.Chromium, "chromium", "/usr/bin/chromium", "the kiosk browser")
	fs.StringVar(&s.PoliciesDir, "chromium-policies", "/etc/chromium/policies/managed", "Chromium's managed policies directory")
	fs.StringVar(&s.SystemdDir, "systemd-dir", "/etc/systemd/system", "systemd's unit directory")
	fs.StringVar(&s.Agent, "agent", "/usr/local/bin/difronte", "where this executable is installed, for the service")
	fs.DurationVar(&s.Lead, "lead", 10*time.Minute, "wake this long before each call window")
	fs.DurationVar(&s.PowerOffAfter, "power-off-after", 0, "power saving: switch off this long after a window ends (0: stay on)")
	fs.StringVar(&s.Useradd, "useradd", "useradd", "command that creates the kiosk user")
	fs.StringVar(&s.Systemctl, "systemctl", "systemctl", "systemctl, to reload units after a change (\"\" or --root other than /: not run)")
	check := fs.Bool("check", false, "only report what differs; exit status 1 if anything does")
	if err := help(fs, stderr, parse(fs, args)); err != nil {
		return err
	}
	if s.Root != "/" {
		s.Systemctl = ""
	}
	given := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { given[f.Name] = true })
	if old, err := readSettings(ConfigPath(s.Root)); err == nil {
		// What was set up before stays unless a flag changes it.
		if s.Node == "" {
			s.Node = old.Node
		}
		if s.Credential == "" {
			s.Credential = old.Credential
		}
		if d, err := time.ParseDuration(old.Lead); err == nil && !given["lead"] {
			s.Lead = d
		}
		if d, err := time.ParseDuration(old.PowerOffAfter); err == nil && !given["power-off-after"] {
			s.PowerOffAfter = d
		}
		if old.Chromium != "" && !given["chromium"] {
			s.Chromium = old.Chromium
		}
	}
	s.Node = strings.TrimRight(s.Node, "/")
	if s.Node == "" {
		return fmt.Errorf("%w: --node is required", ErrUsage)
	}
	if s.Credential == "" && *pairCode != "" && !*check {
		cred, err := Pair(ctx, &http.Client{Timeout: time.Minute}, s.Node, *pairCode)
		if err != nil {
			return err
		}
		s.Credential = cred
	}
	if s.Credential == "" {
		return fmt.Errorf("%w: no device credential: give --pair-code (from the terminal's page) or --credential", ErrUsage)
	}
	if *check {
		diff := s.Check()
		for _, d := range diff {
			fmt.Fprintln(stdout, d)
		}
		if len(diff) > 0 {
			return fmt.Errorf("%d differences from the kiosk setup", len(diff))
		}
		return nil
	}
	n, err := s.Apply(ctx, stdout)
	if err != nil {
		return err
	}
	if n == 0 {
		fmt.Fprintln(stdout, "nothing to change: this PC is already a Difronte terminal")
	}
	return nil
}

func readSettings(path string) (Settings, error) {
	var st Settings
	b, err := os.ReadFile(path)
	if err != nil {
		return st, err
	}
	return st, json.Unmarshal(b, &st)
}

// Pair redeems a pairing code for a device credential.
func Pair(ctx context.Context, hc *http.Client, node, code string) (string, error) {
	body, _ := json.Marshal(map[string]string{"code": code})
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, node+"/api/v1/calls/pair", bytes.NewReader(body))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		return "", fmt.Errorf("pair: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		return "", fmt.Errorf("pair: %s", problemText(resp))
	}
	var out struct {
		Credential string `json:"credential"`
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<10)).Decode(&out); err != nil || out.Credential == "" {
		return "", fmt.Errorf("pair: no credential in the answer")
	}
	return out.Credential, nil
}

func runAgent(ctx context.Context, args []string, stderr io.Writer, version string) error {
	fs := newFlags("run", stderr)
	cfgPath := fs.String("config", "/etc/difronte/terminal.json", "settings file written by setup")
	node := fs.String("node", "", "the coop's node (default: the settings file's)")
	lead := fs.Duration("lead", 0, "wake this long before each window (default: settings file, else 10m)")
	off := fs.Duration("power-off-after", -1, "power saving: switch off this long after a window (0: never; default: settings file)")
	poll := fs.Duration("poll", 5*time.Minute, "how often the schedule is fetched")
	p := pathFlags(fs)
	zone := fs.String("zone", "", "time zone of a local-time RTC (default: the system's)")
	poweroff := fs.String("poweroff-cmd", "systemctl poweroff", "command that switches the PC off")
	disk := fs.String("disk", "/", "file system whose free space is reported")
	if err := help(fs, stderr, parse(fs, args)); err != nil {
		return err
	}
	st, err := readSettings(*cfgPath)
	if err != nil {
		return fmt.Errorf("read the settings (run setup first): %w", err)
	}
	cred := st.Credential
	if v := os.Getenv("DIFRONTE_TERMINAL_CREDENTIAL"); v != "" {
		cred = v
	}
	if *node == "" {
		*node = st.Node
	}
	if *lead == 0 {
		*lead, _ = time.ParseDuration(st.Lead)
	}
	if *off < 0 {
		*off, _ = time.ParseDuration(st.PowerOffAfter)
	}
	loc := time.Local
	if *zone != "" {
		if loc, err = time.LoadLocation(*zone); err != nil {
			return fmt.Errorf("%w: --zone: %v", ErrUsage, err)
		}
	}
	cmd := strings.Fields(*poweroff)
	a := New(Config{Node: *node, Credential: cred, Lead: *lead, PowerOffAfter: *off, Poll: *poll,
		RTC: RTC{Sys: p.Sys, Local: RTCLocal(p.Etc), Zone: loc}, Sys: p.Sys, DiskPath: *disk, Version: version,
		Logger: slog.New(slog.NewTextHandler(stderr, nil)),
		PowerOff: func(ctx context.Context) error {
			if len(cmd) == 0 {
				return nil
			}
			return exec.CommandContext(ctx, cmd[0], cmd[1:]...).Run()
		}})
	return a.Run(ctx)
}
