package webui

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
)

type auditData struct {
	Events              []auditRow
	Kind, Actor, Object string
	Count               uint64
	Head                string
	Older               string
	Verified            bool
	VerifyOK            bool
	Checked             uint64
}

func (u *ui) auditRoutes() {
	r := u.s.Router
	r.HandleFunc("/audit", u.gate(func(w http.ResponseWriter, r *http.Request) { u.auditPage(w, r, false) }, auth.Admin)).Methods(http.MethodGet)
	r.HandleFunc("/audit/verify", u.gate(func(w http.ResponseWriter, r *http.Request) { u.auditPage(w, r, true) }, auth.Admin)).Methods(http.MethodPost)
}

func (u *ui) auditPage(w http.ResponseWriter, r *http.Request, verify bool) {
	v := r.URL.Query()
	clip := func(s string) string {
		s = strings.TrimSpace(s)
		if len(s) > 100 {
			s = s[:100]
		}
		return s
	}
	d := auditData{Kind: clip(v.Get("kind")), Actor: clip(v.Get("actor")), Object: clip(v.Get("object"))}
	before, _ := strconv.ParseUint(v.Get("before"), 10, 64)
	p := u.newPage(w, r, "audit.title")
	if verify {
		n, err := u.d.Audit.Verify(ctx(r))
		if err != nil && !errors.Is(err, audit.ErrBroken) {
			u.fail(w, r, err)
			return
		}
		d.Verified, d.VerifyOK, d.Checked = true, err == nil, n
	}
	evs, err := u.d.Audit.Query(ctx(r), audit.Filter{Kind: d.Kind, Actor: d.Actor, Object: d.Object, Before: before, Limit: 50})
	if err != nil {
		u.fail(w, r, err)
		return
	}
	d.Events = u.auditRows(r, p, evs)
	d.Count, d.Head = u.d.Audit.Head()
	if len(evs) == 50 && evs[len(evs)-1].Seq > 1 {
		q := url.Values{}
		for k, x := range map[string]string{"kind": d.Kind, "actor": d.Actor, "object": d.Object} {
			if x != "" {
				q.Set(k, x)
			}
		}
		q.Set("before", strconv.FormatUint(evs[len(evs)-1].Seq, 10))
		d.Older = "/audit?" + q.Encode()
	}
	p.Data = d
	u.render(w, r, p, "audit", http.StatusOK)
}
