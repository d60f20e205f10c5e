// Package federation joins a coop node to the Difronte federation: the
// libp2p host, the gossipsub topics and their validators, the catch-up
// protocol, and membership. It knows nothing of HTTP, beneficiaries or the
// UI; node implements the small interfaces it declares.
package federation
