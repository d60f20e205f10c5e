package backup

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"time"
)

// Sentinel errors callers branch on; the messages around them say why.
var (
	// ErrNotBackup: the file is not a difronte backup at all.
	ErrNotBackup = errors.New("not a difronte backup")
	// ErrDamaged: the file was a backup but is changed or cut short.
	ErrDamaged = errors.New("backup is damaged")
	// ErrNewer: a format version this release does not know.
	ErrNewer = errors.New("backup written by a newer release")
)

// Format versions.
const (
	formatLegacy = 1
	formatV2     = 2
)

// Entry names inside the tar archive.
const (
	entryFormat   = "difronte-backup"
	entryManifest = "manifest.json"
	entryKey      = "node.key"
	entryStore    = "store.badger"
)

// formatLine is the content of entryFormat for each version.
func formatLine(v int) string { return fmt.Sprintf("difronte-backup v%d\n", v) }

// The gzip header Go writes with an extra field and no name or comment:
// ID1 ID2 CM FLG MTIME(4) XFL OS, XLEN(2), then the extra field, which is
// one subfield: 'D' 'F', LEN(2), the version byte, the SHA-256.
const (
	gzipFlagExtra = 1 << 2
	extraLen      = 4 + 1 + sha256.Size
	headerLen     = 12 + extraLen
	digestOffset  = 12 + 4 + 1
)

// headerExtra is the extra field of a version 2 file, digest zeroed.
func headerExtra() []byte {
	x := make([]byte, extraLen)
	x[0], x[1] = 'D', 'F'
	binary.LittleEndian.PutUint16(x[2:], 1+sha256.Size)
	x[4] = formatV2
	return x
}

// readHeader reads the start of a file and returns its format version
// (formatLegacy for a gzip file without our subfield) and, for version 2,
// the whole-file digest it carries.
func readHeader(r io.Reader) (int, []byte, error) {
	hdr := make([]byte, headerLen)
	n, err := io.ReadFull(r, hdr)
	if n < 10 || hdr[0] != 0x1f || hdr[1] != 0x8b || hdr[2] != 8 {
		return 0, nil, ErrNotBackup
	}
	if hdr[3]&gzipFlagExtra == 0 {
		return formatLegacy, nil, nil
	}
	if err != nil || hdr[3] != gzipFlagExtra || binary.LittleEndian.Uint16(hdr[10:]) != extraLen ||
		!bytes.Equal(hdr[12:16], headerExtra()[:4]) {
		return 0, nil, fmt.Errorf("%w: unknown gzip header", ErrNotBackup)
	}
	if v := int(hdr[16]); v != formatV2 {
		return 0, nil, fmt.Errorf("%w: format version %d", ErrNewer, v)
	}
	return formatV2, hdr[digestOffset : digestOffset+sha256.Size], nil
}

// fileHash hashes a file as it is read or written, counting the digest's
// own bytes as zeros.
type fileHash struct {
	h   hash.Hash
	pos int64
}

func newFileHash() *fileHash { return &fileHash{h: sha256.New()} }

func (f *fileHash) Write(p []byte) (int, error) {
	start, end := f.pos, f.pos+int64(len(p))
	f.pos = end
	if end <= digestOffset || start >= digestOffset+sha256.Size {
		return f.h.Write(p)
	}
	q := bytes.Clone(p)
	for i := range q {
		if at := start + int64(i); at >= digestOffset && at < digestOffset+sha256.Size {
			q[i] = 0
		}
	}
	f.h.Write(q)
	return len(p), nil
}

func (f *fileHash) Sum() []byte { return f.h.Sum(nil) }

// section is one tar entry's size and SHA-256.
type section struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// manifest describes a version 2 backup; the verifier recomputes all of it.
type manifest struct {
	Format   int       `json:"format"`
	Created  time.Time `json:"created"`
	Sections []section `json:"sections"`
	Records  int       `json:"records"`
	Audit    chainHead `json:"audit"`
}

type chainHead struct {
	Events uint64 `json:"events"`
	Head   string `json:"head"`
}

// section returns the manifest's entry for name.
func (m *manifest) section(name string) (section, bool) {
	for _, s := range m.Sections {
		if s.Name == name {
			return s, true
		}
	}
	return section{}, false
}

// hashingReader hashes and counts what is read through it.
type hashingReader struct {
	r io.Reader
	h hash.Hash
	n int64
}

func newHashingReader(r io.Reader) *hashingReader { return &hashingReader{r: r, h: sha256.New()} }

func (h *hashingReader) Read(p []byte) (int, error) {
	n, err := h.r.Read(p)
	h.h.Write(p[:n])
	h.n += int64(n)
	return n, err
}

func (h *hashingReader) section(name string) section {
	return section{Name: name, Size: h.n, SHA256: hex.EncodeToString(h.h.Sum(nil))}
}

func bytesReader(b []byte) io.Reader { return bytes.NewReader(b) }
