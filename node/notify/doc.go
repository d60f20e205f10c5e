// Package notify delivers a node's notifications: an in-app inbox per user,
// e-mail through the coop's SMTP server (wneessen/go-mail), and webhooks
// signed with HMAC-SHA256 for SMS gateways and other systems. Every message
// is stored before it is attempted, retried with exponential backoff, and
// delivered at most once per message ID; failures stay visible to the admin,
// who can retry them.
//
// Its routes (http.go: /api/v1/inbox, /api/v1/deliveries) register on
// node/httpx's Router.
//
// node imports notify; notify imports node/store, node/auth, node/audit,
// node/problem, node/httpx and federation/clock, and nothing of the domain: callers pass
// ready-made messages.
package notify
