// Package budget bounds what one peer may ask of this node over a stream
// protocol: sessions (streams) per minute, bytes per minute both ways, and
// streams open at once. A Table holds one token bucket pair per peer ID,
// in bounded memory: a peer whose buckets are full again and who has no
// stream open is forgotten (a fresh entry would be identical), and when
// the table is full of peers that still owe, a new peer is refused, never
// let through uncounted.
//
// The reasons a stream is refused form a fixed set (Reasons): they are
// metric labels and, in catch-up, a code on the wire.
//
// budget imports go-libp2p's peer IDs and golang.org/x/time/rate only;
// federation and federation/catchup import it.
package budget
