package schema

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
)

// KindCheckpoint is a publisher's signed statement of its own log: the
// entry's seq is the point of the log it describes, and its body
// (Checkpoint) holds how many other entries were current then and a hash
// over them. A node raises its "complete through" mark for the publisher
// to that seq only when what it holds matches, never on a peer's word
// (docs/PROTOCOL.md, "Marks and checkpoints").
const KindCheckpoint Kind = "checkpoint"

// CheckpointKey is the only key of a checkpoint entry: each checkpoint
// supersedes the one before.
const CheckpointKey = "log"

const checkpointDomain = "difronte/checkpoint/v1"

// Checkpoint is the body of a checkpoint entry.
type Checkpoint struct {
	// Entries counts the publisher's current entries, tombstones
	// included, other than the checkpoint itself.
	Entries int `json:"entries"`
	// State is CheckpointState over those entries, 64 lower-case hex digits.
	State string `json:"state"`
}

// LogRef names one current entry of a publisher's log by what a replica's
// index holds of it.
type LogRef struct {
	Seq       uint64
	Kind      Kind
	Key       string
	Tombstone bool
}

// CheckpointState hashes a publisher's current entries, in seq order:
// SHA-256 of "difronte/checkpoint/v1" followed, for each entry, by uvarint
// seq, uvarint len(kind), kind, uvarint len(key), key and one byte, 1 for
// a tombstone and 0 otherwise. refs may be in any order; it is not changed.
//
// It is an ordered hash, not the additive digest catch-up compares: an
// additive (sum mod 2^256) hash lets whoever holds many of a publisher's
// old and new entries search, by Wagner's generalised-birthday method, for
// a mix of them with the same sum. Seqs are unique within a log, so the
// order is defined.
func CheckpointState(refs []LogRef) [32]byte {
	sorted := slices.Clone(refs)
	slices.SortFunc(sorted, func(a, b LogRef) int { return cmp.Compare(a.Seq, b.Seq) })
	h := sha256.New()
	h.Write([]byte(checkpointDomain))
	var buf []byte
	for _, r := range sorted {
		buf = binary.AppendUvarint(buf[:0], r.Seq)
		buf = appendBytes(buf, []byte(r.Kind))
		buf = appendBytes(buf, []byte(r.Key))
		var t byte
		if r.Tombstone {
			t = 1
		}
		buf = append(buf, t)
		h.Write(buf)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// CheckpointBody is the body of a checkpoint over refs.
func CheckpointBody(refs []LogRef) []byte {
	s := CheckpointState(refs)
	return fmt.Appendf(nil, `{"entries":%d,"state":%q}`, len(refs), hex.EncodeToString(s[:]))
}

// DecodeCheckpoint decodes and checks a checkpoint body, returning it and
// its state as bytes.
func DecodeCheckpoint(body []byte) (Checkpoint, [32]byte, error) {
	var c Checkpoint
	var state [32]byte
	if err := decodeStrict(body, &c); err != nil {
		return c, state, err
	}
	if c.Entries < 0 {
		return c, state, fmt.Errorf("checkpoint: %d entries", c.Entries)
	}
	b, err := hex.DecodeString(c.State)
	if err != nil || len(b) != len(state) || hex.EncodeToString(b) != c.State {
		return c, state, fmt.Errorf("checkpoint: state is not 64 lower-case hex digits")
	}
	copy(state[:], b)
	return c, state, nil
}
