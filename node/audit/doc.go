// Package audit keeps the node's append-only, tamper-evident audit log: one
// event for every read and change of a private record, every login and every
// refused access. Each event carries the SHA-256 of the previous one, so a
// changed, removed or reordered event breaks the chain and Verify finds it.
//
// Events hold opaque record IDs, never a person's data.
package audit
