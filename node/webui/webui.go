package webui

import (
	"context"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

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
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/problem"
	"github.com/difronte/difronte/node/qualify"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/node/search"
	"github.com/difronte/difronte/node/workers"
	"github.com/difronte/difronte/node/workshop"
	"github.com/difronte/difronte/web"
)

// Deps are what the pages show and change.
type Deps struct {
	Auth   *auth.Service
	Care   *care.Service
	Own    *catalogue.Own
	Audit  *audit.Log
	Logger *slog.Logger
	// Catalogue and Coops are nil on a node run without federation.
	Catalogue *search.Catalogue
	Coops     catalogue.Coops
	// Qualify holds the qualification services; its members are nil on
	// a node without them (Authority: on every node but an authority's).
	Qualify qualify.Services
	// Calls is nil on a UI without check-in calls (page tests).
	Calls *calls.Service
	// Escalation and Notify are nil on a UI without them (page tests).
	Escalation *escalation.Service
	Notify     *notify.Service
	// Requests is nil on a UI without citizens' requests (page tests).
	Requests *requests.Service
	// Fleet is the terminals' health and kit; nil on a UI without it.
	Fleet *fleet.Service
	// Clock dates the forms' defaults and the agenda; nil is the real
	// clock.
	Clock clock.Clock
	// Backup returns the last scheduled backup's result; nil when the
	// node takes no backups of its own.
	Backup func() (backup.Result, bool)
	// Workshop is nil on a UI without the refurbishment workshop.
	Workshop *workshop.Service
	// Citizens is nil on a UI without citizens' accounts (page tests).
	Citizens *citizens.Service
	// Family assistants (issue 16): Profiles is nil without federation;
	// Families and CostTable are nil on a UI without them (page tests).
	Profiles  *workers.Profiles
	Families  *families.Service
	Workers   *workers.Service
	Contacts  *contacts.Service // the contact through the coop; nil in page tests
	CostTable *workers.Table
	// Location is the coop's time zone: every time a page shows is in it
	// (nil: Europe/Rome).
	Location *time.Location
	// CallRequests counts the terminals' call requests ("Chiamatemi")
	// the actor should call back; nil when the node keeps none. The home
	// page lists them among what needs attention today.
	CallRequests func(auth.Actor) int
}

// Cookie names of the web UI (the session cookie is the API's).
const (
	LangCookie  = "difronte_lang"
	FlashCookie = "difronte_flash"
)

// DefaultZone is the coop's time zone unless the node is told another.
const DefaultZone = "Europe/Rome"

// pageSize is how many rows a list page shows.
const pageSize = 20

// ui is the web UI of one node.
type ui struct {
	d        Deps
	s        *api.Server
	accounts auth.Accounts // login and account changes, audited
	log      *slog.Logger
	cat      *catalogues
	pages    map[string]*template.Template
	static   http.Handler // /static/, its text files gzipped once (compress.go)
}

// Mount adds the web UI's routes to the server's router. It panics if the
// embedded templates or catalogues are broken: they are part of the binary,
// and the package's tests parse them.
func Mount(s *api.Server, d Deps) {
	u, err := newUI(s, d)
	if err != nil {
		panic(fmt.Errorf("web ui: %w", err))
	}
	u.routes()
}

func newUI(s *api.Server, d Deps) (*ui, error) {
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	d.Clock = clock.Or(d.Clock)
	if d.Location == nil {
		loc, err := time.LoadLocation(DefaultZone)
		if err != nil {
			return nil, err
		}
		d.Location = loc
	}
	u := &ui{d: d, s: s, accounts: auth.Accounts{Auth: d.Auth, Audit: d.Audit}, log: d.Logger.With("component", "webui")}
	var err error
	if u.cat, err = embedded(); err != nil {
		return nil, err
	}
	if u.pages, err = parsePages(web.Templates()); err != nil {
		return nil, err
	}
	if u.static, err = staticFiles(web.Static()); err != nil {
		return nil, err
	}
	return u, nil
}

func (u *ui) routes() {
	r := u.s.Router
	r.Use(dayFields)
	r.PathPrefix("/static/").Handler(cacheFor(u.static, 86400)).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/favicon.ico", u.favicon).Methods(http.MethodGet, http.MethodHead)

	r.HandleFunc("/login", u.loginPage).Methods(http.MethodGet)
	r.HandleFunc("/login", u.loginPost).Methods(http.MethodPost)
	r.HandleFunc("/logout", u.logoutPost).Methods(http.MethodPost)
	r.HandleFunc("/lang", u.langPost).Methods(http.MethodPost)
	r.HandleFunc("/", u.root).Methods(http.MethodGet)

	mountKind(u, beneficiaryKind(u))
	mountKind(u, caregiverKind(u))
	u.caregiverPhotoRoutes()
	mountKind(u, terminalKind(u))
	u.offeringRoutes()
	u.accountRoutes()
	u.auditRoutes()
	u.federationRoutes()
	u.qualifyRoutes()
	u.catalogueRoutes()
	u.callsRoutes()
	u.scheduleRoutes()
	u.escalationRoutes()
	u.workshopRoutes()
	u.citizenRoutes()
	u.requestRoutes()
	u.fleetRoutes()
	u.workerRoutes()
	u.contactRoutes()
	u.workerCoopRoutes()
	u.notFoundPage()
}

// root is the home page of an account, and the public catalogue for a
// visitor (the layout offers the login); without a catalogue (a node run
// without federation) the visitor is sent to the login.
func (u *ui) root(w http.ResponseWriter, r *http.Request) {
	if httpx.Account(r) == nil && u.d.Catalogue != nil {
		u.cataloguePage(w, r)
		return
	}
	u.gate(u.home, auth.Roles...)(w, r)
}

// notFoundPage answers an unknown page address, or a method a page does
// not take, with the error page in the site's layout; the JSON API's own
// answers (under /api/) stay the API server's.
func (u *ui) notFoundPage() {
	rt := u.s.Router
	for _, h := range []struct {
		api *http.Handler
		err error
	}{
		{&rt.NotFoundHandler, problem.ErrNotFound},
		{&rt.MethodNotAllowedHandler, problem.New(http.StatusMethodNotAllowed, "method_not_allowed", "method not allowed")},
	} {
		api, err := *h.api, h.err
		*h.api = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if api != nil && strings.HasPrefix(r.URL.Path, "/api/") {
				api.ServeHTTP(w, r)
				return
			}
			u.fail(w, r, err)
		})
	}
}

// staticFiles serves the files of fsys under /static/: files only (a
// directory is not listed) and 404 for any other name, one that is no
// valid path included (GET /static/%ff), where the file server would
// answer 500.
// Text files are sent gzipped to a browser that takes it, compressed once
// when the handler is made (compress.go).
func staticFiles(fsys fs.FS) (http.Handler, error) {
	gz, err := gzipFiles(fsys)
	if err != nil {
		return nil, err
	}
	files := http.StripPrefix("/static/", http.FileServerFS(fsys))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		name := strings.TrimPrefix(r.URL.Path, "/static/")
		if st, err := fs.Stat(fsys, name); err != nil || st.IsDir() { // fs.Stat refuses invalid paths
			http.NotFound(w, r)
			return
		}
		if !serveGzipped(w, r, name, gz) {
			files.ServeHTTP(w, r)
		}
	}), nil
}

// cacheFor marks static answers cacheable. Assets are not fingerprinted,
// so the lifetime stays short enough for an upgrade to show within a day.
func cacheFor(h http.Handler, seconds int) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", fmt.Sprintf("public, max-age=%d", seconds))
		h.ServeHTTP(w, r)
	})
}

func (u *ui) favicon(w http.ResponseWriter, r *http.Request) {
	b, err := fs.ReadFile(web.Static(), "favicon.svg")
	if err != nil {
		http.NotFound(w, r)
		return
	}
	w.Header().Set("Content-Type", "image/svg+xml")
	w.Header().Set("Cache-Control", "public, max-age=86400")
	_, _ = w.Write(b)
}

// sectionRoles says which roles may use a part of the UI. The services
// enforce the same rules; this only decides what the nav shows and which
// pages answer 403 before calling them.
func sectionRoles(section string) []auth.Role {
	switch section {
	case "home":
		return auth.Roles
	case "agenda":
		return []auth.Role{auth.Caregiver, auth.Admin}
	case "calls":
		return []auth.Role{auth.Admin}
	case "beneficiaries", "caregivers":
		return []auth.Role{auth.Admin, auth.Caregiver}
	case "terminals", "officina":
		return []auth.Role{auth.Admin, auth.Refurbisher}
	case "offerings":
		return []auth.Role{auth.Admin, auth.Operator}
	case "accounts", "audit", "dashboard":
		return []auth.Role{auth.Admin}
	case "cases":
		return []auth.Role{auth.Admin, auth.Caregiver}
	case "inbox":
		return auth.Roles
	case "federation", "catalogue":
		return auth.Roles
	case "qualification":
		return []auth.Role{auth.Admin}
	case "authority":
		return []auth.Role{auth.Officer}
	case "area-personale":
		return []auth.Role{auth.Citizen}
	case "cittadini":
		return []auth.Role{auth.Operator}
	case "richieste":
		return []auth.Role{auth.Admin, auth.CaseManager}
	case "pratiche":
		return []auth.Role{auth.Citizen, auth.Admin, auth.CaseManager}
	case "lavoratori":
		return []auth.Role{auth.Admin, auth.Operator}
	case "lavoro":
		return []auth.Role{auth.Citizen}
	}
	return nil
}

// sectionOrder is the nav order.
func sectionOrder() []string {
	return []string{"home", "agenda", "calls", "beneficiaries", "caregivers", "terminals", "officina", "catalogue", "offerings", "qualification", "authority", "federation", "cases", "richieste", "pratiche", "dashboard", "inbox", "accounts", "audit", "cittadini", "lavoratori", "lavoro", "area-personale"}
}

func may(role auth.Role, section string) bool { return slices.Contains(sectionRoles(section), role) }

// gate lets only logged-in accounts with one of roles through: anonymous
// visitors go to the login page, other roles get a 403 page. The check and
// the audit of a refusal are the JSON API's (httpx.Allow).
func (u *ui) gate(h http.HandlerFunc, roles ...auth.Role) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if _, err := httpx.Allow(r, u.d.Audit, "", roles...); err != nil {
			if problem.As(err).Status == http.StatusUnauthorized {
				http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			u.fail(w, r, err)
			return
		}
		h(w, r)
	}
}

// actor is the request's domain actor; gate has made sure there is one.
func actor(r *http.Request) auth.Actor {
	a, _ := httpx.Actor(r)
	return a
}

// fail renders an error page for err: 403, 404, or a logged 500.
func (u *ui) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := problem.As(err)
	key := "error.internal"
	switch p.Status {
	case http.StatusForbidden:
		key = "error.forbidden"
	case http.StatusNotFound:
		key = "error.not_found"
	case http.StatusBadRequest:
		key = "error.bad_request"
	case http.StatusMethodNotAllowed:
		key = "error.method_not_allowed"
	default:
		u.log.Error("page failed", "method", r.Method, "path", r.URL.Path, "err", err)
		p.Status = http.StatusInternalServerError
	}
	pg := u.newPage(w, r, key)
	pg.Data = key + "_text"
	u.render(w, r, pg, "error", p.Status)
}

// flash leaves a one-shot message (a catalogue key) for the next page.
func flash(w http.ResponseWriter, key string) {
	http.SetCookie(w, &http.Cookie{Name: FlashCookie, Value: key, Path: "/", MaxAge: 120, HttpOnly: true, SameSite: http.SameSiteLaxMode})
}

// localPath returns next if it is a path on this site, else "/": the login
// and language forms must not redirect elsewhere.
func localPath(next string) string {
	if next == "" || !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") {
		return "/"
	}
	if u, err := url.Parse(next); err != nil || u.Host != "" || u.Scheme != "" {
		return "/"
	}
	return next
}

func (u *ui) redirect(w http.ResponseWriter, r *http.Request, to, flashKey string) {
	if flashKey != "" {
		flash(w, flashKey)
	}
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// ctx is a short name used by the handlers.
func ctx(r *http.Request) context.Context { return r.Context() }
