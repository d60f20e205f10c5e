// Package catalog holds the coop's own offerings, as the coop admin edits
// them, and hands each change to the federation to publish (Publishing:
// offerings, the coop profile they imply, and the republish after a
// start). The federated replica of everybody's offerings, and its search,
// live beside it.
package catalog
