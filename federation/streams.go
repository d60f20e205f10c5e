package federation

import (
	"github.com/difronte/difronte/federation/clock"

	"errors"
	"sync"

	"github.com/libp2p/go-libp2p/core/host"
	"github.com/libp2p/go-libp2p/core/network"
	"github.com/libp2p/go-libp2p/core/protocol"
	rcmgr "github.com/libp2p/go-libp2p/p2p/host/resource-manager"

	"github.com/difronte/difronte/federation/budget"
	"github.com/difronte/difronte/federation/catchup"
)

// otherProtocol names, in metrics, a stream protocol outside streamLimits
// (one a new domain serves through Host()).
const otherProtocol = "other"

// streamLimits are the per-peer budgets of the stream protocols served
// through Host(), sized so that honest traffic never meets them (the
// figures per protocol are in docs/PROTOCOL.md, "Budgets"). Catch-up
// keeps its own (catchup.DefaultBudget), which can tell the requester
// when to come back.
func streamLimits() map[protocol.ID]budget.Limits {
	return map[protocol.ID]budget.Limits{
		// 200 call setups at once (node/calls' BenchmarkSignalLoad): one
		// stream each, a few kB of SDP and candidates both ways; the
		// rates match SignalLimits' defaults, which still apply.
		SignalProtocol: {SessionsPerMinute: 20 * 60, SessionBurst: 400, BytesPerMinute: 32 << 20, ByteBurst: 32 << 20, Concurrent: 512},
		// One outcome per call.
		OutcomeProtocolID: {SessionsPerMinute: 20 * 60, SessionBurst: 400, BytesPerMinute: 16 << 20, ByteBurst: 16 << 20, Concurrent: 256},
		// A coop polls each authority every 10 s and submits now and
		// then: two maximal submissions fit the burst.
		ApplyProtocolID: {SessionsPerMinute: 30, SessionBurst: 30, BytesPerMinute: MaxApplyFrame, ByteBurst: 2 * (MaxApplyFrame + maxApplyResponse), Concurrent: 4},
		// A voucher is delivered once and redeemed once; a provider
		// redeeming a month's vouchers at once fits the burst.
		VoucherProtocolID: {SessionsPerMinute: 60, SessionBurst: 60, BytesPerMinute: 60 * maxVoucherFrame, ByteBurst: 60 * maxVoucherFrame, Concurrent: 8},
		// Citizens' requests and their cases: a few messages per case a
		// day, 1,000 queued ones flushed at once after an outage, and
		// attachments of up to 2 MiB.
		RequestsProtocolID: {SessionsPerMinute: 20 * 60, SessionBurst: 1200, BytesPerMinute: 64 << 20, ByteBurst: 64 << 20, Concurrent: 16},
		// A family's request to meet a worker: a handful of messages
		// per contact, 200 queued ones flushed at once after an outage.
		ContactsProtocolID: {SessionsPerMinute: 10 * 60, SessionBurst: 200, BytesPerMinute: 4 << 20, ByteBurst: 4 << 20, Concurrent: 8},
		// Once per new connection.
		MembersProtocol: {SessionsPerMinute: 30, SessionBurst: 30, BytesPerMinute: 64 << 10, ByteBurst: 64 << 10, Concurrent: 4},
		// A mesh peer asks every 2 s (linksRefresh) and on each GRAFT of
		// any topic's mesh; an answer is at most 16.6 KB (2.3 KB with 59
		// peers linked).
		LinksProtocol: {SessionsPerMinute: 60, SessionBurst: 30, BytesPerMinute: 1 << 20, ByteBurst: 1 << 20, Concurrent: 2},
	}
}

// defaultStreamLimits budget a protocol outside streamLimits.
var defaultStreamLimits = budget.Limits{SessionsPerMinute: 600, SessionBurst: 100, BytesPerMinute: 16 << 20, ByteBurst: 16 << 20, Concurrent: 64}

// protocolLabel is p's metric label: a protocol id of the fixed set, or
// otherProtocol.
func protocolLabel(p protocol.ID) string {
	if _, ok := streamLimits()[p]; ok || p == catchup.ProtocolID {
		return string(p)
	}
	return otherProtocol
}

// addStreamLimits adds to the resource manager's limits, per peer and
// protocol, the open streams of each stream protocol: libp2p resets a
// stream over them before any handler runs. SignalLimits and the budgets
// (streamLimits) stay the finer bound.
func addStreamLimits(cfg *rcmgr.ScalingLimitConfig) {
	AddSignalLimits(cfg)
	per := func(p protocol.ID, streams int) {
		cfg.AddProtocolPeerLimit(p, rcmgr.BaseLimit{StreamsInbound: streams, StreamsOutbound: streams, Streams: 2 * streams, Memory: 16 << 20},
			rcmgr.BaseLimitIncrease{Memory: 4})
	}
	// Two sessions served (MaxSessionsPerPeer) and one pulled, and room
	// for a stream the remote has not yet seen closed.
	per(catchup.ProtocolID, 4)
	per(OutcomeProtocolID, 256)
	per(ApplyProtocolID, 8)
	per(MembersProtocol, 8)
	per(LinksProtocol, 4)
	per(RequestsProtocolID, 32)
	per(ContactsProtocolID, 16)
}

// budgetedHost is the host the Federation hands out (Host): every stream
// handler set on it admits an inbound stream only within the remote
// peer's budget for that protocol, and counts the stream's bytes, read
// and written, against it.
type budgetedHost struct {
	host.Host
	clk     clock.Clock
	metrics *metrics

	mu     sync.Mutex
	tables map[protocol.ID]*budget.Table
}

func newBudgetedHost(h host.Host, clk clock.Clock, m *metrics) *budgetedHost {
	return &budgetedHost{Host: h, clk: clk, metrics: m, tables: make(map[protocol.ID]*budget.Table)}
}

func (b *budgetedHost) table(p protocol.ID) *budget.Table {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.tables[p]
	if t == nil {
		lim, ok := streamLimits()[p]
		if !ok {
			lim = defaultStreamLimits
		}
		t = budget.New(lim, b.clk, 0)
		b.tables[p] = t
	}
	return t
}

// SetStreamHandler sets handler for p, behind p's budget.
func (b *budgetedHost) SetStreamHandler(p protocol.ID, handler network.StreamHandler) {
	b.Host.SetStreamHandler(p, b.guard(handler))
}

// SetStreamHandlerMatch sets handler for the protocols m matches, each
// behind its own budget.
func (b *budgetedHost) SetStreamHandlerMatch(p protocol.ID, m func(protocol.ID) bool, handler network.StreamHandler) {
	b.Host.SetStreamHandlerMatch(p, m, b.guard(handler))
}

// guard wraps handler: a stream over the budget is reset (the Exchange
// protocols have no refusal a peer could read before its request: reading
// the request is what the budget refuses), and so is one that runs out of
// bytes.
func (b *budgetedHost) guard(handler network.StreamHandler) network.StreamHandler {
	return func(st network.Stream) {
		p := st.Protocol()
		sess, err := b.table(p).Open(st.Conn().RemotePeer())
		if err != nil {
			_ = st.Reset()
			b.refused(p, err)
			return
		}
		defer sess.Close()
		handler(&budgetedStream{Stream: st, sess: sess, refused: func(err error) { b.refused(p, err) }})
	}
}

func (b *budgetedHost) refused(p protocol.ID, err error) {
	var r *budget.Refusal
	if errors.As(err, &r) {
		b.metrics.streamRefused(protocolLabel(p), string(r.Reason))
	}
}

// budgetedStream charges its bytes to the peer's budget and resets itself
// when the budget runs out.
type budgetedStream struct {
	network.Stream
	sess    *budget.Session
	refused func(error)
	once    sync.Once
}

func (s *budgetedStream) spent(err error) error {
	s.once.Do(func() {
		_ = s.Stream.Reset()
		s.refused(err)
	})
	return err
}

func (s *budgetedStream) Read(b []byte) (int, error) {
	n, err := s.Stream.Read(b)
	if serr := s.sess.Spend(n); serr != nil {
		return n, s.spent(serr)
	}
	return n, err
}

func (s *budgetedStream) Write(b []byte) (int, error) {
	if err := s.sess.Spend(len(b)); err != nil {
		return 0, s.spent(err)
	}
	return s.Stream.Write(b)
}
