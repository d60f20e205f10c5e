// Package topics names the gossipsub topics of the Difronte federation,
// maps record kinds to them, validates every message before it is accepted
// or forwarded, and holds the gossipsub parameters tuned for a small,
// low-traffic federation of coop nodes.
//
// Only federation and its tests import topics.
package topics
