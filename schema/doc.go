// Package schema holds the federated record types of Difronte: the signed
// single-writer log entry that carries every public record, the coop profile,
// the catalogue offering and its Open Referral HSDS 3.0 mapping, the service
// taxonomy, the ISTAT municipalities and the authority qualifications
// (credentials, status lists, trusted keys), with their canonical encoding,
// validation (field errors), signing and verification.
//
// schema does no I/O and imports only the standard library and go-jose, so
// that every other package (and an independent client) can depend on it.
package schema
