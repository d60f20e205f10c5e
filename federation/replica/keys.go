package replica

import (
	"encoding/hex"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ipfs/go-datastore"

	"github.com/difronte/difronte/schema"
)

// Datastore layout, under the caller's namespace:
//
//	/e/<publisher>/<kind hex>/<key hex>/<seq, 16 hex digits><t|l>  wire bytes of the current entry
//	/m/<publisher>                                                 uvarint complete-through mark
//
// Everything the in-memory index needs is in the entry's datastore key, so
// Open rebuilds it with a keys-only scan and never reads entry bodies.
const (
	entryPrefix = "/e"
	markPrefix  = "/m"
)

func entryKey(publisher string, kind schema.Kind, key string, s slot) datastore.Key {
	t := "l"
	if s.tomb {
		t = "t"
	}
	return datastore.RawKey(entryPrefix + "/" + publisher + "/" + hex.EncodeToString([]byte(kind)) + "/" +
		hex.EncodeToString([]byte(key)) + "/" + fmt.Sprintf("%016x", s.seq) + t)
}

func markKey(publisher string) datastore.Key {
	return datastore.RawKey(markPrefix + "/" + publisher)
}

type parsedKey struct {
	publisher string
	kind      schema.Kind
	key       string
	seq       uint64
	tomb      bool
}

func parseEntryKey(k string) (parsedKey, error) {
	parts := strings.Split(strings.TrimPrefix(k, entryPrefix+"/"), "/")
	if len(parts) != 4 || len(parts[3]) != 17 {
		return parsedKey{}, fmt.Errorf("bad entry key %q", k)
	}
	kind, err1 := hex.DecodeString(parts[1])
	key, err2 := hex.DecodeString(parts[2])
	seq, err3 := strconv.ParseUint(parts[3][:16], 16, 64)
	if err := errors.Join(err1, err2, err3); err != nil {
		return parsedKey{}, fmt.Errorf("bad entry key %q: %w", k, err)
	}
	return parsedKey{publisher: parts[0], kind: schema.Kind(kind), key: string(key), seq: seq, tomb: parts[3][16] == 't'}, nil
}
