// Package hsds publishes the federated catalogue as Open Referral HSDS 3.0
// documents and brings HSDS datasets into a coop's own offerings: the
// taxonomies, the paging envelope of the HSDS API, the export of a whole
// replica to a directory and the import of a file with a report of what was
// skipped. The field mapping itself lives in schema (hsds.go).
//
// Its read API under /hsds/ (http.go) registers on node/httpx's Router and
// searches through node/search's Catalogue; cmd/difronte runs export and
// import. It imports schema, federation/replica, node/search, node/httpx
// and node/problem, never node/api or node/webui.
package hsds
