// Package api is the node's HTTP surface: the JSON API under /api/v1, health
// and metrics endpoints, and the middleware every request passes (security
// headers, cross-origin protection, authentication, body limits, metrics,
// recovery). The server-rendered web UI mounts its pages on the same router.
package api
