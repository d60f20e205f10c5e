package backup

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/store"
)

// Options say what a backup holds about the node; the wiring fills them.
type Options struct {
	// KeyID checks a node key file's bytes and returns the node's id.
	KeyID func(key []byte) (string, error)
	// AuditPrefix is the audit log's namespace in the store.
	AuditPrefix string
	// KeyFile and StoreDir are the node key's file and the store's
	// directory inside a data directory.
	KeyFile, StoreDir string

	stop string // tests: the restore step after which Restore returns as a crash would
}

// Summary is what a checked backup holds.
type Summary struct {
	Format      int
	Created     time.Time // zero for a legacy file
	Node        string    // the node's id, from its key
	Size        int64     // bytes of the file
	Records     int       // keys in the store
	AuditEvents uint64    // length of the audit chain (0 if not checked)
	AuditHead   string    // hash of its last event
	// Legacy is set for a version 1 file: it carries no checksums and its
	// store is in no order, so only its structure, its gzip CRC and its
	// key were checked here; Restore checks its audit chain once loaded,
	// before moving it into place.
	Legacy bool
	// Cleared is set by Restore when it first removed the remains of an
	// interrupted restore.
	Cleared bool
}

// LegacyWarning is what to tell an operator about a version 1 file.
const LegacyWarning = "this backup was written by an earlier release and carries no checksums: " +
	"only its structure and compression checksum could be checked; take a new backup once restored"

// Limits on the small sections.
const (
	maxFormatLine = 64
	maxManifest   = 1 << 20
	maxKey        = 64 << 10
)

// Verify checks the backup at path completely without writing anything:
// the whole-file checksum first, then every section against the manifest,
// the store stream record by record and the audit chain event by event.
func Verify(path string, o Options) (Summary, error) {
	s, err := verify(path, o)
	if err != nil {
		return Summary{}, fmt.Errorf("%s: %w", path, err)
	}
	return s, nil
}

func verify(path string, o Options) (Summary, error) {
	f, err := os.Open(path)
	if err != nil {
		return Summary{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Summary{}, err
	}
	version, digest, err := readHeader(f)
	if err != nil {
		return Summary{}, err
	}
	if version == formatV2 {
		if _, err := f.Seek(0, io.SeekStart); err != nil {
			return Summary{}, err
		}
		fh := newFileHash()
		if _, err := io.Copy(fh, f); err != nil {
			return Summary{}, err
		}
		if !bytes.Equal(fh.Sum(), digest) {
			return Summary{}, fmt.Errorf("%w: the whole-file checksum does not match (changed or cut short after it was written)", ErrDamaged)
		}
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return Summary{}, err
	}
	s, err := walk(f, version, o, verifySink{o.AuditPrefix, version == formatV2})
	s.Size = fi.Size()
	return s, err
}

// sink receives the key and the store stream of a backup being read.
type sink interface {
	key(b []byte) error
	store(r io.Reader) (storeInfo, error)
}

// storeInfo is what reading the store stream found.
type storeInfo struct {
	scanned bool // records and the chain were counted (not when loading)
	records int
	chain   bool // the audit chain was checked (ordered streams only)
	events  uint64
	head    string
}

// verifySink reads the store stream without keeping it. Only a version 2
// stream is in key order.
type verifySink struct {
	auditPrefix string
	ordered     bool
}

func (verifySink) key([]byte) error { return nil }

func (v verifySink) store(r io.Reader) (storeInfo, error) {
	return scanStore(r, v.auditPrefix, v.ordered)
}

// scanStore decodes a store stream, counts its records and, when the
// stream is ordered, checks that its keys ascend and that the audit chain
// holds.
func scanStore(r io.Reader, auditPrefix string, ordered bool) (storeInfo, error) {
	info := storeInfo{scanned: true, chain: ordered}
	var c audit.Chain
	var last string
	err := store.ReadBackup(r, func(k string, v []byte) error {
		if ordered && info.records > 0 && k <= last {
			return fmt.Errorf("%w: store records out of order at record %d", ErrDamaged, info.records+1)
		}
		last = k
		info.records++
		if rel, ok := strings.CutPrefix(k, auditPrefix); ordered && ok && audit.IsEventKey(rel) {
			if err := c.Add(rel, v); err != nil {
				return fmt.Errorf("%w: audit log: %v", ErrDamaged, err)
			}
		}
		return nil
	})
	if errors.Is(err, store.ErrBackupStream) {
		err = fmt.Errorf("%w: %v", ErrDamaged, err)
	}
	info.events, info.head = c.Head()
	return info, err
}

// walk reads the gzip'd tar archive from r, checks it section by section
// and hands the key and the store stream to sk.
func walk(r io.Reader, version int, o Options, sk sink) (Summary, error) {
	s := Summary{Format: version, Legacy: version == formatLegacy}
	// Once the format line is read, whatever goes wrong is damage.
	bad := ErrNotBackup
	gz, err := gzip.NewReader(r)
	if err != nil {
		return s, fmt.Errorf("%w: %v", bad, err)
	}
	tr := tar.NewReader(gz)
	next := func(want string) error {
		h, err := tr.Next()
		if err != nil {
			return fmt.Errorf("%w: %s missing: %v", bad, want, cutShort(err))
		}
		if h.Name != want {
			return fmt.Errorf("%w: holds %q where %q belongs", bad, h.Name, want)
		}
		return nil
	}
	if err := next(entryFormat); err != nil {
		return s, err
	}
	if b, err := readSmall(tr, maxFormatLine); err != nil || string(b) != formatLine(version) {
		return s, fmt.Errorf("%w: unknown format line", ErrNotBackup)
	}
	bad = ErrDamaged
	var m manifest
	if version == formatV2 {
		if err := next(entryManifest); err != nil {
			return s, err
		}
		if m, err = readManifest(tr); err != nil {
			return s, err
		}
		s.Created = m.Created
	}
	if err := next(entryKey); err != nil {
		return s, err
	}
	kr := newHashingReader(tr)
	key, err := readSmall(kr, maxKey)
	if err != nil {
		return s, fmt.Errorf("%w: node key: %v", bad, err)
	}
	if s.Node, err = o.KeyID(key); err != nil {
		return s, fmt.Errorf("%w: node key: %v", bad, err)
	}
	if err := sk.key(key); err != nil {
		return s, err
	}
	if err := next(entryStore); err != nil {
		return s, err
	}
	sr := newHashingReader(tr)
	info, err := sk.store(sr)
	if err != nil {
		return s, err
	}
	if _, err := io.Copy(io.Discard, sr); err != nil {
		return s, fmt.Errorf("%w: store: %v", bad, cutShort(err))
	}
	if _, err := tr.Next(); !errors.Is(err, io.EOF) {
		return s, fmt.Errorf("%w: more than a backup holds after the store", bad)
	}
	// Read the gzip stream to its end: that checks its CRC and length.
	if _, err := io.Copy(io.Discard, gz); err != nil {
		return s, fmt.Errorf("%w: %v", bad, cutShort(err))
	}
	s.Records, s.AuditEvents, s.AuditHead = info.records, info.events, info.head
	if version == formatV2 {
		return s, m.check(kr.section(entryKey), sr.section(entryStore), info)
	}
	return s, nil
}

// check compares what was read with what the manifest says was written.
func (m *manifest) check(key, st section, info storeInfo) error {
	for _, got := range []section{key, st} {
		if want, ok := m.section(got.Name); !ok || want != got {
			return fmt.Errorf("%w: section %s does not match its checksum", ErrDamaged, got.Name)
		}
	}
	if info.scanned && info.records != m.Records {
		return fmt.Errorf("%w: store holds %d records, the manifest says %d", ErrDamaged, info.records, m.Records)
	}
	if info.chain && (info.events != m.Audit.Events || info.head != m.Audit.Head) {
		return fmt.Errorf("%w: audit chain of %d events does not end at the head the manifest names", ErrDamaged, info.events)
	}
	return nil
}

func readManifest(r io.Reader) (manifest, error) {
	var m manifest
	b, err := readSmall(r, maxManifest)
	if err != nil {
		return m, fmt.Errorf("%w: manifest: %v", ErrDamaged, err)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil || m.Format != formatV2 {
		return m, fmt.Errorf("%w: manifest unreadable", ErrDamaged)
	}
	return m, nil
}

// readSmall reads all of r, refusing more than limit bytes.
func readSmall(r io.Reader, limit int64) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, cutShort(err)
	}
	if int64(len(b)) > limit {
		return nil, fmt.Errorf("longer than %d bytes", limit)
	}
	return b, nil
}

// cutShort names the usual cause of an unexpected end.
func cutShort(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return errors.New("the file ends too early")
	}
	return err
}
