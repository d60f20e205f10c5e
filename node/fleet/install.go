package fleet

import (
	"net/http"
	"os"
	"runtime"
	"strings"

	"github.com/difronte/difronte/node/problem"
)

// ErrNoAgent is a node that cannot serve the agent: it does not run on
// linux/amd64, the only build a terminal takes.
var ErrNoAgent = problem.New(http.StatusNotFound, "agent_unavailable", "this node does not run on linux/amd64 and cannot serve the terminal agent")

// Base is the node's address as the request reached it.
func Base(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// InstallCommand is the one line a worker pastes on the PC, as root.
func InstallCommand(base string) string {
	return "wget -qO- " + base + "/terminal/install.sh | sudo sh -s -- --probe-code CODICE-OFFICINA --pair-code CODICE-ABBINAMENTO"
}

// script installs the agent from the node; __NODE__ is the node's address.
// 32-bit PCs are refused clearly: the kit has a 64-bit build only.
const script = `#!/bin/sh
# Difronte terminal kit: installs the agent from this coop's own node, then
# sends the hardware report (--probe-code) and makes the PC a kiosk
# (--pair-code). Needs only the Debian mirror besides the node.
set -eu
NODE='__NODE__'
PROBE=''
PAIR=''
POWER='0'
while [ $# -gt 0 ]; do
  case "$1" in
    --probe-code) PROBE="$2"; shift 2 ;;
    --pair-code) PAIR="$2"; shift 2 ;;
    --power-off-after) POWER="$2"; shift 2 ;;
    *) echo "unknown option: $1" >&2; exit 2 ;;
  esac
done
case "$(uname -m)" in
  x86_64|amd64) ;;
  *) echo "Questo PC ($(uname -m)) non e' a 64 bit: i terminali Difronte richiedono un PC x86 a 64 bit." >&2
     echo "This PC ($(uname -m)) is not 64-bit: Difronte terminals need a 64-bit x86 PC." >&2
     exit 1 ;;
esac
if [ "$(id -u)" != 0 ]; then echo "run as root (sudo sh)" >&2; exit 1; fi
tmp="$(mktemp)"
if command -v wget >/dev/null 2>&1; then wget -qO "$tmp" "$NODE/terminal/install/difronte"; else curl -fsS -o "$tmp" "$NODE/terminal/install/difronte"; fi
install -m 0755 "$tmp" /usr/local/bin/difronte
rm -f "$tmp"
apt-get install -y --no-install-recommends chromium xserver-xorg xinit x11-xserver-utils alsa-utils unattended-upgrades smartmontools
if [ -n "$PROBE" ]; then /usr/local/bin/difronte terminal probe --node "$NODE" --code "$PROBE"; fi
if [ -n "$PAIR" ]; then
  /usr/local/bin/difronte terminal setup --node "$NODE" --pair-code "$PAIR" --power-off-after "$POWER"
  systemctl enable --now difronte-terminal.service
fi
echo "Difronte: fatto / done"
`

// serveScript answers the install script, for the node's address as the
// worker's PC reaches it.
func (s *Service) serveScript(w http.ResponseWriter, r *http.Request) {
	base := Base(r)
	if strings.ContainsAny(base, "'\\\n\r`$") {
		http.Error(w, "bad host", http.StatusBadRequest)
		return
	}
	w.Header().Set("Content-Type", "text/x-shellscript; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte(strings.Replace(script, "__NODE__", base, 1)))
}

// serveAgent answers this node's own executable, which holds `difronte
// terminal` (ranges and conditional requests work).
func (s *Service) serveAgent(w http.ResponseWriter, r *http.Request) error {
	path := s.cfg.Executable
	if path == "" {
		if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" {
			return ErrNoAgent
		}
		p, err := os.Executable()
		if err != nil {
			return ErrNoAgent
		}
		path = p
	}
	f, err := os.Open(path)
	if err != nil {
		return ErrNoAgent
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return err
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="difronte"`)
	http.ServeContent(w, r, "difronte", fi.ModTime(), f)
	return nil
}
