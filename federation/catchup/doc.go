// Package catchup is the pull side of federation: a node that was offline,
// partitioned or just joined fetches, over a libp2p stream, the log entries
// gossip did not bring it, using per-publisher "complete through" marks so
// that only missing entries cross the wire.
//
// Protocol /difronte/catchup/1, requester R, responder S. Every message is a
// frame: uvarint length (of type and payload, at most 1 MiB), one type
// byte, payload.
//
//	R → S  hello      uvarint version (1), 32-byte state digest, uvarint entry budget
//	S → R  in-sync    (empty): digests equal, session over — one round trip
//	   or  differ     (empty)
//	R → S  marks      repeated {uvarint len, publisher, uvarint mark}, several frames
//	R → S  marks-end  (empty)
//	S → R  for each publisher where S holds entries above R's mark, in
//	       publisher order:
//	         section      publisher
//	         entry        wire form of each current entry with seq > R's mark,
//	                      tombstones included, in seq order
//	         section-end  uvarint mark S vouches for (≤ the last seq it sent)
//	       done         (empty)
//
// R verifies every entry (signature, canonical form, body) before storing
// it. An entry of a kind a newer version introduced is verified in all but
// its body, stored and served on, never interpreted: that keeps the marks
// true across versions (replica.MaxKinds bounds how many kinds a replica
// takes). R ends the session on anything a correct responder would not send:
// an entry of another publisher than the section's, a seq at or below R's
// mark or out of order, a mark above the last seq sent, oversized frames,
// unknown frames, more entries than the budget. After a section R raises its
// mark for that publisher; everything R lacked has a seq above the mark,
// even when S stopped mid-publisher because the budget ran out.
//
// A responder can still withhold entries and vouch for a mark below them;
// R then learns those entries from gossip or another peer's catch-up only
// once that peer's mark passes them. Catch-up trusts federation members
// not to lie about completeness, and never to forge entries (it cannot).
//
// # Why its own frames
//
// The other stream protocols between nodes (signal, outcome, apply, the
// members link) share federation/stream: one request, one answer, or a few
// small frames. A catch-up session is a conversation of nine frame types,
// and after a long absence it moves hundreds of thousands of entries. So
// its frames carry a type byte, a uvarint length (one byte for most
// entries, not four), and are read into one reused buffer instead of a new
// allocation each; the benchmarks in docs/BENCHMARKS.md measure that path.
// Changing them would also change a wire format every deployed node speaks.
//
// catchup imports schema, federation/replica, federation/clock (network
// deadlines) and go-libp2p only.
package catchup
