// Package members tells a coop node which coop nodes of the federation are
// alive, with their metadata (coop name, libp2p addresses, roles), and
// detects failures within seconds. It wraps hashicorp/memberlist (SWIM
// with the Lifeguard extensions). Membership carries only liveness and
// metadata; libp2p carries the data.
//
// Imported by federation (Membership runs it beside the libp2p links),
// node (to show "is this coop online") and testnet. Of Difronte it imports
// only federation/clock.
//
// # Authentication: a federation secret, not a libp2p transport
//
// Every memberlist packet and stream is sealed with AES-256-GCM under the
// federation secret (memberlist's Keyring, GossipVerifyIncoming and
// GossipVerifyOutgoing on, a label bound in as associated data). A node
// without the secret can neither join nor inject a packet: the others
// drop what they cannot open (TestSecret). The keyring takes several keys
// so a secret can be rotated: add the new key everywhere, make it first,
// then remove the old one.
//
// The alternative was a memberlist Transport over libp2p streams, where
// each packet is authenticated by the sender's peer id and no shared
// secret exists. We chose the secret because it is memberlist's own,
// tested path, it keeps membership independent of the libp2p host's
// health (the failure detector should not measure libp2p's connection
// manager, relays or stream limits), and UDP probes keep their timing.
// The trade-off: any holder of the secret may gossip under any name, so
// a rogue coop could claim another's peer id or publish wrong metadata.
// The damage is bounded because metadata is only a hint: libp2p verifies
// the peer id on every connection, so a forged address fails to dial,
// and records are signed by their publishers. The secret must be
// distributed to coops out of band and rotated when a coop leaves.
//
// # Timing
//
// memberlist's LAN defaults take 8-11 s until every node sees a crash.
// ProfileLAN (the default) tunes probing, suspicion and gossip to about
// 2 s at 10 to 50 nodes with no false alarms in a stable run; ProfileWAN
// is slower and meant for coops on home internet links. See profileTiming
// for each knob and BenchmarkFailureDetection for measurements.
package members
