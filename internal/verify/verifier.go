// Package verify is latchkey's hot path: it decides whether a presented API
// key is valid for a request (valid, or a 401/403/429 reason) and answers the
// two verify endpoints.
//
// A decision normally never touches the store: keys are cached by the
// SHA-256 of their secret, and the management layer invalidates an entry
// before it acknowledges any change to the key, so a revocation is never
// "eventually" visible. Usage counters are kept in memory and written to the
// store in batches by Run, never on the request path.
package verify

import (
	"context"
	"encoding/binary"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/clientip"
	"github.com/latchkey/latchkey/internal/token"
)

// Unavailable is the Result code when the store failed (the domain's
// latchkey.VerifyUnavailable): the endpoints answer 503 so that callers
// retry instead of treating a database outage as a bad key.
const Unavailable = latchkey.VerifyUnavailable

// Lookup finds the key whose current or previous secret hashes to h;
// latchkey.Store implementations satisfy it.
type Lookup interface {
	KeyByHash(ctx context.Context, h [32]byte) (*latchkey.Key, error)
}

// VerifyLookup is a Lookup that can also read only what a verification
// decides on, which is cheaper (latchkey.Store's KeyForVerify); the
// verifier uses it unless it needs the whole key.
type VerifyLookup interface {
	KeyForVerify(ctx context.Context, h [32]byte) (*latchkey.Key, error)
}

// UsageSink receives batches of usage counters, and folds them into the
// daily counters (latchkey.UsageStore).
type UsageSink interface {
	AddUsage(ctx context.Context, batch []latchkey.Usage) error
	FoldUsage(ctx context.Context, after string, limit int) (string, error)
}

// Config configures a Verifier. Only Store is required.
type Config struct {
	Store      Lookup
	Format     token.Format     // zero value: the default "lk" prefix
	Now        func() time.Time // default time.Now
	Usage      UsageSink        // nil: usage is not counted
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// FlushEvery is how often Run writes usage counters (default 5s).
	FlushEvery time.Duration
	// FoldEvery is how often Run folds the store's usage log into the
	// daily counters and last_used_at (default LastUsedStep, a minute).
	FoldEvery time.Duration
	// CacheSize caps the cached keys (default 1,000,000); NegativeCacheSize
	// caps the remembered unknown hashes (default 100,000).
	CacheSize         int
	NegativeCacheSize int
	// DisableCache sends every request to the store, to measure the cold path.
	DisableCache bool
	// MaxAge bounds how long a cached entry is trusted without a store
	// read, or without word from Heard that every invalidation up to a
	// moment at most MaxAge ago has arrived; 0 trusts it until
	// invalidated. With several instances it is the safety net under
	// LISTEN/NOTIFY: a change whose notification is lost still reaches
	// every instance within MaxAge.
	MaxAge time.Duration
	// Reread bounds how long Heard alone keeps an entry trusted: past it,
	// the entry is read again even while the channel is heard, in case a
	// change was ever committed without its notification (default 1
	// minute). Up to twice Reread the entry still answers while it is
	// read again in the background, so that keys cached together do not
	// all come back to the store on the requests of one moment. It
	// matters only with MaxAge.
	Reread time.Duration
	// Verifiable says which key types a request that names no type
	// accepts (the catalog's Verifiable); by default every type but scim
	// and management, whose keys open latchkey itself.
	Verifiable func(keyType string) bool
	// Leases grants blocks of keys' credits and named rate limits; by
	// default Store, when it is a latchkey.LeaseStore. Without one, a
	// verification of a key with credits or named limits is unavailable.
	Leases latchkey.LeaseStore
	// ServeStale, when positive, keeps accepting a key the store cannot
	// be asked about (it is unreachable or too slow) if the store last
	// answered for it at most ServeStale ago and that answer still passes
	// every check; the Result is then Stale. 0 answers Unavailable.
	ServeStale time.Duration
	// ClientAddr tells, for forward-auth, the address of the client the
	// proxy serves: internal/clientip's Resolver.Addr, which believes
	// X-Forwarded-For only from trusted proxies. It must not allocate.
	// Default: the TCP peer.
	ClientAddr func(*http.Request) netip.Addr
	// Membership, when set, refuses tokens no key has without a store
	// read (see Membership).
	Membership *Membership
}

// Request is what a caller requires of a key; empty fields require nothing.
type Request struct {
	Scopes      []string
	Type        string
	Environment latchkey.Environment
	// KeyID is the Basic auth user name; when set it must be the key's id.
	KeyID string
	// Addr is the address of the key's user, checked against the key's
	// allowlist; the zero Addr (unknown) passes only keys without one.
	Addr netip.Addr
	// Cost is what the verification spends of the key's credits: 0
	// means the default, 1; CostNone spends nothing.
	Cost int64
	// Limits names the key's named rate limits that apply, each with
	// its cost; nil applies every limit of the key at cost 1. A name the
	// key has no limit for is ignored: keys of different plans carry
	// different limits.
	Limits []LimitUse
	// Tags are the caller's labels of the verification ("key=value",
	// such as the endpoint or the client's version), counted in usage.
	Tags []string
}

// CostNone is a Cost that spends nothing.
const CostNone = -1

// LimitUse is a named rate limit a verification applies, and its cost
// (0: 1, or CostNone).
type LimitUse struct {
	Name string
	Cost int64
}

// cost turns a requested cost into units.
func cost(c int64) int64 {
	switch {
	case c == 0:
		return 1
	case c < 0:
		return 0
	}
	return c
}

// Result is a decision. Code is "" when the key is valid.
type Result struct {
	Code latchkey.VerifyCode
	// Key is set whenever the key was found, valid or not.
	Key KeyView
	// Missing lists the required scopes the key lacks (insufficient_scope).
	Missing []string
	// RetryAfter is when a rate-limited key may try again.
	RetryAfter time.Duration
	// Credits, when HasCredits, is what is left of the key's credits
	// after this verification (an upper bound while instances hold
	// leases), and when they refill.
	Credits    BudgetState
	HasCredits bool
	// limits[:nlimits] are the named rate limits the verification
	// applied (Limits). Held in the Result, like Credits, so that a
	// budgeted verification allocates nothing.
	limits  [latchkey.MaxRateLimits]BudgetState
	nlimits int
	// at is the decision's time (UnixNano), for the reset headers.
	at int64
	// Stale is set when the decision rests on the store's last answer for
	// the key because the store could not be reached (Config.ServeStale).
	Stale bool
	// Err is the store's error when Code is Unavailable.
	Err error
}

// BudgetState is what a verification left of a budget.
type BudgetState struct {
	Name  string // the limit's name; "" for credits
	Limit int64  // the limit per window; 0 for credits
	// Remaining is an upper bound while other instances hold leases;
	// -1 when unknown (the budget was removed meanwhile).
	Remaining int64
	// Reset is when the budget refills (the window ends); zero if never.
	Reset time.Time
	// Exceeded marks the budget that refused the verification.
	Exceeded bool
}

// Limits are the named rate limits the verification applied, in the
// key's order; the refused one is last.
func (r *Result) Limits() []BudgetState { return r.limits[:r.nlimits] }

// budgeted reports whether the verification spent from any budget.
func (r *Result) budgeted() bool { return r.HasCredits || r.nlimits > 0 }

// Valid reports whether the key passed every check.
func (r *Result) Valid() bool { return r.Code == "" }

// KeyView is the cached form of a verified key. It is a value: it stays
// valid however the cache changes after the decision.
type KeyView struct{ e entry }

// Found reports whether the view holds a key.
func (v KeyView) Found() bool { return v.e.data != "" }

// ID returns the key's id.
func (v KeyView) ID() string { return v.e.part(partID) }

// WorkspaceID returns the id of the key's workspace.
func (v KeyView) WorkspaceID() string { return v.e.part(partWorkspace) }

// Owner returns latchkey.OwnerWorkspace or the id of the member who owns the key.
func (v KeyView) Owner() string { return v.e.part(partOwner) }

// Type returns the key's type.
func (v KeyView) Type() string { return v.e.part(partType) }

// Environment returns the key's environment.
func (v KeyView) Environment() latchkey.Environment { return v.e.environment() }

// Scopes returns the key's scopes joined by single spaces.
func (v KeyView) Scopes() string { return v.e.part(partScopes) }

// JSON returns the key object of the verify answer, pre-encoded.
func (v KeyView) JSON() string {
	b := v.e.part(partBody)
	if b == "" {
		return ""
	}
	return b[len(bodyPrefix) : len(b)-1]
}

// Verifier makes verification decisions. It is safe for concurrent use.
type Verifier struct {
	store      Lookup
	format     token.Format
	now        func() time.Time
	sink       UsageSink
	log        *slog.Logger
	flushEvery time.Duration
	foldEvery  time.Duration
	noCache    bool
	maxAge     int64
	reread     int64
	lean       VerifyLookup // the store, when it has KeyForVerify
	// heard is the UnixNano before which every invalidation is known to
	// have arrived (Heard); with it, entries need no store read every
	// MaxAge.
	heard atomic.Int64
	// word is closed and replaced whenever heard moves on, waking the
	// lookups that wait for it (awaitWord); lateSlots bounds the store
	// reads of entries stale only because the word is late.
	word       atomic.Pointer[chan struct{}]
	lateSlots  chan struct{}
	refreshes  refreshes
	serveStale int64 // Config.ServeStale in nanoseconds; 0 when off
	// untrusted is set while cross-instance invalidations may be missed
	// (the LISTEN connection is down): every lookup reads the store.
	untrusted atomic.Bool
	cache     *cache
	limits    limiters
	leases    leases
	usage     usageBook
	flushMu   sync.Mutex
	metrics   metrics
	stale     staleMetrics
	// verifiable is Config.Verifiable, judged once per key on the cold path.
	verifiable func(keyType string) bool
	clientAddr func(*http.Request) netip.Addr
	known      *knownSet // nil without Config.Membership
}

// New returns a Verifier for cfg.
func New(cfg Config) *Verifier {
	v := &Verifier{store: cfg.Store, format: cfg.Format, now: cfg.Now, sink: cfg.Usage,
		log: cfg.Logger, flushEvery: cfg.FlushEvery, foldEvery: cfg.FoldEvery, noCache: cfg.DisableCache, maxAge: int64(cfg.MaxAge),
		reread: int64(cfg.Reread), serveStale: int64(max(cfg.ServeStale, 0)),
		lateSlots: make(chan struct{}, lateReads)}
	v.announceWord()
	if v.format.Prefix() == "" {
		v.format, _ = token.NewFormat(token.DefaultPrefix)
	}
	if v.now == nil {
		v.now = time.Now
	}
	if v.verifiable = cfg.Verifiable; v.verifiable == nil {
		v.verifiable = func(t string) bool { return t != latchkey.TypeSCIM && t != latchkey.TypeManagement }
	}
	if v.log == nil {
		v.log = slog.New(slog.DiscardHandler)
	}
	if v.clientAddr = cfg.ClientAddr; v.clientAddr == nil {
		v.clientAddr = clientip.PeerAddr
	}
	if v.flushEvery <= 0 {
		v.flushEvery = 5 * time.Second
	}
	if v.foldEvery <= 0 {
		v.foldEvery = latchkey.LastUsedStep
	}
	v.lean, _ = cfg.Store.(VerifyLookup)
	if v.reread <= 0 {
		v.reread = int64(time.Minute)
	}
	size, neg := cfg.CacheSize, cfg.NegativeCacheSize
	if size <= 0 {
		size = 1_000_000
	}
	if neg <= 0 {
		neg = 100_000
	}
	v.cache = newCache(size, neg)
	v.limits.init(max(size, 1024))
	ls := cfg.Leases
	if ls == nil {
		ls, _ = cfg.Store.(latchkey.LeaseStore)
	}
	v.leases.init(ls, v.now, max(size, 1024))
	v.usage.init()
	v.metrics.init(cfg.Registerer, v.cache)
	v.stale.init(cfg.Registerer)
	if cfg.Membership != nil {
		v.known = newKnownSet(cfg.Membership, cfg.Registerer)
	}
	return v
}

// AddKnown adds a new secret's hash to the membership set. The store calls
// it (sqlstore's OnKeyHash) inside the transaction that writes the secret.
func (v *Verifier) AddKnown(h [32]byte) {
	if v.known != nil {
		v.known.addPrefix(prefix(&h))
	}
}

// AddKnownPrefix adds a secret announced by another instance, by the first
// 8 bytes of its hash.
func (v *Verifier) AddKnownPrefix(p [8]byte) {
	if v.known != nil {
		v.known.addPrefix(binary.LittleEndian.Uint64(p[:]))
	}
}

// InvalidateKey drops a key from the cache. The management layer calls it
// before answering any call that changes the key (revoke, reset, update,
// delete), so the next verification reads the store.
func (v *Verifier) InvalidateKey(keyID string) {
	v.cache.invalidateKey(keyID)
	v.leases.invalidate(keyID)
}

// InvalidateOwner drops every personal key of a member, when the member is
// deprovisioned, reactivated or removed.
func (v *Verifier) InvalidateOwner(workspaceID, userID string) {
	v.cache.invalidateOwner(workspaceID, userID)
}

// InvalidateAll empties the cache, for changes too broad to track, such as a
// lost invalidation channel between instances.
func (v *Verifier) InvalidateAll() {
	v.cache.invalidateAll()
	v.leases.invalidateAll()
}

// Heard reports that every invalidation committed before at has been
// applied: a fence on the invalidation channel, sent at at, came back.
// While such word is at most MaxAge old, cached entries are trusted up to
// Config.Reread without a store read, so a key in use costs the store
// one read a minute rather than one every MaxAge; when the word stops
// (the channel broke without the connection noticing), entries fall back
// to MaxAge from their own read.
func (v *Verifier) Heard(at time.Time) {
	t := at.UnixNano()
	for {
		old := v.heard.Load()
		if t <= old {
			return
		}
		if v.heard.CompareAndSwap(old, t) {
			v.announceWord()
			return
		}
	}
}

// LastHeard returns the latest time given to Heard; zero before the first.
func (v *Verifier) LastHeard() time.Time {
	if t := v.heard.Load(); t != 0 {
		return time.Unix(0, t)
	}
	return time.Time{}
}

// How a cached entry may be used (freshness).
const (
	fresh   = iota // answers
	refresh        // answers, and is read again in the background
	late           // would answer on word that is late but may yet come (awaitWord)
	stale          // is read again before it answers
)

// freshness judges a cached entry by its age and the channel's word.
func (v *Verifier) freshness(e *entry) int {
	if v.maxAge == 0 {
		return fresh
	}
	now := v.now().UnixNano()
	age := now - e.fetched
	if age <= v.maxAge {
		return fresh
	}
	heard := v.heard.Load()
	switch {
	case now-heard > v.maxAge:
		// Word twice MaxAge late is presumed lost, not late.
		if heard != 0 && now-heard <= 2*v.maxAge && age <= 2*v.reread {
			return late
		}
		return stale
	case age <= v.reread:
		return fresh
	case age <= 2*v.reread:
		return refresh
	}
	return stale
}

// refreshes tracks the background reads of entries past Reread: one per
// hash at a time, and at most maxRefreshes at once (past that, the next
// request for the key tries again).
type refreshes struct {
	mu       sync.Mutex
	inFlight map[[32]byte]struct{}
	closed   bool // Run has ended: no more background reads
	wg       sync.WaitGroup
}

// stop lets the reads in flight finish and starts no more.
func (r *refreshes) stop() {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.wg.Wait()
}

const (
	maxRefreshes   = 64
	refreshTimeout = 5 * time.Second
)

// refreshLater reads h's entry again in the background.
func (v *Verifier) refreshLater(h [32]byte) {
	r := &v.refreshes
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, busy := r.inFlight[h]; busy || r.closed || len(r.inFlight) >= maxRefreshes {
		return
	}
	if r.inFlight == nil {
		r.inFlight = make(map[[32]byte]struct{})
	}
	r.inFlight[h] = struct{}{}
	// Added under r.mu, so never concurrently with stop's Wait.
	r.wg.Go(func() {
		defer func() {
			r.mu.Lock()
			delete(r.inFlight, h)
			r.mu.Unlock()
		}()
		ctx, cancel := context.WithTimeout(context.Background(), refreshTimeout)
		defer cancel()
		var e entry
		// A failure leaves the entry as it is: the next request after
		// twice Reread reads the store itself.
		_ = v.fetch(ctx, &h, &e, nil, true)
	})
}

// SetTrusted tells the verifier whether it hears every invalidation. While
// it does not (false), every lookup reads the store and nothing is cached;
// back to true, it starts from an empty cache, because invalidations may
// have been missed meanwhile. Call it with true only once re-subscribed.
func (v *Verifier) SetTrusted(trusted bool) {
	if v.known != nil {
		v.known.setTrusted(trusted)
	}
	if !trusted {
		v.untrusted.Store(true)
		if v.serveStale == 0 {
			v.cache.invalidateAll()
		}
		// With ServeStale the entries stay, read only when the store
		// fails and only within the stale bound (see lookupFailed).
		return
	}
	// The generation bump refuses entries read before re-subscription.
	v.cache.invalidateAll()
	v.untrusted.Store(false)
}

var errUnknown = errors.New("verify: unknown key")

// lookup returns the entry for h from the cache or the store; errUnknown
// when the store has no such key. full asks for the whole key too.
func (v *Verifier) lookup(ctx context.Context, h *[32]byte, e *entry, full **latchkey.Key) error {
	useCache := !v.noCache && !v.untrusted.Load()
	if useCache {
		answered, release, err := v.fromCache(ctx, h, e, full)
		if answered {
			return err
		}
		defer release()
		if v.known != nil && v.known.isAbsent(ctx, h) {
			return errUnknown
		}
		v.metrics.cacheMiss.Inc()
	} else {
		v.metrics.cacheBypass.Inc()
	}
	err := v.fetch(ctx, h, e, full, useCache)
	if err != nil && err != errUnknown && v.serveStale > 0 && full == nil {
		return v.lookupFailed(h, e, err)
	}
	return err
}

// fromCache answers lookup from the cache when it can (answered, with
// errUnknown for a hash the store said it does not know). Otherwise the
// store is to be read, and release is to be called once it has been.
func (v *Verifier) fromCache(ctx context.Context, h *[32]byte, e *entry, full **latchkey.Key) (answered bool, release func(), err error) {
	var until int64 // how long to wait for late word (awaitWord)
	for waited := false; ; waited = true {
		switch v.cache.get(h, e, full) {
		case unknown:
			v.metrics.cacheNegativeHit.Inc()
			return true, nil, errUnknown
		case found:
			if full != nil && *full == nil {
				return false, noRelease, nil // cached without the whole key
			}
		default:
			return false, noRelease, nil
		}
		switch v.freshness(e) {
		case fresh:
			if waited {
				v.metrics.cacheAwaited.Inc()
			} else {
				v.metrics.cacheHit.Inc()
			}
			return true, nil, nil
		case refresh:
			v.metrics.cacheRefresh.Inc()
			v.refreshLater(*h)
			return true, nil, nil
		case stale:
			return false, noRelease, nil
		}
		release, came := v.awaitWord(ctx, &until)
		if !came {
			return false, release, nil
		}
		// The word came: the cache is asked again rather than e trusted,
		// since an invalidation delivered before the word has removed the
		// entry.
	}
}

// fetch reads h's key from the store into e, and into the cache when
// useCache; errUnknown when the store has no such key, the store's error
// when it failed.
func (v *Verifier) fetch(ctx context.Context, h *[32]byte, e *entry, full **latchkey.Key, useCache bool) error {
	gen := v.cache.generation()
	// The entry's age counts from before the read: a change committed
	// while it ran may not be in it.
	fetched := v.now().UnixNano()
	var k *latchkey.Key
	var err error
	if v.lean != nil && full == nil {
		k, err = v.lean.KeyForVerify(ctx, *h)
	} else {
		k, err = v.store.KeyByHash(ctx, *h)
	}
	if latchkey.IsNotFound(err) {
		if useCache || v.serveStale > 0 {
			// The store's last answer is now "no such key": neither an
			// entry read earlier nor an outage may bring the key back.
			v.cache.forget(h)
		}
		if useCache {
			v.cache.putUnknown(gen, *h)
		}
		return errUnknown
	}
	if err == nil && k == nil {
		err = errors.New("store returned no key and no error")
	}
	if err != nil {
		return err
	}
	if *e, err = newEntry(k); err != nil {
		return err
	}
	e.verifiable = v.verifiable(k.Type)
	e.fetched = fetched
	if full != nil {
		*full = k
	}
	if useCache || (v.serveStale > 0 && !v.noCache) {
		// Untrusted entries are kept only as the last answer for
		// ServeStale; lookup does not read them while untrusted.
		if full == nil {
			k = nil
		}
		v.cache.put(gen, *e, k)
	}
	return nil
}

// Check decides whether tok is valid for req. It does not allocate when the
// key is cached and valid.
func (v *Verifier) Check(ctx context.Context, tok string, req Request) Result {
	var r Result
	v.checkTo(ctx, tok, &req, &r)
	return r
}

// checkTo is Check deciding into *r, which must be zero: the handlers'
// Result is not copied (it holds the budgets in place).
func (v *Verifier) checkTo(ctx context.Context, tok string, req *Request, r *Result) {
	start := time.Now()
	v.check(ctx, tok, req, r)
	v.metrics.observe(r.Code, start)
}

func (v *Verifier) check(ctx context.Context, tok string, req *Request, r *Result) {
	h, ok := v.find(ctx, tok, &r.Key.e, nil, &r.Code, &r.Err, &r.Stale)
	if !ok {
		return
	}
	now := v.now()
	e := &r.Key.e
	r.Code = decide(e, &h, now.UnixNano(), req.KeyID)
	if r.Code == "" {
		switch {
		case e.bound && !allows(e.part(partAllow), req.Addr):
			// First: a caller on another network learns nothing of
			// the key's type, environment or scopes.
			r.Code = latchkey.IPNotAllowed
		case req.Type != "" && req.Type != e.part(partType):
			r.Code = latchkey.WrongType
		case req.Type == "" && !e.verifiable:
			// A management or SCIM key is no API key of the product
			// unless the caller asks for that type by name.
			r.Code = latchkey.WrongType
		case req.Environment != "" && req.Environment != e.environment():
			r.Code = latchkey.WrongEnvironment
		default:
			if r.Missing = missingScopes(e.part(partScopes), req.Scopes); r.Missing != nil {
				r.Code = latchkey.InsufficientScope
			} else if e.ratePeriod > 0 {
				if wait, ok := v.limits.allow(e, now); !ok {
					r.Code, r.RetryAfter = latchkey.RateLimited, wait
				}
			}
			if r.Code == "" && e.budgeted() {
				r.at = now.UnixNano()
				v.spendBudgets(ctx, e, req, now, r)
			}
		}
	}
	v.count(e, now, r.Code, req.Tags)
}

// find parses tok and looks its hash up. It reports false, with code set,
// when there is no key to decide about.
func (v *Verifier) find(ctx context.Context, tok string, e *entry, full **latchkey.Key, code *latchkey.VerifyCode, errp *error, stale *bool) ([32]byte, bool) {
	if tok == "" {
		*code = latchkey.KeyMissing
		return [32]byte{}, false
	}
	if _, err := v.format.Parse(tok); err != nil {
		*code = latchkey.KeyMalformed
		return [32]byte{}, false
	}
	h := token.Hash(tok)
	switch err := v.lookup(ctx, &h, e, full); {
	case err == errUnknown:
		*code = latchkey.KeyInvalid
		return h, false
	case err == errStale:
		*stale = true
		return h, true
	case err != nil:
		*code, *errp = Unavailable, err
		// A caller that went away is not a store failure. The token is
		// never logged, nor its hash: the hash is the store's lookup key
		// for a live secret.
		if !errors.Is(ctx.Err(), context.Canceled) {
			v.log.ErrorContext(ctx, "verify: key lookup failed", "err", err)
		}
		return h, false
	}
	return h, true
}
