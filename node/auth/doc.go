// Package auth holds the node's user accounts, their roles, password hashing
// (argon2id) and strength checks (zxcvbn, with Italian words), sessions
// shared by the browser cookie and API bearer tokens, and the login rate
// limiter (growing delays per username and address, address and account,
// in fixed memory).
package auth
