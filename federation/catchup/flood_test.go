package catchup

import (
	"bufio"
	"context"
	"errors"
	"github.com/difronte/difronte/federation/clock/fakeclock"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/peer"
	mocknet "github.com/libp2p/go-libp2p/p2p/net/mock"
	"go.uber.org/goleak"

	"github.com/difronte/difronte/federation/budget"
	"github.com/difronte/difronte/schema"
)

// reports collects what Observe hears.
type reports struct {
	mu sync.Mutex
	rs []Report
}

func (r *reports) add(rep Report) {
	r.mu.Lock()
	r.rs = append(r.rs, rep)
	r.mu.Unlock()
}

func (r *reports) count(role Role, o Outcome) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, x := range r.rs {
		if x.Role == role && x.Outcome == o {
			n++
		}
	}
	return n
}

// checkCodes fails on a report whose outcome or reason is outside the
// fixed sets: they become metric labels.
func (r *reports) checkCodes(t *testing.T) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, x := range r.rs {
		if !slices.Contains(Outcomes(), x.Outcome) || (x.Reason != "" && !slices.Contains(budget.Reasons(), x.Reason)) ||
			(x.Role != Served && x.Role != Pulled) {
			t.Fatalf("report outside the fixed sets: %+v", x)
		}
	}
}

// signedFixture is a federation of pubs publishers whose every entry is
// signed (all may cross the wire), each log ending with its checkpoint.
func signedFixture(t testing.TB, pubs, perPub int) fixture {
	return buildFixture(t, pubs, 0, pubs*perPub).withCheckpoints(t)
}

// floodOnce runs one catch-up session as a flooding peer would: it asks
// for everything (no marks) and reads the answer to the end, ignoring any
// wait it is told. It returns the bytes read and whether it was refused
// before any entry, by a refused frame or by a reset (its previous
// session may still count as open: MaxSessionsPerPeer).
func floodOnce(ctx context.Context, h host.Host, to peer.ID) (n int64, refused bool, err error) {
	st, err := h.NewStream(ctx, to, ProtocolID)
	if err != nil {
		return 0, false, err
	}
	defer st.Close()
	_ = st.SetDeadline(time.Now().Add(5 * time.Second))
	w := bufio.NewWriter(st)
	_ = writeFrame(w, fHello, hello{version: protocolVersion, budget: 1 << 20}.append(nil))
	_ = writeFrame(w, fMarksEnd, nil)
	if err := w.Flush(); err != nil {
		return 0, false, err
	}
	c := &counter{rw: st}
	fr := newFrameReader(c)
	for first := true; ; first = false {
		typ, _, err := fr.next(MaxFrame)
		if err != nil {
			return c.n, first, nil
		}
		switch {
		case typ == fRefused:
			return c.n, first, nil
		case typ == fDone:
			return c.n, false, nil
		}
	}
}

// TestFloodRefused: a peer that opens catch-up sessions in a loop for two
// seconds is refused once its budget is spent, receives no more than the
// budget's bytes, and an honest peer syncing meanwhile gets everything.
func TestFloodRefused(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	mn := mocknet.New()
	fx := signedFixture(t, 10, 30)
	var seen reports
	probe := newNode(t, mn, nil, Options{})
	// The size of one full answer, measured against an unlimited twin.
	twin := newNode(t, mn, nil, Options{})
	fx.load(t, twin.r, true)
	linkAll(t, mn)
	st, err := probe.s.Sync(ctx, twin.h.ID())
	if err != nil || probe.r.Digest() != twin.r.Digest() {
		t.Fatalf("fixture sync: %+v %v", st, err)
	}
	full := st.BytesReceived
	const sessionsPerMinute, burst = 60, 4
	bytesPerMinute := float64(full) * 6 // one full answer every 10 s
	byteBurst := int(full * 5 / 2)
	a := newNode(t, mn, nil, Options{Observe: seen.add, Budget: budget.Limits{
		SessionsPerMinute: sessionsPerMinute, SessionBurst: burst, BytesPerMinute: bytesPerMinute, ByteBurst: byteBurst}})
	fx.load(t, a.r, true)
	honest := newNode(t, mn, nil, Options{})
	flooder, err := mn.GenPeer()
	if err != nil {
		t.Fatal(err)
	}
	defer closeAll(t, mn, probe, twin, a, honest)
	linkAll(t, mn)

	var honestErr error
	var honestSt Stats
	honestDone := make(chan struct{})
	start := time.Now()
	go func() {
		defer close(honestDone)
		time.Sleep(500 * time.Millisecond) // in the middle of the flood
		honestSt, honestErr = honest.s.Sync(ctx, a.h.ID())
	}()
	var received int64
	attempts, refused := 0, 0
	for time.Since(start) < 2*time.Second {
		n, ref, err := floodOnce(ctx, flooder, a.h.ID())
		if err != nil {
			t.Fatalf("flood session %d: %v", attempts, err)
		}
		attempts++
		received += n
		if ref {
			refused++
		}
	}
	elapsed := time.Since(start)
	<-honestDone

	admitted := attempts - refused
	maxAdmitted := burst + int(elapsed.Minutes()*sessionsPerMinute) + 1
	if refused == 0 || admitted > maxAdmitted {
		t.Fatalf("%d flood sessions, %d refused: %d admitted, at most %d allowed", attempts, refused, admitted, maxAdmitted)
	}
	// The budget's bytes, what refilled meanwhile, one entry of overdraft
	// and a refused frame (at most 8 bytes) per attempt.
	maxBytes := int64(byteBurst) + int64(elapsed.Minutes()*bytesPerMinute) + schema.MaxEntrySize + 8*int64(attempts)
	if received > maxBytes {
		t.Fatalf("flooder received %d bytes in %d sessions, budget allows %d (one full answer is %d)", received, attempts, maxBytes, full)
	}
	if received >= int64(attempts)*full/2 {
		t.Fatalf("flooder received %d bytes in %d sessions: not limited", received, attempts)
	}
	if honestErr != nil || honest.r.Digest() != a.r.Digest() || honestSt.Refused != "" {
		t.Fatalf("honest peer during the flood: %+v %v", honestSt, honestErr)
	}
	if seen.count(Served, Refused) < refused {
		t.Fatalf("%d refusals observed, %d made", seen.count(Served, Refused), refused)
	}
	seen.checkCodes(t)
	t.Logf("flood: %d sessions in %v, %d refused, %d bytes received (one full answer %d bytes)", attempts, elapsed.Round(time.Millisecond), refused, received, full)
}

// TestRefusalHonoured: a refused requester is told why and when to come
// back, and does not ask that responder again before then.
func TestRefusalHonoured(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	clk := fakeclock.New(time.Now())
	mn := mocknet.New()
	var seen reports
	a := newNode(t, mn, nil, Options{Clock: clk, Observe: seen.add, Budget: budget.Limits{SessionsPerMinute: 1, SessionBurst: 1}})
	b := newNode(t, mn, nil, Options{Clock: clk, Observe: seen.add})
	defer closeAll(t, mn, a, b)
	linkAll(t, mn)
	if _, err := a.r.Append(ctx, privKey(1), schema.KindOffering, "k", []byte(`{}`), false, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := b.s.Sync(ctx, a.h.ID()); err != nil {
		t.Fatal(err)
	}
	_, err := b.s.Sync(ctx, a.h.ID())
	var r *budget.Refusal
	if !errors.As(err, &r) || r.Reason != budget.Sessions || r.RetryAfter != time.Minute {
		t.Fatalf("second session: %v, want refused for sessions, retry after 1m", err)
	}
	served := seen.count(Served, Refused)
	clk.Advance(30 * time.Second)
	if _, err := b.s.Sync(ctx, a.h.ID()); !errors.Is(err, budget.ErrRefused) {
		t.Fatalf("before the wait passed: %v", err)
	}
	if got := seen.count(Served, Refused); got != served {
		t.Fatalf("the requester asked again before the wait: %d refusals served, was %d", got, served)
	}
	clk.Advance(30 * time.Second)
	if _, err := b.s.Sync(ctx, a.h.ID()); err != nil {
		t.Fatalf("after the wait: %v", err)
	}
	seen.checkCodes(t)
}

// TestByteBudgetCutsAndResumes: a session that runs out of the byte budget
// ends with a refused frame after whole sections; the requester keeps what
// came, waits, and resumes from where it was cut until it holds everything.
func TestByteBudgetCutsAndResumes(t *testing.T) {
	defer goleak.VerifyNone(t, goleak.IgnoreCurrent())
	ctx := context.Background()
	clk := fakeclock.New(time.Now())
	mn := mocknet.New()
	fx := signedFixture(t, 6, 20)
	a := newNode(t, mn, nil, Options{Clock: clk, Budget: budget.Limits{
		SessionsPerMinute: 600, SessionBurst: 100, BytesPerMinute: 60 * 1000, ByteBurst: 4000}})
	fx.load(t, a.r, true)
	b := newNode(t, mn, nil, Options{Clock: clk})
	defer closeAll(t, mn, a, b)
	linkAll(t, mn)
	cut := 0
	for round := 0; round < 100 && b.r.Digest() != a.r.Digest(); round++ {
		st, err := b.s.Sync(ctx, a.h.ID())
		var r *budget.Refusal
		switch {
		case errors.As(err, &r):
			clk.Advance(r.RetryAfter)
			continue
		case err != nil:
			t.Fatal(err)
		}
		if st.Refused != "" {
			if st.Refused != budget.Bytes || !st.Truncated || st.Entries == 0 {
				t.Fatalf("round %d: cut session %+v", round, st)
			}
			cut++
		}
	}
	if b.r.Digest() != a.r.Digest() || cut < 2 {
		t.Fatalf("after %d cut sessions: digests equal %v", cut, b.r.Digest() == a.r.Digest())
	}
	for pub, m := range a.r.Marks() {
		if b.r.Marks()[pub] != m {
			t.Fatalf("mark of %s: %d, want %d", pub, b.r.Marks()[pub], m)
		}
	}
}
