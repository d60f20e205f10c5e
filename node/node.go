package node

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/libp2p/go-libp2p/core/host"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"golang.org/x/sync/errgroup"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/federation/clock"
	"github.com/difronte/difronte/node/api"
	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/backup"
	"github.com/difronte/difronte/node/calls"
	"github.com/difronte/difronte/node/care"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/contacts"
	"github.com/difronte/difronte/node/escalation"
	"github.com/difronte/difronte/node/families"
	"github.com/difronte/difronte/node/fleet"
	"github.com/difronte/difronte/node/hsds"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/node/store"
	"github.com/difronte/difronte/node/vouchers"
	"github.com/difronte/difronte/node/webui"
	"github.com/difronte/difronte/node/workers"
	"github.com/difronte/difronte/node/workshop"
	"github.com/difronte/difronte/schema"
)

// Config configures a node. The zero value is a production node with data
// in ./data and the web UI on 127.0.0.1:8080.
type Config struct {
	DataDir  string // default "data"
	HTTPAddr string // default "127.0.0.1:8080"
	CoopName string // default "Cooperativa"

	// AdminPassword is the first admin's password. Empty: one is generated
	// and handed to OnAdminCreated, once.
	AdminPassword  string
	OnAdminCreated func(username, password string)

	// SecureCookies marks session cookies Secure (behind a TLS proxy).
	SecureCookies bool

	Version, Commit string

	// Injection points; nil means production defaults.
	Logger       *slog.Logger
	Clock        clock.Clock        // instead of the real clock
	Store        *store.Store       // instead of badger in DataDir
	HTTPListener net.Listener       // instead of listening on HTTPAddr
	Key          ed25519.PrivateKey // instead of DataDir/node.key
	Argon        auth.Params        // password hashing cost (tests use cheap ones)
	StockBadger  bool               // badger's own memory-hungry defaults (benchmarks)

	// Federation. Zero values: listen on every interface with OS-chosen
	// ports (TCP and QUIC), no bootstrap peers (a lone node is a valid
	// federation of one).
	P2PListen []string // libp2p multiaddrs
	Bootstrap []string // full multiaddrs ending in /p2p/<peer id>
	Announce  []string // addresses to advertise instead of the discovered ones
	// FederationSecret is the passphrase shared by the federation's nodes;
	// it keys membership (memberlist) traffic. Empty: membership is
	// this node alone.
	FederationSecret string
	MembersAddr      string // memberlist bind host:port (default 0.0.0.0:0)
	MembersAdvertise string // memberlist address others reach (default: bound one)
	// MembersProfile is "wan" (default: coops on home internet links) or
	// "lan" (fast failure detection on a local network or loopback).
	MembersProfile string
	// RedialInterval is how often the node dials the bootstrap peers and
	// online members it is not connected to (default 30 s; tests shorten
	// it to watch the federation heal without waiting).
	RedialInterval time.Duration
	// NoFederation runs the node without libp2p and membership (tests of
	// the private side that need no peers).
	NoFederation bool

	// Qualifications: the JWKS of trusted authorities (--trust), and for
	// an authority node its key file, name and territory (ISTAT codes).
	TrustFile          string
	AuthorityKeyFile   string
	AuthorityName      string
	AuthorityTerritory []string
	// Injection for in-process federations.
	P2PHost          host.Host
	MembersTransport memberlist.Transport

	// Calls: ICE servers, embedded TURN, signal limits.
	Calls CallsConfig

	// Escalation: alerts' links and callback number, SMTP, webhooks.
	Escalation EscalationConfig
	// Requests: reminders of unanswered requests, the outbox's retries.
	Requests RequestsConfig

	// Backup: the node's own scheduled backups.
	Backup BackupConfig

	// Citizens: login through an OpenID Connect provider.
	Citizens CitizensConfig
	// TimeZone is the coop's time zone, an IANA name: every time the web
	// UI shows is in it (default "Europe/Rome").
	TimeZone string
}

// Node is one running coop node.
type Node struct {
	cfg Config
	loc *time.Location // the coop's time zone
	log *slog.Logger
	lc  lifecycle   // what Start opened, closed in reverse by Close
	bg  *background // goroutines that outlive Start

	key     ed25519.PrivateKey
	peerID  string
	store   *store.Store
	audit   *audit.Log
	auth    *auth.Service
	care    *care.Service
	own     *catalogue.Own
	fed     *federation.Federation // nil with NoFederation, as are members and view
	members *federation.Membership
	view    *catalogueView
	qual    qualifications
	// vouchers are municipal economic support held, issued or redeemed.
	vouchers *vouchers.Service

	calls       *calls.Service
	fleet       *fleet.Service
	callEvents  *callEvents
	escalation  *escalation.Service
	notify      *notify.Service
	citizens    *citizens.Service
	texts       *webui.Translator // alerts and notices in their reader's language
	outcomeLink *federation.OutcomeLink
	requests    *requests.Service
	backups     *backup.Scheduler // nil unless Config.Backup.Dir
	workshop    *workshop.Service

	workers    *workers.Service
	profiles   *workers.Profiles // nil without federation
	families   *families.Service
	workersAPI workers.API
	contacts   *contacts.Service

	api      *api.Server
	metrics  *prometheus.Registry
	http     *http.Server
	ln       net.Listener
	started  time.Time
	uptime   clock.Stopwatch // since Start, for the settled log line
	serveErr chan error
	startup  sync.WaitGroup // background work that follows Start (catalogue view, republish)
	settled  chan struct{}

	closeOnce sync.Once
}

// New checks the configuration and prepares a node; it does no I/O.
func New(cfg Config) (*Node, error) {
	if cfg.DataDir == "" {
		cfg.DataDir = "data"
	}
	if cfg.HTTPAddr == "" {
		cfg.HTTPAddr = "127.0.0.1:8080"
	}
	if cfg.CoopName == "" {
		cfg.CoopName = "Cooperativa"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	cfg.Clock = clock.Or(cfg.Clock)
	if cfg.Argon == (auth.Params{}) {
		cfg.Argon = auth.DefaultParams
	}
	if cfg.TimeZone == "" {
		cfg.TimeZone = webui.DefaultZone
	}
	loc, err := time.LoadLocation(cfg.TimeZone)
	if err != nil {
		return nil, fmt.Errorf("time zone %q: %w", cfg.TimeZone, err)
	}
	if len(cfg.CoopName) > 200 {
		return nil, errors.New("coop name longer than 200 bytes")
	}
	if cfg.AdminPassword != "" {
		if err := auth.ValidatePassword(cfg.AdminPassword, adminUsername, adminDisplayName, cfg.CoopName); err != nil {
			return nil, fmt.Errorf("admin password: %w", err)
		}
	}
	// Every line names the node; each component adds only its own
	// "component", and "peer" is always another node.
	log := cfg.Logger.With("node", cfg.CoopName)
	return &Node{cfg: cfg, loc: loc, log: log, bg: newBackground(), callEvents: &callEvents{log: log},
		serveErr: make(chan error, 1), settled: make(chan struct{})}, nil
}

// Start opens everything, in this order, and returns when the node serves
// HTTP: the HTTP listener (a taken address fails before anything is
// created), identity, store, audit log and accounts; the private registry,
// own offerings and the federation with its catalogue view, side by side;
// the first admin; membership and publishing; qualifications;
// calls; escalation and notifications; the HTTP API and web UI. Every
// component is added to the lifecycle as soon as it is open, so a failed
// start closes what it opened, and Close closes in reverse.
func (n *Node) Start(ctx context.Context) (err error) {
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	n.started, n.uptime = n.cfg.Clock.Now().UTC(), clock.Start()
	if n.cfg.Key == nil || n.cfg.Store == nil {
		// A data directory whose restore did not finish holds a partial
		// node: refuse it rather than serve half the records.
		if err := backup.CheckComplete(n.cfg.DataDir); err != nil {
			return err
		}
	}
	if err := n.listen(); err != nil {
		return err
	}
	// The node's own registry, served on /metrics: the federation adds
	// its collectors at start.
	n.metrics = prometheus.NewRegistry()
	n.metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	if err := n.openIdentity(); err != nil {
		return err
	}
	if err := n.openStore(ctx); err != nil {
		return err
	}
	// The private registry, the own offerings and the federation's replica
	// and search index are independent reads of the store. With thousands
	// of records each is mostly JSON decoding, so on a two-core machine
	// loading them side by side cuts the start-up with data by a third
	// (docs/BENCHMARKS.md, "Coop node").
	var loads errgroup.Group
	loads.Go(func() (err error) {
		n.care, err = care.Open(ctx, n.store.Namespace("/care"), n.audit, n.cfg.Clock)
		return err
	})
	loads.Go(func() (err error) {
		n.own, err = catalogue.OpenOwn(ctx, n.store.Namespace("/own"), n.audit, n.cfg.Clock)
		return err
	})
	if !n.cfg.NoFederation {
		loads.Go(func() error { return n.openFederation(ctx) })
	}
	if err := loads.Wait(); err != nil {
		return err
	}
	n.lc.add("background work", n.bg.Close)
	if err := n.bootstrapAdmin(ctx); err != nil {
		return err
	}
	if n.fed != nil {
		if err := n.joinFederation(ctx); err != nil {
			return err
		}
	}
	if err := n.startQualify(ctx); err != nil {
		return fmt.Errorf("qualifications: %w", err)
	}
	if err := n.startVouchers(ctx); err != nil {
		return err
	}
	if err := n.startCalls(ctx); err != nil {
		return err
	}
	if err := n.startFleet(ctx); err != nil {
		return err
	}
	if err := n.startEscalation(ctx); err != nil {
		return err
	}
	if err := n.startWorkshop(ctx); err != nil {
		return err
	}
	if err := n.startCitizens(ctx); err != nil {
		return err
	}
	if err := n.startRequests(ctx); err != nil {
		return err
	}
	n.citizenFeeds()
	if err := n.startBackups(); err != nil {
		return err
	}
	if err := n.startWorkers(ctx); err != nil {
		return fmt.Errorf("workers: %w", err)
	}
	if err := n.linkWorkshop(ctx); err != nil {
		return err
	}
	n.mountHTTP()
	return n.serveHTTP()
}

// openIdentity loads (or creates) the node key.
func (n *Node) openIdentity() error {
	n.key = n.cfg.Key
	if n.key == nil {
		k, created, err := LoadOrCreateKey(filepath.Join(n.cfg.DataDir, KeyFile))
		if err != nil {
			return err
		}
		if created {
			n.log.Info("created node identity", "component", "node")
		}
		n.key = k
	}
	n.peerID = schema.PeerIDFromPublicKey(n.key.Public().(ed25519.PublicKey))
	return nil
}

// openStore opens the store, the audit log and the accounts.
func (n *Node) openStore(ctx context.Context) (err error) {
	n.store = n.cfg.Store
	if n.store == nil {
		st, err := store.Open(filepath.Join(n.cfg.DataDir, storeDir), store.Options{StockBadger: n.cfg.StockBadger, Logger: n.log.With("component", "store")})
		if err != nil {
			return err
		}
		n.store = st
	}
	n.lc.add("store", n.store.Close)
	n.audit, err = audit.Open(ctx, n.store.Namespace(auditNamespace), n.cfg.Clock, n.log.With("component", "audit"))
	if err != nil {
		return err
	}
	n.lc.add("audit log", n.audit.Close)
	n.auth, err = auth.Open(ctx, n.store.Namespace("/auth"), auth.Config{Params: n.cfg.Argon, Clock: n.cfg.Clock, CoopName: n.cfg.CoopName})
	return err
}

// mountHTTP assembles the JSON API and the web UI over the services.
func (n *Node) mountHTTP() {
	n.metrics.MustRegister(n.backupMetrics()...)
	qual := qualify.Services{Service: n.Qualify(), Coop: n.Applications(), Authority: n.Authority()}
	wd := webui.Deps{Auth: n.auth, Care: n.care, Own: n.own, Audit: n.audit, Logger: n.log,
		Qualify: qual, Calls: n.calls, Escalation: n.escalation, Notify: n.notify, Requests: n.requests, Clock: n.cfg.Clock, Backup: n.lastBackup(), Workshop: n.workshop, Fleet: n.fleet, Profiles: n.profiles, Families: n.families, Workers: n.workers, Contacts: n.contacts, CostTable: n.workersAPI.Table, Location: n.loc}
	if n.calls != nil {
		wd.CallRequests = func(a auth.Actor) int { return len(n.calls.Requests(context.Background(), a)) }
	}
	// The catalogue first: routes match in order, and its search is the
	// node's most frequent request.
	var domains []httpx.Routes
	if n.fed != nil {
		fv := fedView{f: n.fed, ms: n.members, view: n.view, clk: n.cfg.Clock}
		wd.Catalogue, wd.Coops = &search.Catalogue{Index: n.view.idx, Listings: n.view.cat, NoResult: n.searchNoResult}, fv.Coops
		domains = append(domains, wd.Catalogue, wd.Coops, hsds.API{Catalogue: wd.Catalogue, Replica: n.fed.Replica()})
	}
	domains = append(domains, n.care, n.own)
	// requests before escalation: both answer /api/v1/cases (see
	// requests.CaseKind).
	domains = append(domains, n.calls, n.requests, n.fleet, n.escalationAPI(), notify.API{Service: n.notify, Audit: n.audit}, qual,
		n.vouchers, n.workshop, citizens.API{Service: n.citizens, Secure: n.cfg.SecureCookies})
	wd.Citizens = n.citizens
	domains = append(domains, n.workerDomains()...)
	n.api = api.New(api.Deps{
		Auth: n.auth, Audit: n.audit, Domains: domains,
		Info: n.Info, Ready: n.store.Ping, Metrics: n.metrics, Logger: n.log, Secure: n.cfg.SecureCookies,
	})
	webui.Mount(n.api, wd)
}

// ErrHTTPListen is a start that failed because the HTTP address could
// not be listened on (taken, or not this machine's), before anything was
// created.
var ErrHTTPListen = errors.New("cannot listen on the HTTP address")

// listen opens the HTTP listener (unless one was injected); it accepts
// nothing until serveHTTP. Until then a failed start closes it.
func (n *Node) listen() error {
	n.ln = n.cfg.HTTPListener
	if n.ln != nil {
		return nil
	}
	ln, err := net.Listen("tcp", n.cfg.HTTPAddr)
	if err != nil {
		return fmt.Errorf("%w %s: %w", ErrHTTPListen, n.cfg.HTTPAddr, err)
	}
	n.ln = ln
	n.lc.add("http listener", func() error {
		if err := ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
			return err
		}
		return nil
	})
	return nil
}

// serveHTTP serves on the listener; HTTP is the first thing Close stops.
func (n *Node) serveHTTP() error {
	n.http = &http.Server{
		Handler:           n.api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          slog.NewLogLogger(n.log.With("component", "http").Handler(), slog.LevelDebug),
	}
	n.lc.add("http", n.shutdownHTTP)
	go func() {
		err := n.http.Serve(n.ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		n.serveErr <- err
	}()
	n.log.Info("node ready", "component", "node", "peer_id", n.peerID, "http", n.ln.Addr().String())
	go func() {
		n.startup.Wait()
		n.log.Info("start-up work settled", "component", "node", "after", n.uptime.Elapsed().Round(time.Millisecond))
		close(n.settled)
	}()
	return nil
}

func (n *Node) shutdownHTTP() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := n.http.Shutdown(ctx); err != nil {
		n.http.Close()
		return err
	}
	return nil
}

// Settled is closed once the work that follows a start in the background
// (the federated catalogue view, republishing own offerings) has ended,
// or was cut short by Close. A process can then return the start-up's
// garbage to the OS without delaying readiness.
func (n *Node) Settled() <-chan struct{} { return n.settled }

// The account the node creates on its first start.
const (
	adminUsername    = "admin"
	adminDisplayName = "Amministratore"
)

func (n *Node) bootstrapAdmin(ctx context.Context) error {
	if n.auth.Count() > 0 {
		return nil
	}
	pw := n.cfg.AdminPassword
	generated := pw == ""
	if generated {
		pw = auth.NewPassword()
	}
	if _, err := n.auth.Create(ctx, auth.Account{Username: adminUsername, Role: auth.Admin, DisplayName: adminDisplayName}, pw); err != nil {
		return fmt.Errorf("create admin account: %w", err)
	}
	if err := n.audit.Record(ctx, audit.Event{Actor: auth.SystemUser, Action: audit.Create, Kind: "account", Object: adminUsername}); err != nil {
		return err
	}
	if generated && n.cfg.OnAdminCreated != nil {
		n.cfg.OnAdminCreated(adminUsername, pw)
	}
	return nil
}

// Info describes the node publicly.
func (n *Node) Info() api.NodeInfo {
	info := api.NodeInfo{PeerID: n.peerID, CoopName: n.cfg.CoopName, Version: n.cfg.Version, Commit: n.cfg.Commit, StartedAt: n.started}
	if n.fed != nil {
		info.Addrs = n.fed.Addrs()
	}
	return info
}

// HTTPAddr is the address the node serves on.
func (n *Node) HTTPAddr() string { return n.ln.Addr().String() }

// URL is the node's base URL.
func (n *Node) URL() string { return "http://" + n.HTTPAddr() }

// PeerID is the node's identity.
func (n *Node) PeerID() string { return n.peerID }

// Care returns the private registry (for seeding and tests).
func (n *Node) Care() *care.Service { return n.care }

// Own returns the coop's own offerings.
func (n *Node) Own() *catalogue.Own { return n.own }

// Auth returns the account service.
func (n *Node) Auth() *auth.Service { return n.auth }

// Audit returns the audit log.
func (n *Node) Audit() *audit.Log { return n.audit }

// Store returns the node's store.
func (n *Node) Store() *store.Store { return n.store }

// Done returns a channel that yields the HTTP server's error when it stops.
func (n *Node) Done() <-chan error { return n.serveErr }

// Close shuts the node down in reverse order of Start: HTTP first, store
// last. It is idempotent.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		err = n.lc.close()
		if n.http != nil { // Start got as far as serving: Settled's waiter runs
			<-n.settled
		}
	})
	return err
}
