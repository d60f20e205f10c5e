package escalation

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// Categories maps a problem kind to the taxonomy codes (schema.Taxonomy) of
// the services that may help; a code also covers its children.
var Categories = map[string][]string{
	"health":         {"salute", "anziani.assistenza-domiciliare", "anziani.igiene-personale", "anziani.assistenza-notturna"},
	"loneliness":     {"compagnia", "sostegno.psicologico", "sostegno.auto-mutuo-aiuto"},
	"home":           {"casa", "disabilita.ausili-casa"},
	"food":           {"pasti", "casa.spesa-domicilio"},
	"money":          {"sostegno.orientamento"},
	"safety":         {"anziani.teleassistenza", "anziani.custode-sociale"},
	"other":          {"sostegno.orientamento", "anziani.assistenza-domiciliare"},
	"missed_checkin": {"anziani.teleassistenza", "compagnia.video-check-in"},
}

// Offer is an offering as proposed: a qualified one of the federated
// catalogue, or one of the coop's own (Own), which no authority vouches for.
type Offer struct {
	Publisher string `json:"publisher"`
	Key       string `json:"key"`
	Name      string `json:"name"`
	Coop      string `json:"coop"`
	Category  string `json:"category"`
	Free      bool   `json:"free"`
	// Price is a short text of the cost options, e.g. "18.00 EUR/hour".
	Price string `json:"price,omitempty"`
	Phone string `json:"phone,omitempty"`
	Own   bool   `json:"own,omitempty"`
}

// Offers finds the offerings to propose in categories that serve a
// municipality: qualified ones, and the coop's own. CatalogueOffers
// implements it over catalogue.Federated, the qualification service and
// the own offerings (node/search can replace it with an index query
// behind the same seam).
type Offers interface {
	Proposable(ctx context.Context, categories []string, municipality string) ([]Offer, error)
}

// Proposal is an offer proposed to the beneficiary and their answer.
type Proposal struct {
	Offer
	State string    `json:"state"` // proposed, accepted, declined
	At    time.Time `json:"at"`
}

// maxProposals keeps the list readable aloud on a call.
const maxProposals = 10

// CoversCategory reports whether an offering category is one of codes or
// below one of them.
func CoversCategory(codes []string, cat string) bool {
	for _, c := range codes {
		if cat == c || strings.HasPrefix(cat, c+".") {
			return true
		}
	}
	return false
}

func (s *Service) propose(ctx context.Context, kind, municipality string) ([]Proposal, error) {
	if s.cfg.Offers == nil {
		return []Proposal{}, nil
	}
	offers, err := s.cfg.Offers.Proposable(ctx, Categories[kind], municipality)
	if err != nil {
		return nil, fmt.Errorf("search offers: %w", err)
	}
	// Qualified before the coop's own; free first, then paid; stable by
	// name within each.
	slices.SortStableFunc(offers, func(a, b Offer) int {
		if a.Own != b.Own {
			if b.Own {
				return -1
			}
			return 1
		}
		if a.Free != b.Free {
			if a.Free {
				return -1
			}
			return 1
		}
		return strings.Compare(a.Name, b.Name)
	})
	if len(offers) > maxProposals {
		offers = offers[:maxProposals]
	}
	now := s.now()
	out := make([]Proposal, 0, len(offers))
	for _, o := range offers {
		out = append(out, Proposal{Offer: o, State: "proposed", At: now})
	}
	return out, nil
}

// AnswerProposal records whether the beneficiary accepted a proposed offer.
func (s *Service) AnswerProposal(ctx context.Context, a auth.Actor, caseID, publisher, key string, accepted bool) (Case, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, ok := s.cases.Get(caseID)
	if !ok {
		return Case{}, problem.ErrNotFound
	}
	if !s.canSee(ctx, a, c.Beneficiary) {
		return Case{}, s.deny(ctx, a, "case", caseID, "answer proposal")
	}
	i := slices.IndexFunc(c.Actions, func(x Action) bool { return x.Kind == ActProposeServices })
	if i < 0 {
		return Case{}, problem.ErrNotFound
	}
	act := &c.Actions[i]
	j := slices.IndexFunc(act.Proposals, func(p Proposal) bool { return p.Publisher == publisher && p.Key == key })
	if j < 0 {
		return Case{}, problem.ErrNotFound
	}
	state := "declined"
	if accepted {
		state = "accepted"
	}
	if act.Proposals[j].State == state {
		return c, nil
	}
	if act.Proposals[j].State != "proposed" {
		return Case{}, problem.New(http.StatusConflict, "answered", "this proposal was already answered")
	}
	act.Proposals[j].State, act.Proposals[j].At = state, s.now()
	s.step(ctx, &c, a, "proposal_"+state, publisher+"/"+key)
	if !slices.ContainsFunc(act.Proposals, func(p Proposal) bool { return p.State == "proposed" }) || accepted {
		act.State, act.DoneAt, act.DoneBy = ActionDone, s.now(), a.Username
	}
	return c, s.saveCase(ctx, &c)
}
