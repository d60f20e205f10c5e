// Package hsds publishes the federated catalogue as Open Referral HSDS 3.0
// documents and brings HSDS datasets into a coop's own offerings: the
// taxonomies, the paging envelope of the HSDS API, the export of a whole
// replica to a directory and the import of a file with a report of what was
// skipped. The field mapping itself lives in schema (hsds.go).
//
// node/api serves it under /hsds/; cmd/difronte runs export and import.
package hsds
