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
//	S → R  refused    uvarint reason code, uvarint seconds to wait: in place
//	                  of the answer to hello, or of a section or done
//
// The responder bounds what each requesting peer may ask (Options.Budget,
// federation/budget): sessions and bytes per minute. Over it, the
// requester gets a refused frame naming the limit and the wait; a session
// cut between sections this way counts as truncated and resumes like one
// cut at the entry budget, and Sync does not ask that responder again
// before the wait has passed. More than MaxSessionsPerPeer sessions open
// at once are reset.
//
// R verifies every entry (signature, canonical form, body) before storing
// it. An entry of a kind a newer version introduced is verified in all but
// its body, stored and served on, never interpreted: that keeps the marks
// true across versions (replica.MaxKinds bounds how many kinds a replica
// takes). R ends the session on anything a correct responder would not send:
// an entry of another publisher than the section's, a seq at or below R's
// mark or out of order, a mark above the last seq sent, oversized frames,
// unknown frames, more entries than the budget. An entry issued more than
// schema.MaxClockSkew ahead of R's clock is skipped, not stored.
//
// R never raises its marks on S's word: the replica raises them by
// contiguity or when what it holds matches a checkpoint the publisher
// signed (replica/checkpoint.go, docs/PROTOCOL.md 5.1), so a responder that
// withholds entries and vouches for the whole log only wastes R's time;
// the next honest peer sends everything above R's unchanged mark. The
// vouched mark serves one purpose: after a session cut short by the entry
// budget, the next session with the same responder asks from there.
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
// catchup imports schema, federation/replica, federation/budget,
// federation/clock (network deadlines) and go-libp2p only.
package catchup
