// Package schema holds the federated record types of Difronte: the signed
// single-writer log entry that carries every public record, the coop profile,
// the catalogue offering, the service taxonomy and the ISTAT municipalities,
// their canonical encoding, validation, signing and verification.
//
// schema does no I/O and imports only the standard library and go-jose, so
// that every other package (and an independent client) can depend on it.
package schema
