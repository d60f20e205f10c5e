package node

import (
	"context"

	"github.com/difronte/difronte/node/demo"
)

// seedDemo fills an empty node with a believable demo coop. The demo
// accounts (caregivers, an operator, a refurbisher) share the admin's
// password when one was configured; otherwise one password is generated for
// all of them and reported through OnAdminCreated, like the admin's.
func (n *Node) seedDemo(ctx context.Context) error {
	res, err := demo.Seed(ctx, n.care, n.own, n.auth, demo.Options{
		Password: n.cfg.AdminPassword,
		OnAccount: func(username, password string) {
			if password != "" && n.cfg.OnAdminCreated != nil {
				n.cfg.OnAdminCreated(username, password)
			}
		},
	})
	if err != nil {
		return err
	}
	if !res.Skipped {
		n.log.Info("seeded demo coop", "component", "demo", "beneficiaries", res.Beneficiaries,
			"caregivers", res.Caregivers, "terminals", res.Terminals, "offerings", res.Offerings, "accounts", len(res.Accounts))
	}
	return nil
}
