// Package authhttp is auth's part of the JSON API: the session routes
// (login, logout, me) and the accounts an admin manages, over the audited
// auth.Accounts. The web UI's login and logout forms use its Logout too.
//
// It is a package of its own, not auth/http.go, because node/httpx (which
// every domain's routes use) imports auth for the Actor it hands them.
// node/api's assembly registers it; it imports auth, httpx,
// problem and gorilla/mux, never node/api or node/webui.
package authhttp
