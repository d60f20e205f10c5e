// Package auth holds the node's user accounts, their roles, password hashing
// (argon2id), sessions shared by the browser cookie and API bearer tokens,
// and the login rate limiter.
package auth
