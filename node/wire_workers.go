package node

import (
	"context"

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
	return nil
}

// workerDomains are the domains of issue 16, for the API's assembly.
func (n *Node) workerDomains() []httpx.Routes { return []httpx.Routes{n.workersAPI, n.families} }

// Workers returns the coop's worker records.
func (n *Node) Workers() *workers.Service { return n.workers }

// Profiles returns the view of the federation's worker profiles (nil
// without federation).
func (n *Node) Profiles() *workers.Profiles { return n.profiles }

// Families returns the families' requests.
func (n *Node) Families() *families.Service { return n.families }
