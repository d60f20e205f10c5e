package webui

import (
	"net/http"
	"strings"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/problem"
)

type homeData struct {
	Attention     []attentionItem // what needs attention today
	ShowAttention bool            // the role has daily work to be told about
	Counts        []count
	Next          []link
	Backup        *backupLine // admin only
	// A caregiver's day: her people, her next call, the open requests.
	Requests  []requestRow
	NextCall  string
	Caregiver bool
	Agenda    bool // the node runs check-in calls
	// People are the caregiver's people with a terminal and its health.
	People []personTerminals
}

// backupLine is the admin's one sentence on the node's own backups.
type backupLine struct {
	Text string
	OK   bool
}

// backupStatus says how the last scheduled backup went.
func (u *ui) backupStatus(p *page) *backupLine {
	if u.d.Backup == nil {
		return &backupLine{Text: p.T("backup.off")}
	}
	r, ok := u.d.Backup()
	switch {
	case !ok:
		return &backupLine{Text: p.T("backup.none_yet"), OK: true}
	case !r.OK():
		return &backupLine{Text: p.T("backup.failed", "Time", p.When(r.Time), "Error", r.Error)}
	}
	return &backupLine{Text: p.T("backup.ok", "Time", p.When(r.Time), "Size", p.KB(int(min(r.Size, 1<<40)))), OK: true}
}

// When is a time as the page's language writes it, in the coop's zone.
func (p *page) When(t time.Time) string {
	return p.Day(t) + " " + p.Clock(t)
}

type count struct {
	Label string
	N     int
	Href  string
}

type link struct{ Href, Label string }

func (u *ui) home(w http.ResponseWriter, r *http.Request) {
	a := actor(r)
	if a.Role == auth.Citizen && u.d.Citizens != nil {
		http.Redirect(w, r, "/area-personale", http.StatusSeeOther)
		return
	}
	p := u.newPage(w, r, "home.title")
	var d homeData
	c := u.d.Care.Counts()
	if a.Role == auth.Caregiver {
		u.caregiverHome(r, p, &d)
	}
	for _, s := range []string{"beneficiaries", "caregivers", "terminals"} {
		if may(a.Role, s) && a.Role != auth.Caregiver {
			d.Counts = append(d.Counts, count{Label: p.T("home.count_" + s), N: c[s], Href: "/" + s})
		}
	}
	if may(a.Role, "offerings") {
		d.Counts = append(d.Counts, count{Label: p.T("home.count_offerings"), N: u.d.Own.Count(), Href: "/offerings"})
	}
	// What to do next: the first steps of a new coop, then the daily ones.
	switch a.Role {
	case "admin":
		if c["caregivers"] == 0 {
			d.Next = append(d.Next, link{"/caregivers/new", p.T("home.next_caregiver")})
		}
		d.Next = append(d.Next, link{"/beneficiaries/new", p.T("home.next_beneficiary")})
		if u.d.Own.Count() == 0 {
			d.Next = append(d.Next, link{"/offerings/new", p.T("home.next_offering")})
		}
		d.Next = append(d.Next, link{"/terminals/new", p.T("home.next_terminal")}, link{"/audit", p.T("home.next_audit")})
		if u.d.Workshop != nil {
			d.Next = append(d.Next, link{"/officina", p.T("home.next_officina")})
		}
		d.Backup = u.backupStatus(p)
	case "caregiver":
		d.Next = append(d.Next, link{"/beneficiaries", p.T("home.next_my_beneficiaries")})
	case "refurbisher":
		if u.d.Workshop != nil {
			d.Next = append(d.Next, link{"/officina?mine=1", p.T("home.next_officina_mine")}, link{"/officina", p.T("home.next_officina")})
		}
		d.Next = append(d.Next, link{"/terminals/new", p.T("home.next_terminal")}, link{"/terminals", p.T("home.next_terminals")})
	case "operator":
		d.Next = append(d.Next, link{"/catalogo", p.T("home.next_catalogue")}, link{"/offerings", p.T("home.next_offerings")})
	case "officer":
		if u.d.Workshop != nil {
			d.Next = append(d.Next, link{"/authority/refurbishment", p.T("kit2.refurb_link")})
		}
	}
	d.Attention = u.attention(p, r, a)
	d.ShowAttention = a.Role == auth.Admin || a.Role == auth.Caregiver || a.Role == auth.Officer
	p.Data = d
	u.render(w, r, p, "home", http.StatusOK)
}

type loginData struct {
	Next         string
	Signup, OIDC bool // links to the citizens' sign-up and provider login
}

func (u *ui) loginPage(w http.ResponseWriter, r *http.Request) {
	next := localPath(r.URL.Query().Get("next"))
	if httpx.Account(r) != nil {
		http.Redirect(w, r, next, http.StatusSeeOther)
		return
	}
	p := u.newPage(w, r, "login.title")
	p.Data = u.loginData(next)
	if r.URL.Query().Get("oidc") == "failed" {
		p.Errors = map[string]string{"username": "oidc_failed"}
	}
	u.render(w, r, p, "login", http.StatusOK)
}

func (u *ui) loginPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		u.fail(w, r, problem.BadRequest("bad_form", "malformed form", err))
		return
	}
	user := strings.TrimSpace(r.PostForm.Get("username"))
	pw := r.PostForm.Get("password")
	next := localPath(r.PostForm.Get("next"))
	errs := map[string]string{}
	if user == "" {
		errs["username"] = "required"
	}
	if pw == "" {
		errs["password"] = "required"
	}
	status := http.StatusBadRequest
	if len(errs) == 0 {
		tok, se, err := u.accounts.Login(ctx(r), httpx.RemoteIP(r), user, pw)
		if err == nil {
			u.s.SetSessionCookie(w, tok, se.Expires)
			u.redirect(w, r, next, "")
			return
		}
		pr := problem.As(err)
		switch pr.Code {
		case "bad_credentials", "rate_limited":
			errs["password"] = pr.Code
			status = pr.Status
			if ra := auth.RetryAfter(err); ra != "" {
				w.Header().Set("Retry-After", ra)
			}
		default:
			u.fail(w, r, err)
			return
		}
	}
	p := u.newPage(w, r, "login.title")
	p.Form.Set("username", user)
	p.Errors = errs
	p.Data = u.loginData(next)
	u.render(w, r, p, "login", status)
}

func (u *ui) loginData(next string) loginData {
	d := loginData{Next: next}
	if u.d.Citizens != nil {
		d.Signup, d.OIDC = true, u.d.Citizens.OIDCEnabled()
	}
	return d
}

func (u *ui) logoutPost(w http.ResponseWriter, r *http.Request) {
	u.s.Logout(w, r)
	u.redirect(w, r, "/login", "flash.logged_out")
}
