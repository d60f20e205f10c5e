// Package api assembles the node's HTTP surface: the middleware every
// request passes (security headers, cross-origin protection,
// authentication from the session cookie or bearer token, metrics,
// recovery), the node's own routes (health, readiness, metrics,
// /api/v1/node, reference data, the audit log), the sessions and accounts
// of node/auth/authhttp, and then every domain's routes, each registered
// through node/httpx's Routes on a Router of its own. The server-rendered
// web UI mounts its pages on the same router.
//
// api holds no domain logic and no domain route: a new domain adds its
// http.go and is listed in Deps.Domains. Only node (the wiring) and
// node/webui (for the Server it mounts on and its sessions) import api;
// api imports node/httpx, node/auth, node/audit, node/problem, schema and
// federation/clock (the latency stopwatch).
package api
