// Package webui serves the node's server-rendered pages on the API's router:
// login, dashboard, the private registry (beneficiaries, caregivers,
// terminals), the coop's own offerings, accounts and the audit log. Templates,
// static assets and message catalogues come from web/; the rules on who may
// see and change what stay in the domain services, which every handler calls
// with the request's actor.
//
// Pages are plain HTML forms (post, redirect, get) that work without
// JavaScript; small ES modules only enhance them. Under the API's strict CSP
// no page has inline script or style.
//
// It renders the domains' own types (node/search, node/catalogue,
// node/qualify, node/care, node/calls, node/escalation, node/notify) and
// uses node/auth's audited Accounts for login and account forms; it
// imports node/api only for the Server it mounts on (router, sessions,
// node info), node/httpx for the request's account and federation/clock
// for today's date.
//
// Only node (the wiring) imports webui.
package webui
