package search

import (
	"bufio"
	"encoding/gob"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime/debug"
	"slices"
	"strings"
	"time"
)

// snapshotFile holds the in-memory index on disk, written whole (to a
// temporary file, then renamed) so a crash leaves the previous one.
const snapshotFile = "index.gob"

// snapshotVersion changes whenever the analysis or the layout does: a
// snapshot of another version is ignored and the index rebuilt.
const snapshotVersion = 4

// snapshotEvery bounds how often a busy index rewrites its snapshot; what
// changed since is caught up from the replica after a crash.
const snapshotEvery = 30 * time.Second

// snapshot is the saved index: documents with their analysed terms (so a
// restart never analyses text again) and the per-publisher state: this
// header, then the documents in chunks. (Version 1 had the documents in
// the header: reading one skips them and rebuilds.)
type snapshot struct {
	Version int
	Digest  []byte
	Pubs    map[string]*pubState
	Words   []string
}

// snapChunk is one part of the documents: the snapshot is written and
// read as a header (snapshot without Docs) and chunks of documents, so
// neither side holds a second copy of the whole index in memory.
type snapChunk struct {
	Docs []snapDoc
	End  bool
}

// snapChunkSize is how many documents one chunk carries.
const snapChunkSize = 2000

type snapDoc struct {
	ID, NameKey, HSDS string
	Vals              [nFields][]string
	All, Name         []uint32 // indexes into Words
	Qual              *Qualification
	Coop              string
	Card              cardIn
}

// loadGCPercent is the collector's percentage while a snapshot loads.
const loadGCPercent = 25

// load reads the snapshot, if any, into the index. A missing, old or
// unreadable snapshot leaves the index empty: catch-up rebuilds it.
func (x *Index) load() error {
	if x.cfg.Dir == "" {
		return nil
	}
	if err := os.MkdirAll(x.cfg.Dir, 0o700); err != nil {
		return fmt.Errorf("create search index dir: %w", err)
	}
	// An index of the bleve era: its files are of no use any more.
	if _, err := os.Stat(filepath.Join(x.cfg.Dir, "index_meta.json")); err == nil {
		os.Remove(filepath.Join(x.cfg.Dir, "index_meta.json"))
		os.RemoveAll(filepath.Join(x.cfg.Dir, "store"))
	}
	f, err := os.Open(filepath.Join(x.cfg.Dir, snapshotFile))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("open search index: %w", err)
	}
	defer f.Close()
	// Loading decodes every document and leaves as much garbage as the
	// index it builds; at the default percentage the heap would reach
	// twice the index before a collection, and with the store's and the
	// binary's pages the process passed 256 MB at start. Collecting at a
	// quarter over the live heap while loading keeps the peak near the
	// index's own size, for a few more collections during a second or two;
	// what is left over goes back to the system at the end.
	defer debug.FreeOSMemory()
	defer debug.SetGCPercent(debug.SetGCPercent(loadGCPercent))
	var s snapshot
	dec := gob.NewDecoder(bufio.NewReaderSize(f, 1<<16))
	if err := dec.Decode(&s); err != nil || s.Version != snapshotVersion {
		x.log.Warn("search index snapshot unreadable or old: rebuilding from the replica", "err", err, "version", s.Version)
		return nil
	}
	m := newMem()
	for {
		var c snapChunk
		if err := dec.Decode(&c); err != nil {
			x.log.Warn("search index snapshot truncated: rebuilding from the replica", "err", err)
			return nil
		}
		for _, d := range c.Docs {
			in := &docIn{id: d.ID, nameKey: d.NameKey, hsds: d.HSDS, vals: d.Vals, qual: d.Qual, coop: d.Coop, card: d.Card,
				all: make([]string, 0, len(d.All)), name: make([]string, 0, len(d.Name))}
			for _, i := range d.All {
				if int(i) < len(s.Words) {
					in.all = append(in.all, s.Words[i])
				}
			}
			for _, i := range d.Name {
				if int(i) < len(s.Words) {
					in.name = append(in.name, s.Words[i])
				}
			}
			m.put(in)
		}
		if c.End {
			break
		}
	}
	x.mem = m
	x.state = s.Pubs
	if x.state == nil {
		x.state = map[string]*pubState{}
	}
	x.digest = s.Digest
	x.saved = x.cfg.Clock.Now()
	return nil
}

// save writes the snapshot. Only the goroutine that changes the index
// calls it (the follower, or Close after it stopped), so documents and
// state are of the same moment.
func (x *Index) save() error {
	x.mu.Lock()
	s := snapshot{Version: snapshotVersion, Digest: x.digest, Pubs: make(map[string]*pubState, len(x.state))}
	for p, st := range x.state {
		c := *st
		s.Pubs[p] = &c
	}
	x.dirty = false
	x.saved = x.cfg.Clock.Now()
	x.mu.Unlock()

	m := x.mem
	m.mu.RLock()
	s.Words = m.terms.strs()
	m.mu.RUnlock()
	// Words only grows, and only this goroutine changes documents, so
	// reading them chunk by chunk gives one moment's index.

	tmp := filepath.Join(x.cfg.Dir, snapshotFile+".tmp")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("write search index: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<16)
	enc := gob.NewEncoder(w)
	err = enc.Encode(&s)
	// One chunk's array of documents, reused: grown anew for each chunk it
	// was most of what a save allocated (150 MB for 100,000 documents).
	c := snapChunk{Docs: make([]snapDoc, 0, snapChunkSize)}
	for n := 0; err == nil; {
		clear(c.Docs)
		c.Docs = c.Docs[:0]
		m.mu.RLock()
		for ; n < len(m.docs) && len(c.Docs) < snapChunkSize; n++ {
			d := &m.docs[n]
			if d.idLen == 0 {
				continue
			}
			id := m.idOf(uint32(n))
			pub, _, _ := strings.Cut(id, "/")
			sd := snapDoc{ID: id, NameKey: m.nameKey(d), HSDS: d.hsds.String(), Qual: m.quals[uint32(n)], Coop: m.coops[pub], Card: m.cardIn(d),
				All: slices.Clone(m.allOf(d)), Name: slices.Clone(m.nameOf(d))}
			for _, v := range m.vals(d) {
				fv := &m.fvals[v]
				sd.Vals[fv.field] = append(sd.Vals[fv.field], fv.name)
			}
			c.Docs = append(c.Docs, sd)
		}
		c.End = n >= len(m.docs)
		m.mu.RUnlock()
		err = enc.Encode(&c)
		if c.End {
			break
		}
	}
	if err == nil {
		err = w.Flush()
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, filepath.Join(x.cfg.Dir, snapshotFile))
	}
	if err != nil {
		os.Remove(tmp)
		x.mu.Lock()
		x.dirty = true
		x.mu.Unlock()
		return fmt.Errorf("write search index: %w", err)
	}
	return nil
}
