package verify

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
)

// HashPager pages through the hashes of every key in the store;
// latchkey.Store implementations satisfy it.
type HashPager interface {
	KeyHashes(ctx context.Context, after string, limit int) ([]latchkey.KeyHash, error)
}

// Membership configures the membership set: the first 8 bytes of the hash
// of every key's current and previous secret, held on every instance, so
// that a token no key has is refused without a store read (a flood of
// well-formed random tokens would otherwise be one store read each).
//
// The set may hold more than the store (a deleted key's hash stays until
// the next load): a hash in the set is only worth a store read. It must
// never hold less once ready, so the caller reports every new secret with
// AddKnown or AddKnownPrefix before the call that wrote it returns.
type Membership struct {
	// Hashes loads the set, when Run starts and again whenever trust
	// comes back (SetTrusted(true)), since announcements may have been
	// lost meanwhile. Until a load completes, every miss reads the store.
	Hashes HashPager
	// Fence, when several instances share the store, returns once every
	// secret whose write committed before the call has been announced to
	// this verifier: on PostgreSQL, a notification this instance sends on
	// the invalidation channel and waits to receive, since notifications
	// arrive in commit order. A hash absent from the set is refused only
	// after a fence that began after the request arrived; the concurrent
	// misses share one fence, so a flood costs at most one fence per
	// FenceEvery, whatever its rate. nil: this process is the store's only
	// writer, and the set alone decides.
	Fence func(ctx context.Context) error
	// FenceEvery is the least time between two fences (default 1ms): a
	// flood of unknown tokens costs the database at most 1/FenceEvery
	// notifications per second per instance, each delivered to every
	// instance, and delays each refusal by up to about FenceEvery.
	FenceEvery time.Duration
}

// How the set is loaded and fenced; variables so a test can shrink them.
var (
	knownPage         = 10_000
	knownFenceTimeout = time.Second
)

type knownSet struct {
	hashes HashPager
	fence  *fencer // nil: the set alone decides
	mu     sync.RWMutex
	set    map[uint64]struct{}
	// ready is true once a load finished while trusted: only then does
	// a hash's absence mean anything.
	ready atomic.Bool
	// epoch counts losses of trust: a load that saw one end while it ran
	// does not make the set ready.
	epoch atomic.Uint64
	// trusted mirrors the verifier's: no load starts while untrusted.
	untrusted atomic.Bool
	kick      chan struct{}

	absent, fenced, unsure prometheus.Counter
}

func newKnownSet(m *Membership, reg prometheus.Registerer) *knownSet {
	k := &knownSet{hashes: m.Hashes, set: make(map[uint64]struct{}), kick: make(chan struct{}, 1)}
	if m.Fence != nil {
		every := m.FenceEvery
		if every <= 0 {
			every = time.Millisecond
		}
		k.fence = &fencer{fn: m.Fence, every: every}
	}
	results := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "latchkey_verify_membership_total",
		Help: "Cache misses judged by the membership set: absent (refused without a store read), fenced (absent after waiting for other instances' announcements), unsure (read from the store: the hash is in the set, or the set is not ready).",
	}, []string{"result"})
	size := prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "latchkey_verify_membership_hashes",
		Help: "Secret hashes in this instance's membership set.",
	}, func() float64 { return float64(k.len()) })
	if reg != nil {
		results = register(reg, results)
		register[prometheus.Collector](reg, size)
	}
	k.absent, k.fenced, k.unsure = results.WithLabelValues("absent"), results.WithLabelValues("fenced"), results.WithLabelValues("unsure")
	k.kick <- struct{}{}
	return k
}

func prefix(h *[32]byte) uint64 { return binary.LittleEndian.Uint64(h[:8]) }

func (k *knownSet) addPrefix(p uint64) {
	k.mu.Lock()
	k.set[p] = struct{}{}
	k.mu.Unlock()
}

func (k *knownSet) has(p uint64) bool {
	k.mu.RLock()
	_, ok := k.set[p]
	k.mu.RUnlock()
	return ok
}

func (k *knownSet) len() int {
	k.mu.RLock()
	defer k.mu.RUnlock()
	return len(k.set)
}

// isAbsent reports whether no key can have hash h: only when the set is
// ready, h's prefix is not in it, and (with other instances) still not
// after a fence begun after the call.
func (k *knownSet) isAbsent(ctx context.Context, h *[32]byte) bool {
	p := prefix(h)
	if !k.ready.Load() || k.has(p) {
		k.unsure.Inc()
		return false
	}
	if k.fence == nil {
		k.absent.Inc()
		return true
	}
	epoch := k.epoch.Load()
	fctx, cancel := context.WithTimeout(ctx, knownFenceTimeout)
	err := k.fence.wait(fctx)
	cancel()
	// A fence that failed, or trust lost while it ran, proves nothing:
	// the store decides.
	if err != nil || !k.ready.Load() || k.epoch.Load() != epoch || k.has(p) {
		k.unsure.Inc()
		return false
	}
	k.fenced.Inc()
	return true
}

// setTrusted follows the verifier's trust: while announcements may be
// missed the set is not ready, and once they flow again it is reloaded.
func (k *knownSet) setTrusted(trusted bool) {
	if !trusted {
		k.untrusted.Store(true)
		k.epoch.Add(1)
		k.ready.Store(false)
		return
	}
	k.untrusted.Store(false)
	select {
	case k.kick <- struct{}{}:
	default:
	}
}

// run loads the set whenever kicked, until ctx is done.
func (k *knownSet) run(ctx context.Context, log interface {
	WarnContext(context.Context, string, ...any)
}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-k.kick:
		}
		for ctx.Err() == nil && !k.untrusted.Load() {
			err := k.load(ctx)
			if err == nil {
				break
			}
			log.WarnContext(ctx, "verify: loading the membership set failed; unknown keys read the store until it loads", "err", err)
			select {
			case <-ctx.Done():
			case <-time.After(time.Second):
			}
		}
	}
}

// load pages through the store's hashes. Announcements keep arriving
// meanwhile; a key written after a page was read is announced, since
// announcements flow while trusted and the load starts only then.
func (k *knownSet) load(ctx context.Context) error {
	epoch := k.epoch.Load()
	if k.untrusted.Load() {
		return nil
	}
	after := ""
	for {
		page, err := k.hashes.KeyHashes(ctx, after, knownPage)
		if err != nil {
			return err
		}
		k.mu.Lock()
		for i := range page {
			k.set[prefix(&page[i].Hash)] = struct{}{}
			if page[i].Previous != nil {
				k.set[prefix(page[i].Previous)] = struct{}{}
			}
		}
		k.mu.Unlock()
		if len(page) < knownPage {
			break
		}
		after = page[len(page)-1].ID
	}
	if k.epoch.Load() == epoch && !k.untrusted.Load() {
		k.ready.Store(true)
	}
	return nil
}

// fencer runs fences one at a time: a caller joins the next fence not yet
// begun, never one in flight (it may have begun before the caller's
// request arrived), and every caller waiting meanwhile shares it.
type fencer struct {
	fn      func(ctx context.Context) error
	every   time.Duration
	mu      sync.Mutex
	next    *fenceRound
	running bool
}

type fenceRound struct {
	done chan struct{}
	err  error
}

func (f *fencer) wait(ctx context.Context) error {
	f.mu.Lock()
	if f.next == nil {
		f.next = &fenceRound{done: make(chan struct{})}
	}
	r := f.next
	if !f.running {
		f.running = true
		go f.loop()
	}
	f.mu.Unlock()
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (f *fencer) loop() {
	var last time.Time
	for {
		if wait := f.every - time.Since(last); wait > 0 {
			time.Sleep(wait)
		}
		f.mu.Lock()
		r := f.next
		f.next = nil
		if r == nil {
			f.running = false
			f.mu.Unlock()
			return
		}
		f.mu.Unlock()
		last = time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), knownFenceTimeout)
		r.err = f.fn(ctx)
		cancel()
		close(r.done)
	}
}

// MembershipReady reports whether the membership set is loaded and trusted,
// so that unknown tokens are refused without a store read.
func (v *Verifier) MembershipReady() bool { return v.known != nil && v.known.ready.Load() }
