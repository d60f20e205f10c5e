package calls

import (
	"context"
	"fmt"
	"sort"
	"time"

	"github.com/difronte/difronte/node/audit"
	"github.com/difronte/difronte/node/auth"
	"github.com/difronte/difronte/node/problem"
)

// Record is what the node keeps of a call: who, when, how long, whether
// answered. Never media, never content.
type Record struct {
	ID          string    `json:"id"`
	Beneficiary string    `json:"beneficiary"`
	Caregiver   string    `json:"caregiver"`       // local id, or "<peer>/<id>"
	Grant       string    `json:"grant,omitempty"` // for a caregiver of another coop
	Started     time.Time `json:"started"`
	Answered    bool      `json:"answered"`
	AnsweredAt  time.Time `json:"answered_at,omitzero"`
	Ended       time.Time `json:"ended,omitzero"`
	Seconds     int       `json:"seconds"` // answered to ended
	EndReason   string    `json:"end_reason,omitempty"`
}

func (s *Service) saveRecord(r Record) {
	// Records are written from the hub, off any request: a fresh context.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	// The hub saves outside its lock, so an older state of a call may
	// arrive after a newer one: a record only moves forward.
	s.recMu.Lock()
	defer s.recMu.Unlock()
	if old, ok := s.records.Get(r.ID); ok {
		if !old.Ended.IsZero() && r.Ended.IsZero() || old.Answered && !r.Answered && r.Ended.IsZero() {
			return
		}
	}
	if err := s.records.Put(ctx, r); err != nil {
		s.log.Error("call record not stored", "call", r.ID, "err", err)
	}
}

// Records lists call records the actor may see, newest first, optionally
// for one beneficiary.
func (s *Service) Records(a auth.Actor, ben string) []Record {
	out := s.records.Filter(func(r *Record) bool {
		return (ben == "" || r.Beneficiary == ben) && (s.canSeeBeneficiary(a, r.Beneficiary) || (a.CaregiverID != "" && r.Caregiver == a.CaregiverID))
	})
	sort.Slice(out, func(i, j int) bool { return out[i].Started.After(out[j].Started) })
	if out == nil {
		out = []Record{}
	}
	return out
}

// ImportRecords stores call records made before this node (the demo
// coop's weeks of work): each must name a beneficiary of this node and
// have started and ended in the past. Admins only; one audit event for
// the import.
func (s *Service) ImportRecords(ctx context.Context, a auth.Actor, rs []Record) error {
	if a.Role != auth.Admin {
		return s.deny(ctx, a, "call_record", "", "import")
	}
	now := s.now()
	bad := map[string]string{}
	for i, r := range rs {
		_, known := s.cfg.Dir.Beneficiary(r.Beneficiary)
		if r.ID == "" || !known || !r.Started.Before(now) || r.Ended.Before(r.Started) || r.Ended.After(now) ||
			r.Seconds < 0 || (r.Answered != (r.Seconds > 0)) {
			bad[fmt.Sprintf("records[%d]", i)] = "bad_record"
		}
	}
	if err := problem.Invalid(bad); err != nil {
		return err
	}
	s.recMu.Lock()
	defer s.recMu.Unlock()
	for _, r := range rs {
		if err := s.records.Put(ctx, r); err != nil {
			return fmt.Errorf("store call record: %w", err)
		}
	}
	return s.cfg.Audit.Record(ctx, s.event(a, audit.Create, "call_record", "", fmt.Sprintf("import %d", len(rs))))
}

// Record returns one call record (for tests and the escalation to come).
func (s *Service) Record(id string) (Record, bool) { return s.records.Get(id) }

func fmtRef(node, id string) string { return fmt.Sprintf("%s/%s", node, id) }
