package webui

import (
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/schema"
)

// runs reports whether this node has the services behind a section: the
// qualification pages need the coop side, the console an authority key,
// the agenda and the calls admin page the call service, cases, dashboard
// and inbox escalation (their routes exist only then).
func (u *ui) runs(section string) bool {
	switch section {
	case "qualification":
		return u.d.Qualify.Coop != nil && u.d.Qualify.Service != nil
	case "authority":
		return u.d.Qualify.Authority != nil
	case "agenda", "calls":
		return u.d.Calls != nil
	case "cases", "dashboard", "inbox":
		return u.d.Escalation != nil
	case "officina":
		return u.d.Workshop != nil
	case "area-personale", "cittadini":
		return u.d.Citizens != nil
	case "richieste", "pratiche":
		return u.d.Requests != nil
	case "catalogue":
		return u.d.Catalogue != nil
	case "lavoratori":
		return u.d.Workers != nil
	case "lavoro":
		return u.d.Families != nil
	}
	return true
}

// Limits of the application form. The body limit leaves room for the
// text fields and multipart framing around the largest attachments
// allowed; the apply protocol checks the same attachment limits again.
const (
	muniRows     = 6
	maxApplyBody = federation.MaxAttachments*federation.MaxAttachmentSize + 1<<20
	refreshWait  = 10 * time.Second
)

func (u *ui) qualifyRoutes() {
	r := u.s.Router
	if u.runs("qualification") {
		roles := sectionRoles("qualification")
		r.HandleFunc("/qualification", u.gate(u.qualOverview, roles...)).Methods(http.MethodGet)
		r.HandleFunc("/qualification/refresh", u.gate(u.qualRefresh, roles...)).Methods(http.MethodPost)
		r.HandleFunc("/qualification/new", u.gate(func(w http.ResponseWriter, r *http.Request) { u.applyPage(w, r, nil) }, roles...)).Methods(http.MethodGet)
		r.HandleFunc("/qualification/new", u.gate(func(w http.ResponseWriter, r *http.Request) { u.applyPost(w, r, nil) }, roles...)).Methods(http.MethodPost)
		r.HandleFunc("/qualification/applications/{id}/resubmit", u.gate(u.resubmit, roles...)).Methods(http.MethodGet, http.MethodPost)
	}
	if u.runs("authority") {
		roles := sectionRoles("authority")
		base := "/authority/applications/{coop}/{id}"
		r.HandleFunc("/authority", u.gate(u.console, roles...)).Methods(http.MethodGet)
		r.HandleFunc(base, u.gate(u.reviewPage, roles...)).Methods(http.MethodGet)
		r.HandleFunc(base+"/attachments/{n:[0-9]+}", u.gate(u.attachment, roles...)).Methods(http.MethodGet)
		r.HandleFunc(base+"/{action:changes|approve|reject}", u.gate(u.decide, roles...)).Methods(http.MethodPost)
		r.HandleFunc(base+"/revoke", u.gate(u.revokePage, roles...)).Methods(http.MethodGet, http.MethodPost)
	}
}

// badge is the "qualified by" mark, already translated.
type badge struct{ Text string }

// Badge is the "qualificato da" mark for a qualification held until
// until; nil (no mark) without an authority. Catalogue pages call it with
// a search hit's Qualified.Authority and Qualified.Until.
func (p *page) Badge(authority string, until time.Time) *badge {
	if authority == "" {
		return nil
	}
	return &badge{Text: p.T("qualify.badge", "Authority", authority, "Until", p.Day(until))}
}

// OwnBadge is the mark of one of this coop's own offerings, as this node
// judges its qualifications now.
func (p *page) OwnBadge(o catalogue.Offering) *badge {
	svc := p.u.d.Qualify.Service
	info, ok := p.u.s.Info()
	if svc == nil || !ok || o.Archived {
		return nil
	}
	a, until, ok := svc.Qualified(info.PeerID, o.Offering)
	if !ok {
		return nil
	}
	return p.Badge(a, until)
}

// Day shows a date without the time.
func (p *page) Day(t time.Time) string {
	return t.In(p.loc()).Format(dayLayout(p.Lang))
}

// Reason translates why a credential or an offering is not qualified. The
// service says it in English for API clients and logs; the known shapes
// become catalogue messages, anything else is shown after a translated
// lead-in.
func (p *page) Reason(s string) string {
	switch {
	case s == "":
		return ""
	case s == "no qualification":
		return p.T("qualify.reason.none")
	case strings.HasPrefix(s, "category ") && strings.HasSuffix(s, " not qualified"):
		return p.T("qualify.reason.category", "Category", p.Category(strings.TrimSuffix(strings.TrimPrefix(s, "category "), " not qualified")))
	case strings.HasPrefix(s, "municipality ") && strings.HasSuffix(s, " not qualified"):
		return p.T("qualify.reason.municipality", "Municipality", p.Muni(strings.TrimSuffix(strings.TrimPrefix(s, "municipality "), " not qualified")))
	case strings.HasPrefix(s, "revoked by "):
		return p.T("qualify.reason.revoked", "Authority", strings.TrimPrefix(s, "revoked by "))
	case strings.Contains(s, "expired at"):
		return p.T("qualify.reason.expired")
	case strings.Contains(s, "not valid before"):
		return p.T("qualify.reason.not_yet")
	}
	return p.T("qualify.reason.invalid", "Detail", strings.TrimPrefix(s, schema.ErrCredential.Error()+": "))
}

// authority is one authority this node trusts, as the coop picks it.
type authority struct {
	Peer, Name string
	Territory  []string
}

// authorities lists the trusted authorities by node: a rotated key shares
// its authority's node and name.
func (u *ui) authorities() []authority {
	var out []authority
	for _, k := range u.d.Qualify.Service.Trust().Keys() {
		i := slices.IndexFunc(out, func(a authority) bool { return a.Peer == k.Peer && a.Name == k.Name })
		if i < 0 {
			out = append(out, authority{Peer: k.Peer, Name: k.Name, Territory: slices.Clone(k.Territory)})
			continue
		}
		for _, t := range k.Territory {
			if !slices.Contains(out[i].Territory, t) {
				out[i].Territory = append(out[i].Territory, t)
			}
		}
	}
	slices.SortFunc(out, func(a, b authority) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// TerritoryText shows a territory: provinces by code, municipalities by name.
func (p *page) TerritoryText(codes []string) string {
	var out []string
	for _, c := range codes {
		if len(c) == 3 {
			out = append(out, p.ProvinceName(c))
		} else {
			out = append(out, p.Muni(c))
		}
	}
	return strings.Join(out, ", ")
}
