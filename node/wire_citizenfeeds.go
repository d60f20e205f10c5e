package node

import (
	"context"
	"strings"

	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/citizens"
	"github.com/difronte/difronte/node/requests"
)

// citizenFeeds fill a citizen's private area with the requests and cases
// the requests domain holds for them on this node.
func (n *Node) citizenFeeds() {
	if n.citizens == nil || n.requests == nil {
		return
	}
	n.citizens.SetFeeds(citizens.Feeds{Requests: requestFeed{n.requests}, Cases: caseFeed{n.requests}})
}

func citizenActor(citizen string) auth.Actor {
	return auth.Actor{Username: citizen, Role: auth.Citizen}
}

func offeringNames(os []requests.OfferingRef) string {
	names := make([]string, 0, len(os))
	for _, o := range os {
		names = append(names, o.Name)
	}
	return strings.Join(names, ", ")
}

type requestFeed struct{ s *requests.Service }

func (f requestFeed) List(ctx context.Context, citizen string) ([]citizens.Entry, error) {
	rs, err := f.s.Requests(ctx, citizenActor(citizen))
	out := make([]citizens.Entry, 0, len(rs))
	for _, r := range rs {
		out = append(out, citizens.Entry{ID: r.ID, Title: offeringNames(r.Offerings), Status: r.State, Href: "/pratiche", At: r.Created})
	}
	return out, err
}

type caseFeed struct{ s *requests.Service }

func (f caseFeed) List(ctx context.Context, citizen string) ([]citizens.Entry, error) {
	cs, err := f.s.Cases(ctx, citizenActor(citizen))
	out := make([]citizens.Entry, 0, len(cs))
	for _, c := range cs {
		out = append(out, citizens.Entry{ID: c.ID, Title: offeringNames(c.Offerings), Status: c.State, Href: "/pratiche/" + c.ID, At: c.Created})
	}
	return out, err
}
