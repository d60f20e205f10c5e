package escalation

import (
	"context"
	"slices"
	"testing"

	"github.com/difronte/difronte/node/catalogue"
	"github.com/difronte/difronte/schema"
)

type fakeListings []catalogue.Listing

func (f fakeListings) Each(_ context.Context, fn func(catalogue.Listing) error) error {
	for _, l := range f {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

func listing(pub, id, name, cat string, areas []string, paid bool) catalogue.Listing {
	o := schema.Offering{ID: id, Name: name, Category: cat, Areas: areas, Status: schema.StatusActive, Cost: schema.Cost{Type: schema.CostFree}}
	if paid {
		o.Cost = schema.Cost{Type: schema.CostPaid, Options: []schema.CostOption{{Option: "ora", AmountCents: 1850, Currency: "EUR", Unit: schema.PerHour}}}
	}
	return catalogue.Listing{Offering: o, Publisher: pub, CoopName: "Coop " + pub}
}

// TestProposalsOnlyQualifiedInMunicipality: a health problem in Torino
// (001272) proposes qualified health offerings serving Torino, free first.
func TestProposalsOnlyQualifiedInMunicipality(t *testing.T) {
	cat := fakeListings{
		listing("p1", "o1", "Infermiere a casa", "salute.infermiere", []string{"001272"}, true),
		listing("p1", "o2", "OSS gratuito", "salute.oss", []string{"001272", "001156"}, false),
		listing("p2", "o3", "Fisioterapia Milano", "salute.fisioterapia", []string{"015146"}, false),      // elsewhere
		listing("p3", "o4", "Infermiere non qualificato", "salute.infermiere", []string{"001272"}, false), // not qualified
		listing("p1", "o5", "Pulizie", "casa.pulizie", []string{"001272"}, false),                         // other kind
		func() catalogue.Listing {
			l := listing("p1", "o6", "Sospeso", "salute.oss", []string{"001272"}, false)
			l.Status = schema.StatusInactive
			return l
		}(),
	}
	r := newRig(t)
	r.cfg.Offers = CatalogueOffers{Catalogue: cat, IsQualified: func(pub string, _ schema.Offering) bool { return pub != "p3" }}
	r.open()
	ctx := context.Background()
	r.call("call1", true)
	o := problemOutcome("k1")
	o.Actions = []string{ActProposeServices}
	got, err := r.svc.RecordOutcome(ctx, carla, o)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := r.svc.Case(ctx, admin, got.Case)
	var names []string
	for _, p := range c.Actions[0].Proposals {
		names = append(names, p.Name)
	}
	if want := []string{"OSS gratuito", "Infermiere a casa"}; !slices.Equal(names, want) {
		t.Fatalf("proposals %v, want %v", names, want)
	}
	if p := c.Actions[0].Proposals[1]; p.Free || p.Price != "18.50 EUR/hour" {
		t.Fatalf("paid proposal %+v", p)
	}
	c, err = r.svc.AnswerProposal(ctx, carla, c.ID, "p1", "o2", true)
	if err != nil || c.Actions[0].Proposals[0].State != "accepted" || c.Actions[0].State != ActionDone {
		t.Fatalf("accept: %+v %v", c.Actions[0], err)
	}
	if _, err := r.svc.AnswerProposal(ctx, carla, c.ID, "p9", "zz", true); err == nil {
		t.Fatal("answered an offer that was never proposed")
	}
}

// TestProposalsOwnOfferings: a coop that trusts no authority (a lone node)
// still gets its own offerings proposed, marked as its own; when qualified
// offerings exist they come first, and an own offering that is qualified
// is proposed once, as qualified.
func TestProposalsOwnOfferings(t *testing.T) {
	own := []schema.Offering{
		listing("self", "m1", "Pasti a domicilio", "pasti.domicilio", []string{"001272"}, false).Offering,
		listing("self", "m2", "Spesa", "casa.spesa-domicilio", []string{"001272"}, true).Offering,
		listing("self", "m3", "Pasti Milano", "pasti", []string{"015146"}, false).Offering,   // elsewhere
		listing("self", "m4", "Pulizie", "casa.pulizie", []string{"001272"}, false).Offering, // other kind
	}
	tests := []struct {
		name string
		cat  fakeListings
		want []string // name/own
	}{
		{"lone node", nil, []string{"Pasti a domicilio/own", "Spesa/own"}},
		{"qualified first", fakeListings{
			listing("p1", "o1", "Mensa solidale", "pasti", []string{"001272"}, true),
			listing("self", "m1", "Pasti a domicilio", "pasti.domicilio", []string{"001272"}, false),
		}, []string{"Pasti a domicilio/qualified", "Mensa solidale/qualified", "Spesa/own"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			offers := CatalogueOffers{Self: "self", CoopName: "La nostra coop", Own: func() []schema.Offering { return own }}
			if tc.cat != nil {
				offers.Catalogue, offers.IsQualified = tc.cat, func(string, schema.Offering) bool { return true }
			}
			r.cfg.Offers = offers
			r.open()
			ctx := context.Background()
			r.call("call1", true)
			o := problemOutcome("k1")
			o.Kind, o.Actions = "food", []string{ActProposeServices}
			got, err := r.svc.RecordOutcome(ctx, carla, o)
			if err != nil {
				t.Fatal(err)
			}
			c, _ := r.svc.Case(ctx, admin, got.Case)
			var names []string
			for _, p := range c.Actions[0].Proposals {
				mark := "qualified"
				if p.Own {
					mark = "own"
				}
				names = append(names, p.Name+"/"+mark)
			}
			if !slices.Equal(names, tc.want) {
				t.Fatalf("proposals %v, want %v", names, tc.want)
			}
		})
	}
}
