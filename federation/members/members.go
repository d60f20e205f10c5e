package members

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/hashicorp/memberlist"
)

// Member is one coop node as this node sees it.
type Member struct {
	Name string
	Meta Meta
	// Addr is the memberlist address (host:port), not a libp2p one.
	Addr string
	// Online is false once the node left (Close) or was declared failed.
	// memberlist does not tell the two apart in its events.
	Online bool
	// LastSeen is now for an online node, and the moment this node
	// learned it was gone for an offline one.
	LastSeen time.Time
	// Suspicions counts the times this node's own probes failed to reach
	// the member and it raised a suspicion. For a member that stayed up
	// every one of them is a false alarm.
	Suspicions int
}

// Stats are counters about this node's membership, for metrics.
type Stats struct {
	// Suspected counts suspicions this node raised about others.
	Suspected int
	// Refuted counts the times others suspected this node, or declared
	// it dead, while it was alive: false alarms about this node.
	Refuted int
	// MetaDropped counts addresses left out of the local metadata because
	// they did not fit in MetaMaxSize.
	MetaDropped int
}

// ErrNotStarted reports a call that needs Start first.
var ErrNotStarted = errors.New("membership not started")

// ErrClosed reports a call after Close.
var ErrClosed = errors.New("membership closed")

// Members keeps this node in the federation's membership and tracks the
// others. Its methods are safe for concurrent use.
type Members struct {
	cfg resolved
	log *slog.Logger

	// startMu serialises Start and Close.
	startMu sync.Mutex
	ml      *memberlist.Memberlist
	closed  bool
	// closeDone is closed when the first Close has finished; closeErr is
	// its result.
	closeDone chan struct{}
	closeErr  error

	mu       sync.Mutex
	meta     []byte
	local    Meta
	members  map[string]*Member
	stats    Stats
	fns      []func(Member)
	queue    []Member
	notify   chan struct{}
	stop     chan struct{}
	dispatch sync.WaitGroup
}

// New checks cfg and prepares a Members. It does no I/O.
func New(cfg Config) (*Members, error) {
	r, err := cfg.resolve()
	if err != nil {
		return nil, fmt.Errorf("membership config: %w", err)
	}
	m := &Members{
		cfg:       r,
		log:       r.Logger.With("component", "members"),
		members:   make(map[string]*Member),
		notify:    make(chan struct{}, 1),
		closeDone: make(chan struct{}),
		stop:      make(chan struct{}),
	}
	if err := m.setMeta(r.Meta); err != nil {
		return nil, err
	}
	return m, nil
}

func (m *Members) setMeta(meta Meta) error {
	enc, dropped, err := EncodeMeta(meta)
	if err != nil {
		return fmt.Errorf("encode node metadata: %w", err)
	}
	if dropped > 0 {
		m.log.Debug("addresses left out of membership metadata", "dropped", dropped, "kept", len(meta.Addrs)-dropped)
	}
	m.mu.Lock()
	m.meta = enc
	m.local = meta.clone()
	m.stats.MetaDropped = dropped
	m.mu.Unlock()
	return nil
}

// Start binds the transport and makes this node a federation of one; Join
// then connects it to the others. ctx only bounds the start: memberlist
// binds its sockets synchronously, so it is checked before binding.
func (m *Members) Start(ctx context.Context) error {
	m.startMu.Lock()
	defer m.startMu.Unlock()
	if m.closed {
		return ErrClosed
	}
	if m.ml != nil {
		return errors.New("membership already started")
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("start membership: %w", err)
	}
	mc, err := m.cfg.memberlistConfig()
	if err != nil {
		return err
	}
	mc.Logger = log.New(&logBridge{m: m}, "", 0)
	d := &delegate{m: m}
	mc.Delegate = d
	mc.Events = d
	ml, err := memberlist.Create(mc)
	if err != nil {
		return fmt.Errorf("start membership on %s:%d: %w", m.cfg.BindAddr, m.cfg.BindPort, err)
	}
	m.ml = ml
	m.dispatch.Add(1)
	go m.dispatchLoop()
	m.log.Debug("membership started", "addr", ml.LocalNode().Address())
	return nil
}

// Join contacts seeds ("host:port", or "name/host:port") and merges their
// view of the federation. It returns how many seeds answered; an error
// only if none did.
func (m *Members) Join(seeds []string) (int, error) {
	ml, err := m.running()
	if err != nil {
		return 0, err
	}
	n, err := ml.Join(seeds)
	if err != nil {
		return n, fmt.Errorf("join federation via %d seeds: %w", len(seeds), err)
	}
	return n, nil
}

func (m *Members) running() (*memberlist.Memberlist, error) {
	m.startMu.Lock()
	defer m.startMu.Unlock()
	if m.closed {
		return nil, ErrClosed
	}
	if m.ml == nil {
		return nil, ErrNotStarted
	}
	return m.ml, nil
}

// LocalAddr is the memberlist address others join: the advertised IP and
// the port actually bound (useful with BindPort 0). Empty before Start.
func (m *Members) LocalAddr() string {
	ml, err := m.running()
	if err != nil {
		return ""
	}
	return ml.LocalNode().Address()
}

// Members lists every node known, the local one included, online or
// offline, sorted by name.
func (m *Members) Members() []Member {
	now := m.cfg.Clock.Now()
	m.mu.Lock()
	out := make([]Member, 0, len(m.members))
	for _, mem := range m.members {
		c := *mem
		c.Meta = c.Meta.clone()
		if c.Online {
			c.LastSeen = now
		}
		out = append(out, c)
	}
	m.mu.Unlock()
	slices.SortFunc(out, func(a, b Member) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Stats returns the counters.
func (m *Members) Stats() Stats {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.stats
}

// UpdateMeta replaces this node's metadata and gossips it. It waits up to
// LeaveTimeout for the update to be sent; on a timeout the new metadata
// is still in force locally and spreads with the next push-pull.
func (m *Members) UpdateMeta(meta Meta) error {
	if err := m.setMeta(meta); err != nil {
		return err
	}
	ml, err := m.running()
	if errors.Is(err, ErrNotStarted) {
		// Start will advertise it.
		return nil
	}
	if err != nil {
		return err
	}
	if err := ml.UpdateNode(m.cfg.timing.LeaveTimeout); err != nil {
		return fmt.Errorf("gossip node metadata: %w", err)
	}
	return nil
}

// OnChange registers fn to be called after a member joins, changes
// metadata, leaves or fails. Calls come from one goroutine, in order, and
// never while memberlist holds its locks, so fn may call any method but
// Close.
func (m *Members) OnChange(fn func(Member)) {
	m.mu.Lock()
	m.fns = append(m.fns, fn)
	m.mu.Unlock()
}

// Close leaves the federation gracefully (others see this node as left,
// not failed), waiting at most LeaveTimeout, then stops everything. It is
// idempotent.
func (m *Members) Close() error {
	m.startMu.Lock()
	if m.closed {
		m.startMu.Unlock()
		<-m.closeDone
		return m.closeErr
	}
	m.closed = true
	ml := m.ml
	// Unlock before the slow part: OnChange callbacks may still call
	// methods that take startMu, and Close waits for them below.
	m.startMu.Unlock()
	defer close(m.closeDone)
	if ml == nil {
		return nil
	}
	if err := ml.Leave(m.cfg.timing.LeaveTimeout); err != nil {
		// Not fatal: the others will detect the failure instead.
		m.log.Debug("leave message not sent in time", "err", err)
	}
	if err := ml.Shutdown(); err != nil {
		m.closeErr = fmt.Errorf("shut down membership: %w", err)
	}
	close(m.stop)
	m.dispatch.Wait()
	m.log.Debug("membership closed")
	return m.closeErr
}

// dispatchLoop runs OnChange callbacks outside memberlist's locks: the
// event delegate is called with memberlist's node lock held, so a
// callback calling back into memberlist (UpdateMeta) would deadlock.
func (m *Members) dispatchLoop() {
	defer m.dispatch.Done()
	for {
		select {
		case <-m.stop:
			return
		case <-m.notify:
		}
		m.mu.Lock()
		queue, fns := m.queue, slices.Clone(m.fns)
		m.queue = nil
		m.mu.Unlock()
		for _, ev := range queue {
			for _, fn := range fns {
				fn(ev)
			}
		}
	}
}

// record applies a memberlist event. Called with m.mu held.
func (m *Members) record(n *memberlist.Node, online bool) {
	mem, ok := m.members[n.Name]
	if !ok {
		mem = &Member{Name: n.Name}
		m.members[n.Name] = mem
	}
	mem.Addr = n.Address()
	mem.Online = online
	mem.LastSeen = m.cfg.Clock.Now()
	if meta, err := DecodeMeta(n.Meta); err != nil {
		m.log.Debug("undecodable metadata from member", "member", n.Name, "err", err)
	} else {
		mem.Meta = meta
	}
	if !online {
		m.pruneOffline()
	}
	ev := *mem
	ev.Meta = ev.Meta.clone()
	m.queue = append(m.queue, ev)
	select {
	case m.notify <- struct{}{}:
	default:
	}
}

// pruneOffline forgets the oldest offline members beyond MaxOffline.
func (m *Members) pruneOffline() {
	var offline []*Member
	for _, mem := range m.members {
		if !mem.Online {
			offline = append(offline, mem)
		}
	}
	if len(offline) <= m.cfg.MaxOffline {
		return
	}
	slices.SortFunc(offline, func(a, b *Member) int { return a.LastSeen.Compare(b.LastSeen) })
	for _, mem := range offline[:len(offline)-m.cfg.MaxOffline] {
		delete(m.members, mem.Name)
	}
}

// delegate implements memberlist.Delegate and memberlist.EventDelegate.
// Membership carries no user messages: libp2p carries the data.
type delegate struct{ m *Members }

func (d *delegate) NodeMeta(limit int) []byte {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	if len(d.m.meta) > limit {
		// Cannot happen (EncodeMeta honours MetaMaxSize, which is the
		// only limit memberlist passes); memberlist would panic.
		return nil
	}
	return slices.Clone(d.m.meta)
}

func (d *delegate) NotifyMsg([]byte)                           {}
func (d *delegate) GetBroadcasts(overhead, limit int) [][]byte { return nil }
func (d *delegate) LocalState(join bool) []byte                { return nil }
func (d *delegate) MergeRemoteState(buf []byte, join bool)     {}

func (d *delegate) NotifyJoin(n *memberlist.Node) {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	d.m.record(n, true)
}

func (d *delegate) NotifyUpdate(n *memberlist.Node) {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	d.m.record(n, true)
}

func (d *delegate) NotifyLeave(n *memberlist.Node) {
	d.m.mu.Lock()
	defer d.m.mu.Unlock()
	d.m.record(n, false)
}
