// Package outbox is a persistent, per-destination queue of messages to
// other nodes: a message is stored (synced) before Enqueue returns, sent
// in order to its destination peer, retried with bounded exponential
// backoff while that peer is unreachable, sent at once when the peer
// connects again (Wake), and deleted only once the peer has acknowledged
// it. Every message carries an id chosen by the sender; the receiving
// side keeps the ids it has handled (Seen), so a message retried after a
// lost acknowledgement is handled once: delivery is exactly once as the
// receiver sees it. A message whose destination is connected and has
// nothing queued may instead go at once, never stored (SendNow), and is
// queued only if it gets no answer.
//
// The outbox knows nothing of what it carries: node/requests queues its
// requests, offers and case changes in it, and any domain that must reach
// a node that may be offline can do the same. Its metrics count messages
// and attempts per outcome, never a peer or a payload.
//
// outbox imports node/store and federation/clock; domains import it.
package outbox
