// Package auth holds the node's user accounts, their roles (and System,
// the role of the node acting on its own, which no account has), password
// hashing (argon2id) and strength checks (zxcvbn, with Italian words),
// sessions shared by the browser cookie and API bearer tokens, the login
// rate limiter (growing delays per username and address, address and
// account, in fixed memory), and Accounts: the audited login, logout
// and account changes that the JSON API (auth/authhttp) and the web UI
// share, with their request types.
//
// Every part of the node imports auth for the Actor; auth imports
// node/store, node/audit, node/problem and federation/clock only.
package auth
