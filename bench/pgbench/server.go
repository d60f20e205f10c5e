// Package pgbench is the PostgreSQL baseline of the catalogue search
// benchmarks: a throwaway PostgreSQL server on loopback, the portal's
// table of offerings (italian full-text, GIN indexes) and the portal's
// query (a page of cards, then the total and every facet's counts in one
// statement). The in-process benchmark of node/search and the HTTP one of
// bench/catalogue both run it.
package pgbench

import (
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
)

// Server is a throwaway PostgreSQL server on loopback.
type Server struct {
	// DSN connects to the server as its superuser; Version is what
	// `postgres --version` says.
	DSN, Version string
	// PID is the postmaster's process.
	PID int

	dir, bin, user string
}

// Start finds (or installs) PostgreSQL, initialises a cluster in a
// temporary directory owned by an unprivileged user and starts it on a
// free loopback port, with its socket in that directory. logf, if not nil,
// says what takes long. The caller stops the server with Stop.
func Start(logf func(format string, args ...any)) (_ *Server, err error) {
	if logf == nil {
		logf = func(string, ...any) {}
	}
	bin, err := findBin(logf)
	if err != nil {
		return nil, err
	}
	s := &Server{bin: bin}
	if s.dir, err = os.MkdirTemp("", "difronte-pgbench-"); err != nil {
		return nil, err
	}
	started := false
	defer func() {
		if err == nil {
			return
		}
		if started {
			s.run(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "immediate", "-w", "stop")
		}
		os.RemoveAll(s.dir)
	}()
	if os.Geteuid() == 0 {
		if err := s.unprivileged(); err != nil {
			return nil, err
		}
	}
	if out, err := s.run(filepath.Join(bin, "initdb"), "-D", filepath.Join(s.dir, "data"), "-U", "postgres",
		"--auth=trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	// fsync off only speeds up the load; the measured queries only read.
	opts := fmt.Sprintf("-p %d -k %s -c listen_addresses=127.0.0.1 -c fsync=off", port, s.dir)
	out, err := s.run(filepath.Join(bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-o", opts,
		"-l", filepath.Join(s.dir, "log"), "-w", "-t", "60", "start")
	started = true // pg_ctl may have started it even when it failed waiting
	if err != nil {
		log, _ := os.ReadFile(filepath.Join(s.dir, "log"))
		return nil, fmt.Errorf("pg_ctl start: %v\n%s\n%s", err, out, log)
	}
	pid, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid"))
	if err != nil {
		return nil, err
	}
	s.PID, _ = strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pid), "\n", 2)[0]))
	s.DSN = fmt.Sprintf("host=127.0.0.1 port=%d user=postgres dbname=postgres sslmode=disable", port)
	if out, err := exec.Command(filepath.Join(bin, "postgres"), "--version").Output(); err == nil {
		s.Version = strings.TrimSpace(string(out))
	}
	return s, nil
}

// findBin returns the directory of initdb, installing Debian's postgresql
// package when there is none.
func findBin(logf func(string, ...any)) (string, error) {
	if p, err := exec.LookPath("initdb"); err == nil {
		return filepath.Dir(p), nil
	}
	if found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb"); len(found) == 0 {
		logf("initdb not found: installing Debian's postgresql package")
		install := exec.Command("apt-get", "install", "-y", "postgresql")
		install.Env = append(os.Environ(), "DEBIAN_FRONTEND=noninteractive")
		if out, err := install.CombinedOutput(); err != nil {
			return "", fmt.Errorf("apt-get install postgresql: %v\n%s", err, out)
		}
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin/initdb")
	if len(found) == 0 {
		return "", errors.New("postgresql installed but no initdb found")
	}
	slices.Sort(found)
	return filepath.Dir(found[len(found)-1]), nil
}

// unprivileged picks (or creates) the user the server runs as, since
// PostgreSQL refuses to run as root, and gives it the server's directory.
func (s *Server) unprivileged() error {
	s.user = "postgres"
	if _, err := user.Lookup(s.user); err != nil {
		s.user = "difronte-pgbench"
		if _, err := user.Lookup(s.user); err != nil {
			if out, err := exec.Command("useradd", "-r", "-M", "-s", "/usr/sbin/nologin", s.user).CombinedOutput(); err != nil {
				return fmt.Errorf("useradd: %v\n%s", err, out)
			}
		}
	}
	u, err := user.Lookup(s.user)
	if err != nil {
		return err
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return os.Chown(s.dir, uid, gid)
}

// run runs a PostgreSQL program as the server's user.
func (s *Server) run(prog string, args ...string) ([]byte, error) {
	cmd := exec.Command(prog, args...)
	if s.user != "" {
		cmd = exec.Command("runuser", append([]string{"-u", s.user, "--", prog}, args...)...)
	}
	return cmd.CombinedOutput()
}

// Stop stops the server (fast shutdown: open sessions are ended) and
// removes its directory.
func (s *Server) Stop() error {
	var errs []error
	if out, err := s.run(filepath.Join(s.bin, "pg_ctl"), "-D", filepath.Join(s.dir, "data"), "-m", "fast", "-w", "stop"); err != nil {
		errs = append(errs, fmt.Errorf("pg_ctl stop: %v\n%s", err, out))
		// The postmaster is ours: end it by its process id.
		if s.PID > 0 {
			if err := syscall.Kill(s.PID, syscall.SIGQUIT); err != nil && !errors.Is(err, syscall.ESRCH) {
				errs = append(errs, err)
			}
		}
	}
	if err := os.RemoveAll(s.dir); err != nil && !errors.Is(err, os.ErrNotExist) {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}
