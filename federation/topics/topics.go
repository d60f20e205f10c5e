package topics

import (
	"crypto/sha256"

	pb "github.com/libp2p/go-libp2p-pubsub/pb"

	"github.com/difronte/difronte/schema"
)

// Topic names carry a version: a node that changes the wire form or the set
// of kinds of a topic joins a new name, so old and new nodes never reject
// each other's messages as malformed.
const (
	// Catalogue carries the coops' service offerings.
	Catalogue = "difronte/catalogue/1"
	// Directory carries the coop profiles.
	Directory = "difronte/directory/1"
	// Qualifications carries authorities' qualification credentials and
	// their revocation status lists.
	Qualifications = "difronte/qualifications/1"
	// Checkpoints carries publishers' checkpoints of their own logs
	// (schema.KindCheckpoint). A topic of its own, because nodes of
	// earlier versions reject an unknown kind on the topics they know
	// and would score every publisher down for it; they do not join
	// this one and take checkpoints from catch-up, stored unread.
	Checkpoints = "difronte/checkpoints/1"
	// Workers carries the family assistants' public profiles
	// (schema.KindWorker), on a topic of its own for the reason
	// Checkpoints has one: earlier nodes do not know the kind.
	Workers = "difronte/workers/1"
	// Refurbishment carries the coops' refurbishment figures
	// (schema.KindRefurbStats), on a topic of its own for the same
	// reason.
	Refurbishment = "difronte/refurbishment/1"
)

// route is the single table kind → topic. Later kinds (qualifications,
// revocations) get a row here; everything else derives from it.
func route() map[schema.Kind]string {
	return map[schema.Kind]string{
		schema.KindOffering: Catalogue,
		schema.KindCoop:     Directory,

		schema.KindQualification: Qualifications,
		schema.KindStatusList:    Qualifications,

		schema.KindCheckpoint: Checkpoints,

		schema.KindWorker: Workers,

		schema.KindRefurbStats: Refurbishment,
	}
}

// ForKind returns the topic that carries entries of kind k.
func ForKind(k schema.Kind) (string, bool) {
	t, ok := route()[k]
	return t, ok
}

// Carries reports whether topic is where entries of kind k belong.
func Carries(topic string, k schema.Kind) bool {
	t, ok := ForKind(k)
	return ok && t == topic
}

// All returns every topic name, each once, in a stable order.
func All() []string {
	return []string{Catalogue, Directory, Qualifications, Checkpoints, Workers, Refurbishment}
}

// MessageID identifies a message by the hash of its payload, which for a
// valid message is the signed entry's wire form: the id equals
// schema.Entry.ID(). Two nodes that publish or relay the same entry (say,
// after a catch-up) produce the same id, so the seen-cache drops the copy;
// the default sender+seqno id would treat it as new.
func MessageID(m *pb.Message) string {
	h := sha256.Sum256(m.GetData())
	return string(h[:])
}
