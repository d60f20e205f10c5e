package node

import (
	"context"
	"fmt"

	"github.com/difronte/difronte/federation"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/contacts"

	"github.com/difronte/difronte/node/families"
	"github.com/difronte/difronte/node/httpx"
	"github.com/difronte/difronte/node/workers"
)

// startWorkers opens the family assistants' domain (issue 16): the coop's
// worker records under /workers, the view of the federation's public
// profiles, the families' requests under /families, the cost table and
// the catalogue texts of match reasons.
func (n *Node) startWorkers(ctx context.Context) error {
	table, err := workers.LoadTable()
	if err != nil {
		return err
	}
	texts, err := workers.LoadTexts()
	if err != nil {
		return err
	}
	var log workers.Log
	var src workers.Source
	var coops func(string) string
	if n.fed != nil {
		log, src = n.fed, n.fed.Replica()
		coops = n.view.cat.CoopName
	}
	svc, err := workers.Open(ctx, n.store.Namespace("/workers"), n.audit, n.cfg.Clock, log, n.cfg.CoopName)
	if err != nil {
		return err
	}
	var profiles *workers.Profiles
	if src != nil {
		if profiles, err = workers.NewProfiles(ctx, src, n.cfg.Clock, coops); err != nil {
			return err
		}
	}
	fam, err := families.Open(ctx, n.store.Namespace("/families"), n.audit, n.cfg.Clock, profiles, texts)
	if err != nil {
		return err
	}
	n.workers, n.profiles, n.families = svc, profiles, fam
	n.workersAPI = workers.API{Service: svc, Profiles: profiles, Table: table}
	return n.startContacts(ctx)
}

// startContacts opens the contact through the coop and serves
// /difronte/contacts/1.
func (n *Node) startContacts(ctx context.Context) error {
	rc := n.cfg.Requests
	s, err := contacts.Open(ctx, contacts.Config{Store: n.store.Namespace("/contacts"), Audit: n.audit, Clock: n.cfg.Clock,
		Logger: n.log, Self: n.peerID, Families: n.families, Workers: n.workers, Profiles: n.profiles,
		Notify: func(ctx context.Context, kind, object, user string) {
			n.notifyStaff(ctx, "ct", kind, object, user, auth.Admin, auth.Operator)
		}, MinBackoff: rc.MinBackoff, MaxBackoff: rc.MaxBackoff})
	if err != nil {
		return fmt.Errorf("contacts: %w", err)
	}
	n.lc.add("contacts", s.Close)
	n.contacts = s
	if n.fed != nil {
		link := federation.NewContactsLink(n.fed.Host(), s.HandleRemote)
		n.lc.add("contacts protocol", func() error { link.Close(); return nil })
		s.SetCarrier(link)
		if err := n.onConnect("contacts", s.Wake); err != nil {
			return err
		}
	}
	s.Start()
	return nil
}

// workerDomains are the domains of issue 16, for the API's assembly.
func (n *Node) workerDomains() []httpx.Routes {
	return []httpx.Routes{n.workersAPI, n.families, n.contacts}
}

// Contacts returns the contact through the coop.
func (n *Node) Contacts() *contacts.Service { return n.contacts }

// Workers returns the coop's worker records.
func (n *Node) Workers() *workers.Service { return n.workers }

// Profiles returns the view of the federation's worker profiles (nil
// without federation).
func (n *Node) Profiles() *workers.Profiles { return n.profiles }

// Families returns the families' requests.
func (n *Node) Families() *families.Service { return n.families }
