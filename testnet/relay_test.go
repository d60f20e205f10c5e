package testnet

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	pubsub "github.com/libp2p/go-libp2p-pubsub"

	"github.com/difronte/difronte/federation/topics"
	"github.com/difronte/difronte/schema"
	"github.com/difronte/difronte/testnet/poll"
)

// deliverCounter counts the messages pubsub delivers to a node's
// subscription (after validation and the relay hold).
type deliverCounter struct {
	*deliveryTracer
	n *atomic.Int64
}

func (d deliverCounter) DeliverMessage(*pubsub.Message) { d.n.Add(1) }

// TestGossipAppliedOnce: with the relay hold at every hop, each node
// applies each entry of the others once, although the validator applies
// it and the subscription loop applies the delivered message again: one
// replica change per publish on every node (its own publish included),
// no more, after every delivery has been handled.
func TestGossipAppliedOnce(t *testing.T) {
	const n, publishes = 5, 12
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	tuning := topics.TunedFor(topics.Topology{Members: n, Linked: n - 1})
	tuning.RelayDelay, tuning.RelayedDelay = 2*time.Millisecond, 2*time.Millisecond
	delivered := make([]atomic.Int64, n)
	net := NewInProc(t, n, Options{
		Seed:          11,
		GossipTuning:  &tuning,
		NoAutoCatchup: true,
		Tracer: func(i int) pubsub.RawTracer {
			return deliverCounter{deliveryTracer: &deliveryTracer{node: i, state: &deliveries{}}, n: &delivered[i]}
		},
	})
	var mu sync.Mutex
	changes := make([]map[string]int, n) // per node, per entry id: notifications
	for i, nd := range net.Nodes {
		changes[i] = map[string]int{}
		nd.Fed.Replica().OnChange(func(_, cur *schema.Entry) {
			mu.Lock()
			changes[i][string(cur.Marshal())]++
			mu.Unlock()
		})
	}
	// One at a time, so that no update overtakes the entry it replaces
	// (that one would rightly never be applied).
	for k := range publishes {
		if _, _, err := net.PublishRandom(ctx, k%n); err != nil {
			t.Fatal(err)
		}
		if err := net.WaitConverged(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// pubsub has delivered every entry to every node's subscription (its
	// own publishes included), whose loop then applies them again.
	for i := range n {
		poll.Until(t, 10*time.Second, "every entry delivered", func() bool { return delivered[i].Load() >= publishes })
	}
	time.Sleep(200 * time.Millisecond) // the subscription loops' second application
	mu.Lock()
	defer mu.Unlock()
	for i, m := range changes {
		total := 0 // offerings (the publishers also gossip checkpoints)
		for id, c := range m {
			if e, err := schema.UnmarshalEntry([]byte(id)); err == nil && e.Kind == schema.KindOffering {
				total += c
			}
			if c != 1 {
				t.Errorf("node %d: entry %.12x… changed the replica %d times", i, id, c)
			}
		}
		if total != publishes {
			t.Errorf("node %d: %d offering changes, want %d", i, total, publishes)
		}
	}
}
