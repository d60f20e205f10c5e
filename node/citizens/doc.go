// Package citizens owns the citizens' accounts of a home node: sign-up
// with e-mail verification, registration by a proximity-point operator
// who records the citizen's consent, the operator's "act for citizen"
// mode, login through an OpenID Connect provider, the citizen's profile,
// their activity list (what operators did on their behalf), the export of
// all their data and the deletion of their account (docs/RETENTION.md).
//
// The accounts themselves (password, role, sessions) are node/auth's;
// this package keeps beside them what only a citizen has (e-mail,
// consent, OpenID subject, fiscal code), under the store namespace
// /citizens, which no federation code reads. Requests, cases, messages
// and payments are another domain's: the private area lists them through
// the Feeds interface the wiring fills.
//
// It imports the platform (auth, audit, httpx, problem, store) and
// federation/clock; never node/api or node/webui.
package citizens
