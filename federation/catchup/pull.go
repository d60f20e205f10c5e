package catchup

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/budget"
	"github.com/difronte/difronte/schema"
)

// Sync pulls from p what the replica lacks and p holds.
func (s *Service) Sync(ctx context.Context, p peer.ID) (Stats, error) {
	var st Stats
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return st, errors.New("catch-up service closed")
	}
	if s.pulling[p] {
		s.mu.Unlock()
		return st, fmt.Errorf("catch up with %s: %w", p, ErrBusy)
	}
	if r := s.backingOff(p); r != nil {
		s.mu.Unlock()
		s.observe(Report{Role: Pulled, Outcome: Refused, Reason: r.Reason})
		return st, fmt.Errorf("catch up with %s: %w", p, r)
	}
	s.pulling[p] = true
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.pulling, p)
		s.mu.Unlock()
		s.wg.Done()
	}()

	ctx, cancel := context.WithTimeout(ctx, s.opts.SessionTimeout)
	defer cancel()
	stopOnClose := context.AfterFunc(s.ctx, cancel)
	defer stopOnClose()
	stream, err := s.h.NewStream(ctx, p, ProtocolID)
	if err != nil {
		return st, fmt.Errorf("catch up with %s: open stream: %w", p, err)
	}
	// Deadlines are not honoured by every transport; resetting on the
	// context is what bounds a stalled peer everywhere.
	stopReset := context.AfterFunc(ctx, func() { _ = stream.Reset() })
	defer stopReset()
	ss := newSession(stream, s.opts.IdleTimeout)
	err = s.pull(ctx, ss, p, &st)
	st.BytesSent, st.BytesReceived = ss.out.n, ss.in.n
	s.observe(pullReport(st, ss, err))
	var refusal *budget.Refusal
	if errors.As(err, &refusal) {
		_ = stream.Close()
		s.log.Debug("catch-up refused", "peer", p, "reason", refusal.Reason, "retry_after", refusal.RetryAfter)
		return st, fmt.Errorf("catch up with %s: %w", p, err)
	}
	if err != nil {
		_ = stream.Reset()
		if cerr := ctx.Err(); cerr != nil {
			// The reset on timeout surfaces as a closed-pipe read; say why.
			err = fmt.Errorf("%w: %v", cerr, err)
		}
		s.log.Warn("catch-up failed", "peer", p, "entries", st.Entries, "err", err)
		return st, fmt.Errorf("catch up with %s: %w", p, err)
	}
	_ = stream.Close()
	s.log.Debug("catch-up done", "peer", p, "entries", st.Entries, "applied", st.Applied, "round_trips", st.RoundTrips)
	return st, nil
}

// pullReport describes a pulled session for Observe.
func pullReport(st Stats, ss *session, err error) Report {
	r := Report{Role: Pulled, Outcome: Done, Reason: st.Refused, Entries: st.Entries, BytesSent: st.BytesSent, BytesReceived: st.BytesReceived}
	var refusal *budget.Refusal
	switch {
	case errors.As(err, &refusal):
		r.Outcome, r.Reason = Refused, refusal.Reason
	case err != nil:
		r.Outcome = Failed
	case ss.inSync:
		r.Outcome = InSync
	}
	return r
}

// backingOff returns the refusal of p whose wait has not passed yet, and
// forgets those that have. The caller holds s.mu.
func (s *Service) backingOff(p peer.ID) *budget.Refusal {
	now := s.opts.Clock.Now()
	for q, w := range s.notBefore {
		if !now.Before(w.until) {
			delete(s.notBefore, q)
		}
	}
	if w, ok := s.notBefore[p]; ok {
		return &budget.Refusal{Reason: w.reason, RetryAfter: w.until.Sub(now)}
	}
	return nil
}

// refused takes p's refused frame: Sync does not ask p again before the
// wait it names.
func (s *Service) refused(p peer.ID, payload []byte) (*budget.Refusal, error) {
	r, err := parseRefusal(payload)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	s.notBefore[p] = wait{until: s.opts.Clock.Now().Add(r.RetryAfter), reason: r.Reason}
	s.mu.Unlock()
	return r, nil
}

func (s *Service) pull(ctx context.Context, ss *session, p peer.ID, st *Stats) error {
	maxEntries := s.opts.MaxEntriesPerSession
	inSync, err := s.hello(ss, p, st, maxEntries)
	if err != nil || inSync {
		return err
	}
	asked, err := s.sendMarks(ss, p, st)
	if err != nil {
		return err
	}
	rc := &receiver{s: s, ctx: ctx, st: st, asked: asked, budget: maxEntries, now: s.opts.Clock.Now(),
		done: make(map[string]bool), vouched: make(map[string]uint64), deferred: make(map[string]uint64)}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		typ, payload, err := ss.read(MaxFrame)
		if err != nil {
			return err
		}
		switch typ {
		case fSection:
			err = rc.section(payload)
		case fEntry:
			err = rc.entry(payload)
		case fSectionEnd:
			err = rc.sectionEnd(payload)
		case fDone:
			if err := rc.finish(payload); err != nil {
				return err
			}
			s.keepResume(p, rc)
			return nil
		case fRefused:
			// p's budget for us ran out mid-session: keep what came,
			// resume from there once p's wait has passed.
			if rc.pub != "" {
				return fmt.Errorf("%w: refused inside a section", errProtocol)
			}
			r, err := s.refused(p, payload)
			if err != nil {
				return err
			}
			if err := rc.flush(); err != nil {
				return err
			}
			st.Truncated, st.Refused = true, r.Reason
			s.keepResume(p, rc)
			return nil
		default:
			return fmt.Errorf("%w: unexpected frame %d", errProtocol, typ)
		}
		if err != nil {
			return err
		}
	}
}

// hello sends the requester's hello and reads the answer: in sync (the
// session is over) or differ.
func (s *Service) hello(ss *session, p peer.ID, st *Stats, budget int) (inSync bool, err error) {
	if err := ss.write(fHello, hello{version: protocolVersion, digest: s.r.Digest(), budget: uint64(budget)}.append(nil)); err != nil {
		return false, fmt.Errorf("send hello: %w", err)
	}
	if err := ss.flush(); err != nil {
		return false, fmt.Errorf("send hello: %w", err)
	}
	st.RoundTrips++
	typ, payload, err := ss.read(MaxFrame)
	if err != nil {
		return false, fmt.Errorf("read hello answer: %w", err)
	}
	switch {
	case typ == fInSync && len(payload) == 0:
		ss.inSync = true
		return true, nil
	case typ == fRefused:
		r, err := s.refused(p, payload)
		if err != nil {
			return false, err
		}
		return false, r
	case typ == fDiffer && len(payload) == 0:
		return false, nil
	default:
		return false, fmt.Errorf("%w: frame %d answering hello", errProtocol, typ)
	}
}

// sendMarks sends the replica's marks in publisher order, in frames of
// about marksFrameTarget bytes, and returns them. Where p's last session
// ran out of budget, it asks from where p said it stopped.
func (s *Service) sendMarks(ss *session, p peer.ID, st *Stats) (map[string]uint64, error) {
	asked := s.r.Marks()
	s.mu.Lock()
	for pub, m := range s.resume[p] {
		asked[pub] = max(asked[pub], m)
	}
	s.mu.Unlock()
	pubs := make([]string, 0, len(asked))
	for pub := range asked {
		pubs = append(pubs, pub)
	}
	slices.Sort(pubs)
	var buf []byte
	for i, pub := range pubs {
		buf = appendMark(buf, mark{pub, asked[pub]})
		if len(buf) >= marksFrameTarget || i == len(pubs)-1 {
			if err := ss.write(fMarks, buf); err != nil {
				return nil, fmt.Errorf("send marks: %w", err)
			}
			buf = buf[:0]
		}
	}
	if err := ss.write(fMarksEnd, nil); err != nil {
		return nil, fmt.Errorf("send marks: %w", err)
	}
	if err := ss.flush(); err != nil {
		return nil, fmt.Errorf("send marks: %w", err)
	}
	st.RoundTrips++
	return asked, nil
}

// receiver checks and stores what a responder sends after the marks: the
// sections of entries, one publisher each, then done.
type receiver struct {
	s      *Service
	ctx    context.Context
	st     *Stats
	asked  map[string]uint64 // the marks sent
	budget int

	now time.Time

	pub      string // publisher of the open section, "" if none
	lastSeq  uint64
	done     map[string]bool   // publishers whose section was received
	vouched  map[string]uint64 // the marks the responder vouched for, below any deferred entry
	deferred map[string]uint64 // per publisher, the first entry deferred (issued in the future)
	batch    []*schema.Entry
}

// keepResume remembers, after a session that ran out of budget, where p
// stopped, and forgets it after one that did not.
func (s *Service) keepResume(p peer.ID, rc *receiver) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !rc.st.Truncated {
		delete(s.resume, p)
		return
	}
	r := s.resume[p]
	if r == nil {
		r = make(map[string]uint64)
		s.resume[p] = r
	}
	for pub, m := range rc.vouched {
		r[pub] = max(r[pub], m)
	}
}

func (rc *receiver) section(payload []byte) error {
	if rc.pub != "" {
		return fmt.Errorf("%w: section inside a section", errProtocol)
	}
	pub := string(payload)
	if len(pub) > maxPeerIDLen || rc.done[pub] {
		return fmt.Errorf("%w: bad or repeated section publisher", errProtocol)
	}
	if _, err := schema.PublicKeyFromPeerID(pub); err != nil {
		return fmt.Errorf("%w: section publisher: %v", errProtocol, err)
	}
	rc.pub, rc.lastSeq, rc.done[pub] = pub, 0, true
	return nil
}

func (rc *receiver) entry(payload []byte) error {
	section, st := rc.pub, rc.st
	if section == "" {
		return fmt.Errorf("%w: entry outside a section", errProtocol)
	}
	if st.Entries >= rc.budget {
		return fmt.Errorf("%w: more entries than the budget of %d", errProtocol, rc.budget)
	}
	if len(payload) > schema.MaxEntrySize {
		return fmt.Errorf("%w: entry of %d bytes", errProtocol, len(payload))
	}
	// Every kind, including those of a newer version: they are
	// verified by signature, stored and relayed so that the
	// marks stay true, but never interpreted by this version.
	e, err := schema.UnmarshalEntryAnyKind(payload)
	if err != nil {
		return fmt.Errorf("%w: entry: %v", errProtocol, err)
	}
	switch {
	case e.Publisher != section:
		return fmt.Errorf("%w: entry of %s in the section of %s", errProtocol, e.Publisher, section)
	case e.Seq <= rc.asked[section]:
		return fmt.Errorf("%w: seq %d of %s at or below the mark %d", errProtocol, e.Seq, section, rc.asked[section])
	case e.Seq <= rc.lastSeq:
		return fmt.Errorf("%w: seq %d of %s out of order", errProtocol, e.Seq, section)
	}
	if !e.Kind.Known() {
		if err := rc.s.r.AdmitKind(e.Kind); err != nil {
			return fmt.Errorf("%w: entry of %s seq %d: %v", errProtocol, section, e.Seq, err)
		}
		st.Foreign++
	} else if !e.Tombstone {
		if err := rc.s.opts.ValidateBody(e.Kind, e.Key, e.Body); err != nil {
			return fmt.Errorf("%w: body of %s seq %d: %v", errProtocol, section, e.Seq, err)
		}
	}
	rc.lastSeq = e.Seq
	st.Entries++
	st.EntryBytes += int64(len(payload))
	if e.Kind == schema.KindCheckpoint {
		st.Checkpoints++
		st.CheckpointB += int64(len(payload))
	}
	if schema.CheckIssuedAt(e, rc.now) != nil {
		// The publisher's clock is ahead, not the responder at fault:
		// skip it; not holding it keeps the mark below it.
		st.Deferred++
		if _, ok := rc.deferred[section]; !ok {
			rc.deferred[section] = e.Seq
		}
		return nil
	}
	rc.batch = append(rc.batch, e)
	if len(rc.batch) >= applyBatch {
		return rc.flush()
	}
	return nil
}

func (rc *receiver) sectionEnd(payload []byte) error {
	section := rc.pub
	if section == "" {
		return fmt.Errorf("%w: section end outside a section", errProtocol)
	}
	m, err := parseUvarintPayload(payload)
	if err != nil {
		return err
	}
	if m > max(rc.lastSeq, rc.asked[section]) {
		return fmt.Errorf("%w: mark %d of %s above the last seq sent %d", errProtocol, m, section, rc.lastSeq)
	}
	if err := rc.flush(); err != nil {
		return err
	}
	// The vouched mark is the responder's word: it only says where to
	// ask this responder from after a truncated session. The replica's
	// mark advances by the publisher's checkpoint, when what is held
	// matches it (replica.ApplyBatch), never by this.
	if d, ok := rc.deferred[section]; ok {
		m = min(m, d-1)
	}
	rc.vouched[section] = m
	rc.pub = ""
	return nil
}

// finish takes the done frame.
func (rc *receiver) finish(payload []byte) error {
	if rc.pub != "" || len(payload) != 0 {
		return fmt.Errorf("%w: done inside a section", errProtocol)
	}
	rc.st.Truncated = rc.st.Entries >= rc.budget
	return rc.flush()
}

// flush stores the entries received since the last flush.
func (rc *receiver) flush() error {
	if len(rc.batch) == 0 {
		return nil
	}
	n, err := rc.s.r.ApplyBatch(rc.ctx, rc.batch)
	rc.st.Applied += n
	rc.batch = rc.batch[:0]
	if err != nil {
		return fmt.Errorf("store entries: %w", err)
	}
	return nil
}
