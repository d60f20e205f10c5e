// Package care holds the coop's private registry: beneficiaries, caregivers
// and terminals. Every read and change goes through Service, which checks the
// actor's role and ownership and writes the audit log. Nothing here is ever
// handed to federation. Its routes (http.go: /api/v1/beneficiaries,
// /caregivers, /terminals) register on node/httpx's Router.
//
// node wires it; node/webui renders it. It imports node's store, audit,
// auth, problem and httpx packages, schema and federation/clock, never
// node/api or node/webui.
package care
