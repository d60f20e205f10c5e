// Package stream is the one framing and request/response helper of the
// stream protocols that nodes speak to each other besides gossip: signal,
// outcome, apply and the members link (federation), and whatever protocol
// a new domain adds.
//
// A frame is a 4-byte big-endian length and the payload; every protocol
// sets its own limit, checked before anything is allocated. The members
// link predates the frames and answers with one text line ("host:port\n"):
// Line keeps those bytes. An Exchange is one request and one answer on one
// stream, with a deadline, the remote peer authenticated by libp2p, and
// the stream reset on any failure so neither side waits.
//
// Catch-up (federation/catchup) keeps its own frames: a session is many
// frames of several types each way, so they carry a type byte, a uvarint
// length and a reused read buffer, tuned for hundreds of thousands of
// entries per session. Its doc.go describes them.
//
// stream imports go-libp2p and federation/clock (network deadlines) only; federation and its sub-packages import it.
package stream
