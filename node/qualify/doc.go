// Package qualify holds authority qualifications on a node: the trust
// store (the authority keys this node pins, from --trust), the verifier
// with its cache, the Service every node runs to decide from its own
// replica whether a coop's offering is qualified, the Authority side
// (applications, review, issuing, revocation through a status list, the
// JWKS) and the Coop side (applying over libp2p and following the state).
//
// Credential and status list entries travel on gossip after a check of form
// and shape only (schema.ValidateBody): whether an authority is trusted is
// each node's own decision, so an entry from an authority this node does
// not trust is stored and relayed but never makes anything qualified here.
//
// Files: authority.go opens the authority side and reads applications;
// apply.go takes coops' forms over the apply protocol; review.go holds the
// officer's decisions and the status list; coop.go the coop side;
// service.go, verifier.go and keys.go the checks every node runs and the
// authority's signing keys; http.go the routes (credentials, pinned
// authorities, the coop's applications, the authority's review and JWKS),
// registered on node/httpx's Router (Services groups what a node runs).
//
// Imported by node and node/webui; imports schema, federation (and its
// clock), node's
// store, audit, auth, problem and httpx packages and libp2p's peer IDs
// (its storage is a store.Namespace, not a go-datastore type), never node/api or node/webui.
package qualify
