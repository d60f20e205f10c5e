// Package httpx is the HTTP plumbing every part of the node's web surface
// shares: the account and actor a request carries, the session token and
// cookie, strict JSON in and out, the one JSON error body, the client
// address, and the Router on which each domain registers its own routes
// through the Routes interface, with the one Endpoint wrapper (session
// check, role check with an audited refusal, error body, JSON answer).
//
// It is a leaf: it imports the standard library, gorilla/mux, and node's
// auth, audit and problem packages only. node/api (middleware, assembly),
// node/webui and every domain's http.go import it; it imports none of them.
package httpx
