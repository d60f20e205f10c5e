package node

import (
	"context"
	"strings"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/requests"
	"github.com/difronte/difronte/node/webui"
)

// mailEvery is the shortest time between two e-mails to one address about
// one request or case and one kind of event: a burst of messages is one
// e-mail, every one of them still in the in-app inbox.
const mailEvery = 15 * time.Minute

// citNotifier tells the people of this node what happened on a request or
// case, in each recipient's language from the message catalogues
// (web/locales/citnotify.*): an in-app line to the citizen or to every
// admin and case manager, and, with the node's SMTP configured, an e-mail
// to the citizen's verified address or to the staff's (staffMail). The
// e-mail names the kind of event, the request's or case's reference and
// a link to it, nothing of its content: the details are read after login.
type citNotifier struct {
	n    *Node
	tr   *webui.Translator
	base string // the node's public address, no trailing slash
}

func newCitNotifier(n *Node) (*citNotifier, error) {
	tr := n.texts
	if tr == nil {
		var err error
		if tr, err = webui.NewTranslator(); err != nil {
			return nil, err
		}
	}
	base := n.cfg.Escalation.BaseURL
	if base == "" {
		base = "http://" + n.cfg.HTTPAddr
	}
	return &citNotifier{n: n, tr: tr, base: strings.TrimRight(base, "/")}, nil
}

// notePath is the page of the app an event of kind about object opens,
// for the citizen (true) or the coop's staff.
func notePath(kind, object string, citizen bool) string {
	switch kind {
	case requests.NoteCaseOpened, requests.NoteCaseStatus, requests.NoteMessage:
		return "/pratiche/" + object
	}
	if citizen {
		return "/pratiche#" + object
	}
	return "/richieste#" + object
}

// staff are the enabled admins and case managers of the node.
func (c *citNotifier) staff() []auth.Account {
	var out []auth.Account
	for _, a := range c.n.auth.List() {
		if (a.Role == auth.Admin || a.Role == auth.CaseManager) && !a.Disabled {
			out = append(out, a)
		}
	}
	return out
}

// notify is the requests domain's Notifier.
func (c *citNotifier) notify(ctx context.Context, kind, object, user string) {
	ns := c.n.notify
	if ns == nil {
		return
	}
	now := c.n.cfg.Clock.Now().UTC()
	path := notePath(kind, object, user != "")
	var people []auth.Account
	if user != "" {
		if acc, ok := c.n.auth.Get(user); ok && !acc.Disabled {
			people = append(people, *acc)
		}
	} else {
		people = c.staff()
	}
	for _, acc := range people {
		lang := acc.Lang
		err := ns.Enqueue(ctx, notify.Message{ID: "rq/" + kind + "/" + object + "/" + acc.Username + "/" + now.Format(time.RFC3339Nano),
			Channel: notify.InApp, To: acc.Username, Subject: c.tr.Text(lang, "citnotify."+kind+".subject"),
			Body: c.tr.Text(lang, "citnotify."+kind+".inapp", "Ref", object), Ref: object, Link: path})
		if err != nil {
			c.n.log.Warn("in-app notice not stored", "component", "requests", "kind", kind, "err", err)
		}
	}
	if c.n.cfg.Escalation.SMTPFile == "" {
		return
	}
	if user != "" {
		if len(people) == 1 {
			if cz, ok := c.citizen(user); ok && cz.State == citizens.Active && cz.Email != "" {
				c.mail(ctx, kind, object, path, cz.Email, people[0].Lang, people[0].DisplayName, now)
			}
		}
		return
	}
	for _, m := range c.staffMail(people) {
		c.mail(ctx, kind, object, path, m.to, m.lang, m.name, now)
	}
}

// staffLetter is one staff address to tell, in its language.
type staffLetter struct{ to, lang, name string }

func (c *citNotifier) citizen(user string) (citizens.Citizen, bool) {
	if c.n.citizens == nil {
		return citizens.Citizen{}, false
	}
	return c.n.citizens.Get(user)
}

// staffMail are where the coop's staff read mail about requests: each
// staff account's own e-mail in its language, then the office addresses
// (once each); with none of these, the coop's public contact e-mail.
func (c *citNotifier) staffMail(staff []auth.Account) []staffLetter {
	var out []staffLetter
	seen := map[string]bool{}
	add := func(to, lang, name string) {
		if k := strings.ToLower(to); to != "" && !seen[k] {
			seen[k] = true
			out = append(out, staffLetter{to: to, lang: lang, name: name})
		}
	}
	for _, a := range staff {
		add(a.Email, a.Lang, a.DisplayName)
	}
	for _, to := range c.n.cfg.Requests.OfficeEmail {
		add(to, c.n.cfg.Requests.OfficeLang, "")
	}
	if len(out) > 0 || c.n.own == nil {
		return out
	}
	add(c.n.own.Profile(c.n.cfg.CoopName).Contact.Email, c.n.cfg.Requests.OfficeLang, "")
	return out
}

// mail queues one e-mail in lang; its id repeats within mailEvery, so
// notify sends one per address, object and kind in that time.
func (c *citNotifier) mail(ctx context.Context, kind, object, path, to, lang, name string, now time.Time) {
	hello := c.tr.Text(lang, "citnotify.hello")
	if name != "" {
		hello = c.tr.Text(lang, "citnotify.hello_name", "Name", name)
	}
	body := hello + "\n\n" + c.tr.Text(lang, "citnotify."+kind+".body", "Ref", object, "Link", c.base+path) +
		"\n\n-- \n" + c.tr.Text(lang, "citnotify.footer", "Coop", c.n.cfg.CoopName) + "\n"
	id := "rqmail/" + kind + "/" + object + "/" + to + "/" + now.Truncate(mailEvery).Format(time.RFC3339)
	err := c.n.notify.Enqueue(ctx, notify.Message{ID: id, Channel: notify.Email, To: to,
		Subject: "Difronte: " + c.tr.Text(lang, "citnotify."+kind+".subject"), Body: body, Ref: object})
	if err != nil {
		c.n.log.Warn("e-mail notice not queued", "component", "requests", "kind", kind, "err", err)
	}
}
