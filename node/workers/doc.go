// Package workers is the family assistants' domain (issue 16): the coop's
// private records of the workers it vouches for (full name, contacts,
// documents, consent, the coop's check), which never leave the node; the
// publishing of each worker's pseudonymous public profile
// (schema.KindWorker) and its withdrawal by tombstone; the node's view of
// every profile of the federation (Profiles), its public search with
// facets, matching a family's need against it with reasons and gaps
// rendered through the message catalogues; and the cost simulator over
// the year's CCNL lavoro domestico table (ccnl_<year>.json).
//
// node (wiring) and node/families import it; it imports no transport.
package workers
