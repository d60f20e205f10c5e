package node

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/notify"
	"github.com/difronte/difronte/node/webui"
)

// CitizensConfig configures the citizens' login through an OpenID Connect
// provider (empty Issuer: password login only).
type CitizensConfig struct {
	OIDCIssuer           string
	OIDCClientID         string
	OIDCClientSecretFile string // file holding the client secret
	OIDCRedirectURL      string // default: <public URL>/auth/oidc/callback
	OIDCFiscalCodeClaim  string // default "fiscal_number"
}

// startCitizens opens the citizens' accounts, after notifications: with
// the node's SMTP configured, sign-ups are verified by e-mail.
func (n *Node) startCitizens(ctx context.Context) error {
	tr, err := webui.NewTranslator()
	if err != nil {
		return fmt.Errorf("citizens: %w", err)
	}
	base := n.cfg.Escalation.BaseURL
	if base == "" {
		base = "http://" + n.cfg.HTTPAddr
	}
	cfg := citizens.Config{Store: n.store.Namespace("/citizens"), Auth: n.auth, Audit: n.audit, Clock: n.cfg.Clock,
		Logger: n.log, BaseURL: base, Translate: tr.Text}
	if n.cfg.Escalation.SMTPFile != "" && n.notify != nil {
		ns := n.notify
		cfg.Mail = func(ctx context.Context, id, to, subject, body string) error {
			return ns.Enqueue(ctx, notify.Message{ID: id, Channel: notify.Email, To: to, Subject: subject, Body: body})
		}
	}
	cs, err := citizens.Open(ctx, cfg)
	if err != nil {
		return err
	}
	if c := n.cfg.Citizens; c.OIDCIssuer != "" {
		oc := citizens.OIDCConfig{Issuer: c.OIDCIssuer, ClientID: c.OIDCClientID, RedirectURL: c.OIDCRedirectURL, FiscalCodeClaim: c.OIDCFiscalCodeClaim}
		if oc.RedirectURL == "" {
			oc.RedirectURL = strings.TrimRight(base, "/") + citizens.OIDCCallbackPath
		}
		if c.OIDCClientSecretFile != "" {
			b, err := os.ReadFile(c.OIDCClientSecretFile)
			if err != nil {
				return fmt.Errorf("read OIDC client secret: %w", err)
			}
			oc.ClientSecret = strings.TrimSpace(string(b))
		}
		if err := cs.EnableOIDC(oc); err != nil {
			return err
		}
	}
	n.citizens = cs
	return nil
}

// Citizens is the node's citizens' accounts (for the wiring of the
// requests domain, which fills the private area's sections).
func (n *Node) Citizens() *citizens.Service { return n.citizens }
