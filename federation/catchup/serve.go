package catchup

import (
	"context"
	"errors"
	"fmt"

	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/peer"

	"github.com/difronte/difronte/federation/budget"
	"github.com/difronte/difronte/schema"
)

// handle answers one catch-up session. A peer over MaxSessionsPerPeer
// gets a stream reset (an honest requester never runs two sessions with
// the same responder); a peer over its budget gets a refused frame.
func (s *Service) handle(stream network.Stream) {
	p := stream.Conn().RemotePeer()
	s.mu.Lock()
	if s.closed || s.serving[p] >= s.opts.MaxSessionsPerPeer {
		s.mu.Unlock()
		_ = stream.Reset()
		s.observe(Report{Role: Served, Outcome: Refused, Reason: budget.Streams})
		return
	}
	s.serving[p]++
	s.wg.Add(1)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		if s.serving[p]--; s.serving[p] == 0 {
			delete(s.serving, p)
		}
		s.mu.Unlock()
		s.wg.Done()
	}()

	ctx, cancel := context.WithTimeout(s.ctx, s.opts.SessionTimeout)
	defer cancel()
	stop := context.AfterFunc(ctx, func() { _ = stream.Reset() })
	defer stop()
	ss := newSession(stream, s.opts.IdleTimeout)
	rep := Report{Role: Served}
	sent, err := s.admitAndServe(ctx, ss, p)
	rep.Entries, rep.BytesSent, rep.BytesReceived = sent, ss.out.n, ss.in.n
	var refusal *budget.Refusal
	switch {
	case errors.As(err, &refusal):
		// Told the requester why and when to come back; end cleanly so
		// that it reads the frame.
		rep.Reason = refusal.Reason
		rep.Outcome = Refused
		if sent > 0 {
			rep.Outcome = Done // cut short, not refused
		}
		s.log.Debug("catch-up budget spent", "peer", p, "reason", refusal.Reason, "entries", sent)
	case err != nil:
		_ = stream.Reset()
		rep.Outcome = Failed
		s.observe(rep)
		s.log.Info("catch-up request failed", "peer", p, "err", err)
		return
	case sent == 0 && ss.inSync:
		rep.Outcome = InSync
	default:
		rep.Outcome = Done
	}
	_ = stream.Close()
	s.observe(rep)
	s.log.Debug("catch-up served", "peer", p, "entries", sent, "bytes", ss.out.n)
}

// admitAndServe charges the session to p's budget and answers it. When the
// budget refuses, before or during the session, it sends the refused frame
// and returns the *budget.Refusal.
func (s *Service) admitAndServe(ctx context.Context, ss *session, p peer.ID) (int, error) {
	bs, err := s.budget.Open(p)
	if err != nil {
		return 0, s.refuse(ss, err)
	}
	defer bs.Close()
	ss.spend = bs.Spend
	sent, err := s.serve(ctx, ss)
	var refusal *budget.Refusal
	if errors.As(err, &refusal) {
		return sent, s.refuse(ss, err)
	}
	return sent, err
}

// refuse sends the refused frame for err, a *budget.Refusal, and returns
// err, or the error that kept it from being sent.
func (s *Service) refuse(ss *session, err error) error {
	var refusal *budget.Refusal
	if !errors.As(err, &refusal) {
		return err
	}
	if werr := ss.write(fRefused, appendRefusal(nil, refusal)); werr != nil {
		return werr
	}
	if werr := ss.flush(); werr != nil {
		return werr
	}
	return err
}

func (s *Service) serve(ctx context.Context, ss *session) (int, error) {
	typ, payload, err := ss.read(MaxFrame)
	if err != nil {
		return 0, fmt.Errorf("read hello: %w", err)
	}
	if typ != fHello {
		return 0, fmt.Errorf("%w: frame %d instead of hello", errProtocol, typ)
	}
	h, err := parseHello(payload)
	if err != nil {
		return 0, err
	}
	if h.version != protocolVersion {
		return 0, fmt.Errorf("%w: version %d", errProtocol, h.version)
	}
	if h.digest == s.r.Digest() {
		ss.inSync = true
		if err := ss.write(fInSync, nil); err != nil {
			return 0, err
		}
		return 0, ss.flush()
	}
	if err := ss.write(fDiffer, nil); err != nil {
		return 0, err
	}
	if err := ss.flush(); err != nil {
		return 0, err
	}
	asked, err := s.readMarks(ss)
	if err != nil {
		return 0, err
	}
	return s.sendSections(ctx, ss, asked, int(min(h.budget, uint64(s.opts.MaxEntriesPerSession))))
}

// readMarks reads the requester's marks up to marks-end.
func (s *Service) readMarks(ss *session) (map[string]uint64, error) {
	asked := make(map[string]uint64)
	for {
		typ, payload, err := ss.read(MaxFrame)
		if err != nil {
			return nil, fmt.Errorf("read marks: %w", err)
		}
		if typ == fMarksEnd {
			return asked, nil
		}
		if typ != fMarks {
			return nil, fmt.Errorf("%w: frame %d among marks", errProtocol, typ)
		}
		if err := parseMarks(payload, func(m mark) error {
			if len(asked) >= s.opts.MaxPublishers {
				return fmt.Errorf("%w: more than %d marks", errProtocol, s.opts.MaxPublishers)
			}
			asked[m.publisher] = m.seq
			return nil
		}); err != nil {
			return nil, err
		}
	}
}

// sendSections sends, in publisher order, a section for every publisher
// held above the requester's mark, at most budget entries in all, then
// done. It returns how many entries it sent.
func (s *Service) sendSections(ctx context.Context, ss *session, asked map[string]uint64, budget int) (int, error) {
	sent := 0
	errBudget := errors.New("budget spent")
	var cut error // the per-peer byte budget ran out
	for _, ps := range s.r.Publishers() {
		if sent >= budget || cut != nil {
			break
		}
		after := asked[ps.Publisher]
		if ps.MaxSeq <= after {
			continue
		}
		if err := ss.write(fSection, []byte(ps.Publisher)); err != nil {
			return sent, err
		}
		var last, skipped uint64
		err := s.r.Since(ctx, ps.Publisher, after, func(e *schema.Entry) error {
			if sent >= budget {
				return errBudget
			}
			if e.CheckStrict() != nil {
				// Stored by an earlier version that did not check
				// bodies strictly; a requester would end the session
				// on it. Never vouch for a mark past it.
				if skipped == 0 {
					skipped = e.Seq
				}
				return nil
			}
			wire := e.Marshal()
			if err := ss.spend(len(wire)); err != nil {
				cut = err
				return errBudget
			}
			if err := ss.write(fEntry, wire); err != nil {
				return err
			}
			sent++
			last = e.Seq
			return nil
		})
		if err != nil && !errors.Is(err, errBudget) {
			return sent, err
		}
		// Vouch only for what was sent: if the budget cut this publisher
		// short, everything above last is still to come.
		m := min(ps.Mark, last)
		if skipped != 0 {
			m = min(m, skipped-1)
		}
		if err := ss.write(fSectionEnd, binaryUvarint(m)); err != nil {
			return sent, err
		}
	}
	if cut != nil {
		return sent, cut // the caller sends refused in place of done
	}
	if err := ss.write(fDone, nil); err != nil {
		return sent, err
	}
	return sent, ss.flush()
}

func binaryUvarint(v uint64) []byte {
	return appendUvarint(nil, v)
}
