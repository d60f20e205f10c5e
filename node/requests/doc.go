// Package requests holds what a citizen asks of the federation's coops and
// what follows: the request (to up to five offerings, one delivery per
// provider node), the providers' offers and declines, the accepted offer's
// case ("pratica") with its lifecycle, messages (with attachments and read
// receipts) and payments, the reminders of unanswered requests and the
// demand record.
//
// A node plays two sides, in separate collections: the citizen's home
// node keeps the citizen's requests and a mirror of their cases; a
// provider's node keeps the requests it received (its inbox) and the
// authoritative copy of its cases. The two talk only to each other over
// /difronte/requests/1 (federation.RequestsLink), through a persistent
// outbox (node/outbox): every message has an id, the receiver handles each
// id once, and the sender is the libp2p peer of the stream, never a field
// it could forge. Nothing of it is gossiped or sent to a third node.
//
// requests imports the platform (store, audit, auth, httpx, problem),
// node/outbox and federation/clock; the wiring (node/wire_requests.go)
// hands it the catalogue, the link and the node's peer id.
package requests
