// Package contacts is the contact through the coop of issue 16: a family
// asks, from its home node, to meet a family assistant it found among the
// federation's profiles; the ask goes to the node of the coop that vouches
// for the worker over /difronte/contacts/1, from a persistent outbox
// (node/outbox: retried while that node is offline, handled once, never
// gossiped); the coop asks the worker and records the answer. Only when
// the worker accepts do the two get each other's contacts: the worker's
// go to the family's home node, the family's to the coop's node. A
// decline is polite (a fixed text, no reason) and final. Every step is
// visible to both sides.
//
// What crosses the link before an accept is the profile's id, the kind of
// work, hours, live-in, languages, municipality and start date of the
// need, and the family's optional message (refused when it hides a
// contact): never the family's notes, budget or contacts.
//
// node (wiring) imports it; it imports node/families and node/workers.
package contacts
