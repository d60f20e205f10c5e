package terminal

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Setup is what `difronte terminal setup` makes of the installed system.
// Every path is inside Root, so a test can run it in a throwaway tree.
type Setup struct {
	Root        string // "/" on the PC
	Node        string // the coop's node, e.g. http://192.168.1.10:8080
	Credential  string // the paired device credential
	User        string // the kiosk user (difronte-kiosk)
	Chromium    string // the kiosk browser (/usr/bin/chromium)
	PoliciesDir string // Chromium's managed policies (/etc/chromium/policies/managed)
	SystemdDir  string // /etc/systemd/system
	Agent       string // this executable once installed (/usr/local/bin/difronte)
	Lead        time.Duration
	// PowerOffAfter is written into the service: 0 keeps the PC on.
	PowerOffAfter time.Duration
	Useradd       string // creates the user when missing; "" refuses
	Systemctl     string // reloads systemd after a change; "" skips
}

// Settings is the agent's settings file, written by setup, read by run.
type Settings struct {
	Node          string `json:"node"`
	Credential    string `json:"credential"`
	Lead          string `json:"lead"`
	PowerOffAfter string `json:"power_off_after"`
	// Chromium is the kiosk browser setup wrote into the session, kept so
	// that a later setup or --check without the flag agrees.
	Chromium string `json:"chromium,omitempty"`
}

// ConfigPath is the settings file under a root.
func ConfigPath(root string) string { return filepath.Join(root, "etc/difronte/terminal.json") }

// item is one thing setup makes: a file with its content and mode, or a
// symbolic link.
type item struct {
	path string // inside the root
	mode os.FileMode
	data string
	link string // target of a symbolic link
	user bool   // owned by the kiosk user
}

func (s Setup) in(p string) string { return filepath.Join(s.Root, p) }

func (s Setup) home() string { return "/home/" + s.User }

// items lists what the kiosk is made of.
func (s Setup) items() []item {
	cfg, _ := json.MarshalIndent(Settings{Node: s.Node, Credential: s.Credential, Lead: s.Lead.String(), PowerOffAfter: s.PowerOffAfter.String(), Chromium: s.Chromium}, "", "  ")
	unit := "difronte-terminal.service"
	// The browser keeps the credential from the address's fragment, which
	// never reaches the server or its logs.
	kioskURL := s.Node + "/terminal#credential=" + s.Credential
	its := []item{
		{path: "/etc/difronte/terminal.json", mode: 0o600, data: string(cfg) + "\n"},
		{path: s.SystemdDir + "/" + unit, mode: 0o644, data: fmt.Sprintf(`[Unit]
Description=Difronte terminal agent (wake alarm, health, power saving)
After=network-online.target
Wants=network-online.target

[Service]
ExecStart=%s terminal run --config /etc/difronte/terminal.json
Restart=always
RestartSec=30

[Install]
WantedBy=multi-user.target
`, s.Agent)},
		{path: s.SystemdDir + "/multi-user.target.wants/" + unit, link: s.SystemdDir + "/" + unit},
		{path: s.SystemdDir + "/getty@tty1.service.d/difronte-autologin.conf", mode: 0o644, data: fmt.Sprintf(`[Service]
ExecStart=
ExecStart=-/sbin/agetty --autologin %s --noclear %%I $TERM
`, s.User)},
		{path: "/etc/systemd/logind.conf.d/difronte.conf", mode: 0o644, data: `[Login]
HandleLidSwitch=ignore
HandleLidSwitchExternalPower=ignore
HandleSuspendKey=ignore
IdleAction=ignore
`},
		{path: "/etc/apt/apt.conf.d/20auto-upgrades", mode: 0o644, data: `APT::Periodic::Update-Package-Lists "1";
APT::Periodic::Unattended-Upgrade "1";
`},
		{path: "/etc/apt/apt.conf.d/52difronte-unattended-upgrades", mode: 0o644, data: `// Security updates only, and never a reboot that could fall in a call.
Unattended-Upgrade::Origins-Pattern { "origin=Debian,codename=${distro_codename},label=Debian-Security"; };
Unattended-Upgrade::Automatic-Reboot "false";
`},
		{path: s.PoliciesDir + "/difronte.json", mode: 0o644, data: fmt.Sprintf(`{
  "AudioCaptureAllowedUrls": [%[1]q],
  "VideoCaptureAllowedUrls": [%[1]q],
  "AutoplayAllowed": true,
  "TranslateEnabled": false,
  "PasswordManagerEnabled": false,
  "BrowserSignin": 0,
  "MetricsReportingEnabled": false
}
`, s.Node)},
		{path: s.home() + "/.difronte-kiosk-url", mode: 0o600, data: kioskURL + "\n", user: true},
		{path: s.home() + "/.bash_profile", mode: 0o644, user: true, data: `# Difronte kiosk: the first console starts the graphical session.
if [ -z "$DISPLAY" ] && [ "$(tty)" = /dev/tty1 ]; then exec startx; fi
`},
		{path: s.home() + "/.xinitrc", mode: 0o755, user: true, data: fmt.Sprintf(`#!/bin/sh
# Difronte kiosk: never blank the screen, volume and microphone on, and the
# terminal page full screen; the browser comes back if it is closed.
xset s off; xset s noblank; xset -dpms
amixer -q sset Master 90%% unmute 2>/dev/null
amixer -q sset Capture 80%% cap 2>/dev/null
while true; do
  %s --kiosk --noerrdialogs --disable-session-crashed-bubble --no-first-run \
    --autoplay-policy=no-user-gesture-required "$(cat "$HOME/.difronte-kiosk-url")"
  sleep 2
done
`, s.Chromium)},
	}
	// Sleep would stop the agent and the call: masked.
	for _, t := range []string{"sleep", "suspend", "hibernate", "hybrid-sleep"} {
		its = append(its, item{path: s.SystemdDir + "/" + t + ".target", link: "/dev/null"})
	}
	return its
}

// Check lists what differs from the kiosk setup, one line each.
func (s Setup) Check() []string {
	var diff []string
	if _, _, ok := s.lookupUser(); !ok {
		diff = append(diff, "user "+s.User+": missing")
	}
	for _, it := range s.items() {
		if d := s.differs(it); d != "" {
			diff = append(diff, it.path+": "+d)
		}
	}
	return diff
}

func (s Setup) differs(it item) string {
	p := s.in(it.path)
	if it.link != "" {
		t, err := os.Readlink(p)
		switch {
		case err != nil:
			return "missing link"
		case t != it.link:
			return "links to " + t
		}
		return ""
	}
	fi, err := os.Lstat(p)
	if err != nil {
		return "missing"
	}
	b, err := os.ReadFile(p)
	if err != nil || !bytes.Equal(b, []byte(it.data)) {
		return "content differs"
	}
	if fi.Mode().Perm() != it.mode {
		return fmt.Sprintf("mode %o, want %o", fi.Mode().Perm(), it.mode)
	}
	return ""
}

// Apply makes what differs and says what it changed (nothing on a second
// run).
func (s Setup) Apply(ctx context.Context, out io.Writer) (int, error) {
	changed := 0
	if _, _, ok := s.lookupUser(); !ok {
		if err := s.addUser(ctx); err != nil {
			return changed, err
		}
		fmt.Fprintf(out, "created user %s\n", s.User)
		changed++
	}
	uid, gid, _ := s.lookupUser()
	for _, it := range s.items() {
		if s.differs(it) == "" {
			continue
		}
		p := s.in(it.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return changed, err
		}
		if it.link != "" {
			_ = os.Remove(p)
			if err := os.Symlink(it.link, p); err != nil {
				return changed, err
			}
		} else if err := writeAtomic(p, []byte(it.data), it.mode); err != nil {
			return changed, err
		}
		if it.user && os.Geteuid() == 0 && uid > 0 {
			if err := os.Lchown(p, uid, gid); err != nil {
				return changed, err
			}
		}
		fmt.Fprintf(out, "wrote %s\n", it.path)
		changed++
	}
	if changed > 0 && s.Systemctl != "" {
		if err := exec.CommandContext(ctx, s.Systemctl, "daemon-reload").Run(); err != nil {
			return changed, fmt.Errorf("systemctl daemon-reload: %w", err)
		}
	}
	return changed, nil
}

func writeAtomic(p string, data []byte, mode os.FileMode) error {
	tmp := p + ".difronte-tmp"
	if err := os.WriteFile(tmp, data, mode); err != nil {
		return err
	}
	if err := os.Chmod(tmp, mode); err != nil { // umask
		return err
	}
	return os.Rename(tmp, p)
}

// lookupUser reads the kiosk user's ids from the root's /etc/passwd.
func (s Setup) lookupUser() (uid, gid int, ok bool) {
	b, err := os.ReadFile(s.in("/etc/passwd"))
	if err != nil {
		return 0, 0, false
	}
	for _, l := range strings.Split(string(b), "\n") {
		f := strings.Split(l, ":")
		if len(f) >= 4 && f[0] == s.User {
			uid, _ = strconv.Atoi(f[2])
			gid, _ = strconv.Atoi(f[3])
			return uid, gid, true
		}
	}
	return 0, 0, false
}

func (s Setup) addUser(ctx context.Context) error {
	if s.Useradd == "" {
		return fmt.Errorf("user %s is missing and no useradd was given", s.User)
	}
	args := []string{"--create-home", "--shell", "/bin/bash", "--groups", "audio,video"}
	if s.Root != "/" {
		args = append(args, "--root", s.Root)
	}
	cmd := exec.CommandContext(ctx, s.Useradd, append(args, s.User)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("useradd %s: %w: %s", s.User, err, strings.TrimSpace(string(out)))
	}
	return nil
}
