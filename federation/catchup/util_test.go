package catchup

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"io"
	"testing"

	"github.com/difronte/difronte/federation/replica"
	"github.com/difronte/difronte/schema"
)

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }

// checkpoint appends a checkpoint to priv's log in r, as an honest
// publisher's node does a moment after it publishes.
func checkpoint(t testing.TB, r *replica.Replica, priv ed25519.PrivateKey) *schema.Entry {
	t.Helper()
	e, err := r.Checkpoint(context.Background(), priv, t0)
	if err != nil || e == nil {
		t.Fatalf("checkpoint: %v, %v", e, err)
	}
	return e
}
