package verify

import (
	"context"
	"math"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey"
)

// leases holds this instance's blocks of keys' budgets (credits and
// windows of named rate limits). A verification spends from its block in
// memory with one atomic step; only an empty, void or expired block goes
// to the store, which grants blocks in one locked step (LeaseBudget), so
// no unit is ever spent twice across instances. Like limiters it lives
// apart from the cache: dropping a cached key keeps what was leased.
type leases struct {
	store latchkey.LeaseStore
	now   func() time.Time
	mu    sync.RWMutex
	m     map[string]*keyLeases
	max   int
}

// keyLeases are the blocks of one key, one per budget (a handful). all is
// read without a lock on every spend: it is replaced, never changed in
// place, under mu.
type keyLeases struct {
	mu  sync.Mutex
	all atomic.Pointer[[]*block]
}

// blocks is the key's current list of blocks.
func (kl *keyLeases) blocks() []*block {
	if p := kl.all.Load(); p != nil {
		return *p
	}
	return nil
}

// block is a lease being spent. balance, end, base and void are read
// without the lock on the fast path; everything is written under mu.
type block struct {
	name    string
	budget  latchkey.Budget // the rule of the last lease, for settling
	balance atomic.Int64
	end     atomic.Int64 // UnixNano when the lease's period ends; 0 before the first lease
	base    atomic.Int64 // Lease.Left - Lease.Granted: what is left is base + balance, at most
	void    atomic.Bool  // the key changed: settle and lease again before spending

	mu       sync.Mutex
	lease    latchkey.Lease
	leasedAt int64 // UnixNano
	granted  int64
	// dryUntil and dryCost remember that the store had less than
	// dryCost to give, so that a flood of refused verifications asks the
	// store at most once a second per instance.
	dryUntil, dryCost int64
}

// Lease sizing: a block aims at leaseAhead of this instance's recent
// demand, never more than maxLease; the store also caps it at an eighth
// of what is left.
const (
	leaseAhead = 200 * time.Millisecond
	maxLease   = 1 << 20
	dryRecheck = time.Second
)

func (l *leases) init(store latchkey.LeaseStore, now func() time.Time, max int) {
	l.store, l.now, l.max = store, now, max
	l.m = make(map[string]*keyLeases)
}

// spent is what a spend tells the answer about a budget.
type spent struct {
	ok   bool
	left int64 // at most this much is left (an upper bound)
	end  int64 // UnixNano when the budget next refills; 0 never
}

// spend takes cost units of budget b of key keyID at now. err is set when
// the store could not be asked (the caller answers unavailable).
func (l *leases) spend(ctx context.Context, keyID string, b latchkey.Budget, cost int64, now time.Time) (spent, error) {
	blk := l.block(keyID, b.Name)
	ns := now.UnixNano()
	if s, ok := blk.fast(cost, ns); ok {
		return s, nil
	}
	blk.mu.Lock()
	defer blk.mu.Unlock()
	if s, ok := blk.fast(cost, ns); ok {
		return s, nil
	}
	void := blk.void.Load()
	if !void && ns < blk.dryUntil && cost >= blk.dryCost && ns < blk.end.Load() {
		return spent{left: blk.base.Load() + blk.balance.Load(), end: blk.periodEnd()}, nil
	}
	if l.store == nil {
		return spent{}, errNoLeaseStore
	}
	want := blk.want(cost, ns)
	var held *latchkey.Lease
	var unspent int64
	if blk.lease.Found {
		held = &blk.lease
		unspent = blk.balance.Swap(0)
	}
	// Not the request's context: a grant the store made must be
	// recorded here even if the caller has gone, or it would be lost.
	lctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	lease, err := l.store.LeaseBudget(lctx, latchkey.LeaseRequest{KeyID: keyID, Budget: b,
		Want: want, Min: max(cost, 1), Held: held, Unspent: unspent, Now: now})
	cancel()
	if err != nil {
		// Nothing was settled: the old block is still ours.
		blk.balance.Add(unspent)
		return spent{}, err
	}
	if !lease.Found {
		// The key has no such budget any more (an edit on its way
		// here as an invalidation): nothing to count.
		blk.reset()
		return spent{ok: true, left: -1}, nil
	}
	blk.lease, blk.leasedAt, blk.granted = lease, ns, lease.Granted
	blk.budget = b
	blk.budget.Name = blk.name
	blk.base.Store(lease.Left - lease.Granted)
	// A credit's Period is when it was last set; its period began at the
	// refill boundary before that.
	blk.end.Store(unixNano(b.PeriodEnd(b.PeriodStart(lease.Period))))
	blk.void.Store(false)
	blk.balance.Store(lease.Granted)
	if s, ok := blk.fast(cost, ns); ok {
		blk.dryUntil = 0
		return s, nil
	}
	blk.dryUntil, blk.dryCost = ns+int64(dryRecheck), max(cost, 1)
	return spent{left: lease.Left, end: blk.periodEnd()}, nil
}

var errNoLeaseStore = latchkey.Errorf(latchkey.EUNAVAILABLE, "verify: no lease store for credits and rate limits")

// fast spends from the block without the store, when it is current and
// holds enough.
func (blk *block) fast(cost, ns int64) (spent, bool) {
	if blk.void.Load() || ns >= blk.end.Load() {
		return spent{}, false
	}
	for {
		bal := blk.balance.Load()
		if bal < cost {
			return spent{}, false
		}
		if blk.balance.CompareAndSwap(bal, bal-cost) {
			return spent{ok: true, left: blk.base.Load() + bal - cost, end: blk.periodEnd()}, true
		}
	}
}

func (blk *block) periodEnd() int64 {
	if e := blk.end.Load(); e != unixNano(never) {
		return e
	}
	return 0
}

var never = latchkey.Budget{}.PeriodEnd(time.Time{})

// want sizes the next block by the demand seen since the last lease.
func (blk *block) want(cost, ns int64) int64 {
	if blk.leasedAt == 0 {
		return max(cost, 1)
	}
	used := blk.granted - blk.balance.Load()
	elapsed := max(ns-blk.leasedAt, int64(time.Millisecond))
	rate := float64(used) / float64(elapsed) // units per nanosecond
	w := int64(math.Ceil(rate * float64(leaseAhead)))
	return min(max(w, cost, 1), maxLease)
}

func (blk *block) reset() {
	blk.lease = latchkey.Lease{}
	blk.balance.Store(0)
	blk.end.Store(0)
	blk.leasedAt, blk.granted, blk.dryUntil = 0, 0, 0
}

// block returns the key's block for the budget name, making it on first use.
func (l *leases) block(keyID, name string) *block {
	l.mu.RLock()
	kl := l.m[keyID]
	l.mu.RUnlock()
	if kl == nil {
		l.mu.Lock()
		if kl = l.m[keyID]; kl == nil {
			if len(l.m) >= l.max {
				l.evictOne()
			}
			kl = &keyLeases{}
			// A copy: keyID points into a cache entry's data.
			l.m[strings.Clone(keyID)] = kl
		}
		l.mu.Unlock()
	}
	for _, b := range kl.blocks() {
		if b.name == name {
			return b
		}
	}
	kl.mu.Lock()
	defer kl.mu.Unlock()
	old := kl.blocks()
	for _, b := range old {
		if b.name == name {
			return b
		}
	}
	b := &block{name: strings.Clone(name)}
	all := append(old[:len(old):len(old)], b)
	kl.all.Store(&all)
	return b
}

// evictOne drops some key's blocks to bound memory, settling them in the
// background so that what they held goes back to the store. Called with
// l.mu held.
func (l *leases) evictOne() {
	for id, kl := range l.m {
		delete(l.m, id)
		go l.settleKey(context.Background(), id, kl)
		return
	}
}

// invalidate voids the key's blocks: the key changed (its credits may
// have been set again), so nothing more is spent from them before they are
// settled and leased again.
func (l *leases) invalidate(keyID string) {
	l.mu.RLock()
	kl := l.m[keyID]
	l.mu.RUnlock()
	if kl == nil {
		return
	}
	kl.mu.Lock()
	for _, b := range kl.blocks() {
		b.void.Store(true)
	}
	kl.mu.Unlock()
}

func (l *leases) invalidateAll() {
	l.mu.RLock()
	defer l.mu.RUnlock()
	for _, kl := range l.m {
		kl.mu.Lock()
		for _, b := range kl.blocks() {
			b.void.Store(true)
		}
		kl.mu.Unlock()
	}
}

// settleAll gives back what every block holds unspent, for a shutdown:
// credits leased here and not spent are spendable by other instances.
func (l *leases) settleAll(ctx context.Context) error {
	l.mu.Lock()
	all := l.m
	l.m = make(map[string]*keyLeases)
	l.mu.Unlock()
	var first error
	for id, kl := range all {
		if err := l.settleKey(ctx, id, kl); err != nil && first == nil {
			first = err
		}
	}
	return first
}

func (l *leases) settleKey(ctx context.Context, keyID string, kl *keyLeases) error {
	blocks := kl.blocks()
	var first error
	for _, blk := range blocks {
		blk.mu.Lock()
		blk.void.Store(true)
		if blk.lease.Found && l.store != nil {
			unspent := blk.balance.Swap(0)
			held := blk.lease
			_, err := l.store.LeaseBudget(ctx, latchkey.LeaseRequest{KeyID: keyID,
				Budget: blk.budget, Held: &held, Unspent: unspent, Now: l.now()})
			if err != nil && first == nil {
				first = err
			}
			blk.reset()
		}
		blk.mu.Unlock()
	}
	return first
}

// spendBudgets spends what the verification costs of the key's named
// limits, then of its credits: last, so that a verification refused for
// any other reason spends no credit. A limit that refuses stops there;
// units already taken from other limits stay spent, as a request the
// product turned away still used its windows.
func (v *Verifier) spendBudgets(ctx context.Context, e *entry, req *Request, now time.Time, r *Result) {
	id := e.id()
	for list := e.part(partLimits); ; {
		b, rest, ok := nextLimit(list)
		if !ok {
			break
		}
		list = rest
		c, applies := limitCost(req.Limits, b.Name)
		if !applies {
			continue
		}
		s, err := v.leases.spend(ctx, id, b, c, now)
		if err != nil {
			r.Code, r.Err = Unavailable, err
			return
		}
		if r.nlimits < len(r.limits) { // a key has at most that many
			r.limits[r.nlimits] = BudgetState{Name: b.Name, Limit: b.Amount, Remaining: s.left, Reset: resetTime(s.end), Exceeded: !s.ok}
			r.nlimits++
		}
		if !s.ok {
			r.Code = latchkey.RateLimited
			r.RetryAfter = max(time.Duration(s.end-now.UnixNano()), time.Nanosecond)
			return
		}
	}
	if !e.credits {
		return
	}
	s, err := v.leases.spend(ctx, id, e.creditBudget(), cost(req.Cost), now)
	if err != nil {
		r.Code, r.Err = Unavailable, err
		return
	}
	r.Credits, r.HasCredits = BudgetState{Remaining: s.left, Reset: resetTime(s.end), Exceeded: !s.ok}, true
	if !s.ok {
		r.Code = latchkey.UsageExceeded
	}
}

// limitCost says whether the named limit applies to a verification that
// asked for uses (nil: every limit at cost 1), and at what cost.
func limitCost(uses []LimitUse, name string) (int64, bool) {
	if uses == nil {
		return 1, true
	}
	for _, u := range uses {
		if u.Name == name {
			return cost(u.Cost), true
		}
	}
	return 0, false
}

func resetTime(ns int64) time.Time {
	if ns == 0 {
		return time.Time{}
	}
	return time.Unix(0, ns).UTC()
}

// SettleLeases gives back to the store what this instance leased and did
// not spend, for a clean shutdown (Run calls it once its context is done).
func (v *Verifier) SettleLeases(ctx context.Context) error { return v.leases.settleAll(ctx) }
