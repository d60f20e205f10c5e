package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/mail"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"github.com/difronte/difronte/node"
	"github.com/difronte/difronte/node/calls"
)

// defaultMemoryLimit is the Go heap's soft limit: 256 MB for the whole
// process minus room for stacks, badger's caches and the binary itself.
const defaultMemoryLimit = 192 << 20

// defaultHTTPAddr is where `difronte serve` (and `make run`) serves.
const defaultHTTPAddr = "127.0.0.1:8080"

// adminPasswordEnv are the admin password's settings, read only from the
// environment so that the password never shows in the process list.
var adminPasswordEnv = []envVar{
	{"DIFRONTE_ADMIN_PASSWORD", "the first admin's password, used on the first start only (default: one is generated and printed once)"},
	{"DIFRONTE_ADMIN_PASSWORD_FILE", "file holding the first admin's password (when DIFRONTE_ADMIN_PASSWORD is not set)"},
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("serve", stderr)
	data := fs.String("data", "data", "data directory")
	httpAddr := fs.String("http", defaultHTTPAddr, "address of the web UI and API")
	coop := fs.String("coop-name", "Cooperativa", "name of the coop shown in the UI and the federation")
	demo := fs.Bool("demo", false, "seed a demo coop on first start")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn, error")
	var p2p, bootstrap, announce listFlag
	fs.Var(&p2p, "p2p", "libp2p listen multiaddr, repeatable (default: all interfaces, OS-chosen ports, TCP and QUIC)")
	fs.Var(&bootstrap, "bootstrap", "multiaddr of a federation node to join, ending in /p2p/<peer id>; repeatable")
	fs.Var(&announce, "announce", "multiaddr to advertise instead of the discovered ones; repeatable")
	secret := fs.String("federation-secret", "", "passphrase shared by the federation's nodes, keys membership traffic (empty: this node alone)")
	membersAddr := fs.String("members", "0.0.0.0:0", "membership (memberlist) address host:port")
	membersProfile := fs.String("members-profile", "wan", "membership timing: wan (coops on home internet links) or lan (fast failure detection on a local network)")
	secure := fs.Bool("secure-cookies", false, "mark session cookies Secure (when served over HTTPS by a proxy)")
	trust := fs.String("trust", "", "JWKS file of the authorities this node trusts for qualifications")
	authKey := fs.String("authority-key", "", "authority key file (difronte authority keygen): run an authority node")
	authName := fs.String("authority-name", "", "name of the authority (with --authority-key)")
	authTerritory := fs.String("authority-territory", "", "ISTAT codes of the authority's territory, comma-separated (with --authority-key)")
	var stun, turnURLs listFlag
	fs.Var(&stun, "stun", "STUN server URL handed to browsers for calls (stun:host:port); repeatable")
	fs.Var(&turnURLs, "turn", "TURN server URL handed to browsers for calls (turn:host:port?transport=udp); repeatable")
	turnSecret := fs.String("turn-secret", "", "secret shared with the TURN server(s) for short-lived call credentials")
	turnListen := fs.String("turn-listen", "", "run the embedded TURN server on this UDP host:port (needs --turn-secret)")
	turnRelayIP := fs.String("turn-relay-ip", "", "public IP the embedded TURN server relays on (default: the --turn-listen host)")
	turnAllow := fs.String("turn-allow", "", "CIDRs the embedded TURN server may relay to although private or loopback, comma-separated")
	smtpFile := fs.String("smtp-config", "", "JSON file (0600) with the SMTP server for e-mail alerts: host, port, tls (none, starttls, tls), username, password, from")
	webhookSecret := fs.String("webhook-secret-file", "", "file holding the secret that signs webhook alerts (HMAC-SHA256)")
	publicURL := fs.String("public-url", "", "public address of this node, for the acknowledgement links in alerts (default: http://<--http>)")
	coopPhone := fs.String("coop-phone", "", "phone number alerts ask people to call back")
	requestWait := fs.Duration("call-request-wait", 30*time.Minute, "how long a terminal's \"Chiamatemi\" may wait for a call back before it opens a case, unless the admin sets another time on the calls page")
	backupDir := fs.String("backup-dir", "", "directory for the node's own backups, each verified after writing (empty: none)")
	backupEvery := fs.Duration("backup-every", 24*time.Hour, "time between two backups (with --backup-dir; at least 1m)")
	backupKeep := fs.Int("backup-keep", 7, "backups kept in --backup-dir; older ones are removed")
	oidcIssuer := fs.String("oidc-issuer", "", "OpenID Connect provider (issuer URL) citizens may log in with (empty: password login only)")
	oidcClient := fs.String("oidc-client-id", "", "this node's client id at the OpenID Connect provider")
	oidcSecret := fs.String("oidc-client-secret-file", "", "file holding this node's client secret at the OpenID Connect provider")
	oidcRedirect := fs.String("oidc-redirect-url", "", "redirect URL registered at the provider (default: <--public-url>/auth/oidc/callback)")
	officeEmail := fs.String("requests-office-email", "", "the coop office's address(es), comma-separated, also told by e-mail of citizens' requests, beside the admins and case managers who have an e-mail (optional; needs --smtp-config)")
	officeLang := fs.String("requests-office-lang", "it", "language of the e-mails to --requests-office-email: it or en")
	timeZone := fs.String("time-zone", "Europe/Rome", "the coop's time zone (IANA name): every time the web UI shows is in it")
	withEnvOnly(fs, adminPasswordEnv...)
	if err := parse(fs, args); err != nil {
		return err
	}
	if _, _, err := net.SplitHostPort(*httpAddr); err != nil {
		return fmt.Errorf("%w: --http %q: %v", errUsage, *httpAddr, err)
	}
	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("%w: --log-level %q: want debug, info, warn or error", errUsage, *logLevel)
	}
	if _, _, err := net.SplitHostPort(*membersAddr); err != nil {
		return fmt.Errorf("%w: --members %q: %v", errUsage, *membersAddr, err)
	}
	if *membersProfile != "wan" && *membersProfile != "lan" {
		return fmt.Errorf("%w: --members-profile %q: want wan or lan", errUsage, *membersProfile)
	}
	if strings.TrimSpace(*coop) == "" {
		return fmt.Errorf("%w: --coop-name must not be empty", errUsage)
	}
	if *authKey != "" && (strings.TrimSpace(*authName) == "" || len(splitList(*authTerritory)) == 0) {
		return fmt.Errorf("%w: --authority-key needs --authority-name and --authority-territory", errUsage)
	}
	if *turnListen != "" && *turnSecret == "" {
		return fmt.Errorf("%w: --turn-listen needs --turn-secret", errUsage)
	}
	if *oidcIssuer != "" && *oidcClient == "" {
		return fmt.Errorf("%w: --oidc-issuer needs --oidc-client-id", errUsage)
	}
	if *backupEvery < time.Minute || *backupKeep < 1 {
		return fmt.Errorf("%w: --backup-every must be at least 1m and --backup-keep at least 1", errUsage)
	}
	offices := splitList(*officeEmail)
	for _, a := range offices {
		if m, err := mail.ParseAddress(a); err != nil || m.Address != a {
			return fmt.Errorf("%w: --requests-office-email %q: want bare addresses, comma-separated", errUsage, a)
		}
	}
	if *officeLang != "it" && *officeLang != "en" {
		return fmt.Errorf("%w: --requests-office-lang %q: want it or en", errUsage, *officeLang)
	}
	if _, err := time.LoadLocation(*timeZone); err != nil {
		return fmt.Errorf("%w: --time-zone %q: want an IANA zone such as Europe/Rome", errUsage, *timeZone)
	}
	pw, err := adminPassword()
	if err != nil {
		return err
	}
	// A node must live within 256 MB on an old PC. Unless the operator
	// set GOMEMLIMIT, give the Go runtime a soft limit below that, so it
	// collects harder instead of growing into the machine's swap.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(defaultMemoryLimit)
	}
	if err := startProfiler(stderr); err != nil {
		return err
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
	return serveNode(ctx, node.Config{
		DataDir: *data, HTTPAddr: *httpAddr, CoopName: *coop,
		AdminPassword: pw, SecureCookies: *secure, Logger: logger,
		P2PListen: p2p, Bootstrap: bootstrap, Announce: announce,
		FederationSecret: *secret, MembersAddr: *membersAddr, MembersProfile: *membersProfile,
		Version: version, Commit: commit,
		Calls: node.CallsConfig{
			RequestWait: *requestWait,
			ICE:         calls.ICEConfig{STUN: stun, TURN: turnURLs, TURNSecret: *turnSecret},
			TURNListen:  *turnListen, TURNRelayIP: *turnRelayIP, TURNAllow: splitList(*turnAllow),
		},
		Escalation: node.EscalationConfig{SMTPFile: *smtpFile, WebhookSecretFile: *webhookSecret, BaseURL: *publicURL, CoopPhone: *coopPhone},
		TrustFile:  *trust, AuthorityKeyFile: *authKey, AuthorityName: *authName, AuthorityTerritory: splitList(*authTerritory),
		Backup:   node.BackupConfig{Dir: *backupDir, Every: *backupEvery, Keep: *backupKeep},
		Citizens: node.CitizensConfig{OIDCIssuer: *oidcIssuer, OIDCClientID: *oidcClient, OIDCClientSecretFile: *oidcSecret, OIDCRedirectURL: *oidcRedirect},
		TimeZone: *timeZone,
		Requests: node.RequestsConfig{OfficeEmail: offices, OfficeLang: *officeLang},
		OnAdminCreated: func(user, pw string) {
			fmt.Fprintf(stdout, "Created the first account.\n  username: %s\n  password: %s\nWrite the password down: it is not shown again.\n", user, pw)
		},
	}, *demo, stdout)
}

// serveNode runs the node until ctx ends or its HTTP server fails. With
// demo, it seeds the demo coop once the node started and lets HTTP answer
// only then.
func serveNode(ctx context.Context, cfg node.Config, demo bool, stdout io.Writer) error {
	var gate *gatedListener
	var listenErr error
	if demo {
		if gate, listenErr = listenGated(cfg.HTTPAddr); listenErr == nil {
			cfg.HTTPListener = gate
		}
	}
	n, err := node.New(cfg)
	if err != nil {
		if gate != nil {
			gate.Close()
		}
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if listenErr != nil {
		return withHTTPHint(listenErr)
	}
	if err := n.Start(ctx); err != nil {
		if gate != nil {
			gate.Close()
		}
		return withHTTPHint(err)
	}
	if gate != nil {
		log := cfg.Logger.With("node", cfg.CoopName)
		if err := seedDemo(ctx, n, log, cfg.AdminPassword, stdout); err != nil {
			return errors.Join(err, n.Close())
		}
		gate.open()
	}
	fmt.Fprintf(stdout, "Difronte node %q serving on %s\n", cfg.CoopName, n.URL())
	// Start-up leaves garbage (store replay, catalogues, templates) that
	// an idle node would otherwise carry until its heap doubles: hand it
	// back to the OS once the background start-up work has settled, so an
	// old PC sees the node's real footprint. Not before: returning memory
	// holds the heap lock, which would delay the first answers.
	settled := n.Settled()
	for done := false; !done; {
		select {
		case <-settled:
			debug.FreeOSMemory()
			settled = nil
		case <-ctx.Done():
			cfg.Logger.Info("shutting down", "component", "node")
			done = true
		case err = <-n.Done():
			done = true
		}
	}
	done := make(chan error, 1)
	go func() { done <- n.Close() }()
	select {
	case cerr := <-done:
		return errors.Join(err, cerr)
	case <-time.After(15 * time.Second):
		return errors.New("shutdown took longer than 15 s")
	}
}

// withHTTPHint names, on a start that could not listen on the HTTP
// address, the settings that choose another one.
func withHTTPHint(err error) error {
	if errors.Is(err, node.ErrHTTPListen) {
		return fmt.Errorf("%w; choose another address with --http ADDR or DIFRONTE_HTTP=ADDR (make run: DIFRONTE_HTTP=127.0.0.1:8081 make run)", err)
	}
	return err
}

// adminPassword reads the first admin's password from the environment:
// DIFRONTE_ADMIN_PASSWORD, or the file named by DIFRONTE_ADMIN_PASSWORD_FILE.
func adminPassword() (string, error) {
	if p := os.Getenv("DIFRONTE_ADMIN_PASSWORD"); p != "" {
		return p, nil
	}
	if f := os.Getenv("DIFRONTE_ADMIN_PASSWORD_FILE"); f != "" {
		return readPasswordFile("DIFRONTE_ADMIN_PASSWORD_FILE", f)
	}
	return "", nil
}

// readPasswordFile reads a password from file f, named by setting.
func readPasswordFile(setting, f string) (string, error) {
	b, err := os.ReadFile(f)
	if err != nil {
		return "", fmt.Errorf("%w: %s: %v", errUsage, setting, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
