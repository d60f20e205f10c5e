package store

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/dgraph-io/badger/pb"
	"github.com/golang/protobuf/proto"
)

// maxBackupList bounds one list of a backup stream. badger sends pages of
// about 4 MB, merged when they queue up (at most seventeen); a longer
// length prefix means a damaged stream, not a reason to allocate it.
const maxBackupList = 128 << 20

// bitDelete is badger's tombstone bit in a backup record's meta byte.
const bitDelete = 1 << 0

// ErrBackupStream is returned by ReadBackup for a stream it cannot decode.
var ErrBackupStream = errors.New("damaged store backup stream")

// ReadBackup decodes a stream written by Backup (or badger's DB.Backup)
// and calls fn with every key it holds and the key's newest value, in
// stream order. Deleted keys are skipped. value is valid only during the
// call. The stream is read to its end: a cut or mangled stream is an error
// wrapping ErrBackupStream.
func ReadBackup(r io.Reader, fn func(key string, value []byte) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	var buf, last []byte
	seen := false
	for n := 0; ; n++ {
		var hdr [8]byte
		if _, err := io.ReadFull(br, hdr[:]); errors.Is(err, io.EOF) {
			return nil
		} else if err != nil {
			return fmt.Errorf("%w: list %d: %v", ErrBackupStream, n, err)
		}
		size := binary.LittleEndian.Uint64(hdr[:])
		if size > maxBackupList {
			return fmt.Errorf("%w: list %d claims %d bytes", ErrBackupStream, n, size)
		}
		if uint64(cap(buf)) < size {
			buf = make([]byte, size)
		}
		if _, err := io.ReadFull(br, buf[:size]); err != nil {
			return fmt.Errorf("%w: list %d: %v", ErrBackupStream, n, err)
		}
		var list pb.KVList
		if err := proto.Unmarshal(buf[:size], &list); err != nil {
			return fmt.Errorf("%w: list %d: %v", ErrBackupStream, n, err)
		}
		for _, kv := range list.Kv {
			// A key's versions come together, newest first: the rest of
			// them are history the store would not show either.
			if seen && bytes.Equal(kv.Key, last) {
				continue
			}
			last, seen = append(last[:0], kv.Key...), true
			if len(kv.Meta) > 0 && kv.Meta[0]&bitDelete != 0 {
				continue
			}
			if err := fn(string(kv.Key), kv.Value); err != nil {
				return err
			}
		}
	}
}
