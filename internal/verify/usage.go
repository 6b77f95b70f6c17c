package verify

import (
	"cmp"
	"context"
	"errors"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// usageBook counts decisions in memory, per key, UTC day and environment,
// by outcome and by tag.
// The request path only adds to a map under a mutex; the store sees the
// counts in batches (Flush), so verification never waits for a write.
type usageBook struct {
	mu sync.Mutex
	m  map[usageKey]*usageCount // a pointer: a count is updated in place, not copied in and out
}

type usageKey struct {
	keyID string
	day   int64 // days since the Unix epoch, UTC
	demo  bool
}

type usageCount struct {
	workspaceID    string
	outcomes       [numOutcomes]int64 // by outcomeIndex
	lastUsedAtNano int64              // 0 when there was no valid use
	tags           tagBook            // nil until a tagged verification
}

func (b *usageBook) init() { b.m = make(map[usageKey]*usageCount) }

const nanosPerDay = int64(24 * time.Hour)

// outcomeCodes are the outcomes counted in usage, valid ("") first: every
// decision about a found key. Unavailable is not the key's outcome and a
// key that was not found has no usage.
var outcomeCodes = [...]latchkey.VerifyCode{"", latchkey.KeyExpired, latchkey.KeyRevoked, latchkey.KeyDisabled,
	latchkey.OwnerDeprovisioned, latchkey.InsufficientScope, latchkey.WrongType, latchkey.WrongEnvironment,
	latchkey.IPNotAllowed, latchkey.RateLimited, latchkey.UsageExceeded}

const numOutcomes = len(outcomeCodes)

// outcomeIndex places code in outcomeCodes; false for a code that is not
// counted. A switch, not a map, so that counting allocates nothing.
func outcomeIndex(code latchkey.VerifyCode) (int, bool) {
	switch code {
	case "":
		return 0, true
	case latchkey.KeyExpired:
		return 1, true
	case latchkey.KeyRevoked:
		return 2, true
	case latchkey.KeyDisabled:
		return 3, true
	case latchkey.OwnerDeprovisioned:
		return 4, true
	case latchkey.InsufficientScope:
		return 5, true
	case latchkey.WrongType:
		return 6, true
	case latchkey.WrongEnvironment:
		return 7, true
	case latchkey.IPNotAllowed:
		return 8, true
	case latchkey.RateLimited:
		return 9, true
	case latchkey.UsageExceeded:
		return 10, true
	}
	return 0, false
}

// count records a decision about a found key: its outcome (code, "" when
// valid) and the tags the verification carried.
func (v *Verifier) count(e *entry, now time.Time, code latchkey.VerifyCode, tags []string) {
	if v.sink == nil {
		return
	}
	i, ok := outcomeIndex(code)
	if !ok {
		return
	}
	ns := now.UnixNano()
	k := usageKey{keyID: e.id(), day: ns / nanosPerDay, demo: e.demo}
	b := &v.usage
	b.mu.Lock()
	c := b.m[k]
	if c == nil {
		// Once per key and day between two flushes.
		c = &usageCount{workspaceID: e.part(partWorkspace)}
		b.m[k] = c
	}
	c.outcomes[i]++
	if i == 0 {
		c.lastUsedAtNano = max(c.lastUsedAtNano, ns)
	}
	if len(tags) > 0 {
		c.tags = c.tags.add(tags, i == 0)
	}
	b.mu.Unlock()
}

func (b *usageBook) take() map[usageKey]*usageCount {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) == 0 {
		return nil
	}
	m := b.m
	b.m = make(map[usageKey]*usageCount, len(m))
	return m
}

// putBack merges counts that could not be written, to retry them later.
func (b *usageBook) putBack(m map[usageKey]*usageCount) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, old := range m {
		c := b.m[k]
		if c == nil {
			b.m[k] = old
			continue
		}
		for i, n := range old.outcomes {
			c.outcomes[i] += n
		}
		c.tags = c.tags.merge(old.tags)
		c.lastUsedAtNano = max(c.lastUsedAtNano, old.lastUsedAtNano)
	}
}

// Flush writes the usage counted so far. On failure the counts are kept
// and sent again by the next Flush, so nothing counted is lost.
func (v *Verifier) Flush(ctx context.Context) error {
	if v.sink == nil {
		return nil
	}
	v.flushMu.Lock()
	defer v.flushMu.Unlock()
	m := v.usage.take()
	if m == nil {
		return nil
	}
	type entry struct {
		k usageKey
		u latchkey.Usage
	}
	batch := make([]entry, 0, len(m))
	for k, c := range m {
		u := latchkey.Usage{WorkspaceID: c.workspaceID, KeyID: k.keyID,
			Day: time.Unix(k.day*86400, 0).UTC(), Environment: latchkey.Production,
			Outcomes: make(map[string]int64), Tags: c.tags.export()}
		for i, n := range c.outcomes {
			if n == 0 {
				continue
			}
			if i == 0 {
				u.Valid = n
				u.Outcomes[latchkey.OutcomeValid] = n
			} else {
				u.Denied += n
				u.Outcomes[string(outcomeCodes[i])] = n
			}
		}
		if k.demo {
			u.Environment = latchkey.Demo
		}
		if c.lastUsedAtNano != 0 {
			u.LastUsedAt = time.Unix(0, c.lastUsedAtNano).UTC()
		}
		batch = append(batch, entry{k, u})
	}
	// A stable order makes concurrent writers take row locks in the same order.
	slices.SortFunc(batch, func(a, b entry) int {
		return cmp.Or(cmp.Compare(a.u.KeyID, b.u.KeyID), a.u.Day.Compare(b.u.Day), cmp.Compare(a.u.Environment, b.u.Environment))
	})
	// In chunks, each its own write: the usage of a million keys (a
	// restart's worth) is one batch, which no store writes within one
	// call's deadline; retried whole, it would never land.
	chunk := make([]latchkey.Usage, 0, min(len(batch), flushChunk))
	for start := 0; start < len(batch); start += flushChunk {
		chunk = chunk[:0]
		for _, e := range batch[start:min(start+flushChunk, len(batch))] {
			chunk = append(chunk, e.u)
		}
		if err := v.sink.AddUsage(ctx, chunk); err != nil {
			// What was not written is kept for the next flush.
			rest := make(map[usageKey]*usageCount, len(batch)-start)
			for _, e := range batch[start:] {
				rest[e.k] = m[e.k]
			}
			v.usage.putBack(rest)
			return err
		}
	}
	return nil
}

// flushChunk is how many counters one write of a flush carries: a few
// hundred milliseconds of work for the store, well within a call's deadline.
var flushChunk = 2000

// foldChunk is how many keys one write of a fold carries: each key's
// entries and counters, a few hundred milliseconds of work for the store
// in a million-key store.
var foldChunk = 1000

// shutdownFold bounds the fold Run makes when it stops, so that a large
// log does not hold up a shutdown.
const shutdownFold = 3 * time.Second

// Fold folds the store's usage log (every instance's flushes) into the
// daily counters and last_used_at, foldChunk keys per write, walking the
// keys once: entries flushed meanwhile for keys already passed wait for
// the next fold. Folding on every instance at once is safe.
func (v *Verifier) Fold(ctx context.Context) error { return v.fold(ctx, false) }

// fold is Fold; paced, it rests after each write as long as the write
// took, so that the fold, background work, takes at most half of the
// store's attention from verification's reads and the management API's
// writes (SQLite has one writer) while it lasts.
func (v *Verifier) fold(ctx context.Context, paced bool) error {
	if v.sink == nil {
		return nil
	}
	start := time.Now()
	for after := ""; ; {
		t := time.Now()
		last, err := v.sink.FoldUsage(ctx, after, foldChunk)
		if err != nil {
			return err
		}
		if last == "" {
			v.metrics.fold.Observe(time.Since(start).Seconds())
			return nil
		}
		after = last
		if paced {
			rest := time.NewTimer(time.Since(t))
			select {
			case <-ctx.Done():
				rest.Stop()
				return ctx.Err()
			case <-rest.C:
			}
		}
	}
}

// Run flushes usage every FlushEvery and folds the usage log every
// FoldEvery until ctx is done, then flushes and folds once more with a
// fresh deadline so that a shutdown does not drop the last counts, and
// gives back the credits and rate-limit units leased and not spent. With
// Config.Membership it also loads the membership set, and reloads it
// whenever trust comes back.
func (v *Verifier) Run(ctx context.Context) error {
	if v.known != nil {
		go v.known.run(ctx, v.log)
	}
	// Folds run beside flushes: the first fold after a restart may take
	// minutes, and flushes must go on meanwhile.
	var folding sync.WaitGroup
	folding.Go(func() { v.foldEveryTick(ctx) })
	t := time.NewTicker(v.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			folding.Wait()
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			v.refreshes.stop() // none may outlive Run and find the store closed
			err := errors.Join(v.Flush(fctx), v.SettleLeases(fctx))
			// A few seconds at most: the log may hold every instance's
			// flushes, and what a fold cut short leaves there is folded
			// by the next instance to fold, not lost.
			foldCtx, cancelFold := context.WithTimeout(fctx, shutdownFold)
			defer cancelFold()
			if ferr := v.Fold(foldCtx); ferr != nil {
				v.log.WarnContext(fctx, "verify: usage fold at shutdown incomplete; the next fold finishes it", "err", ferr)
			}
			return err
		case <-t.C:
			if err := v.Flush(ctx); err != nil && ctx.Err() == nil {
				v.log.WarnContext(ctx, "verify: usage flush failed; will retry", "err", err)
			}
		}
	}
}

// foldEveryTick folds every FoldEvery until ctx is done, first after a
// random part of the interval, so that instances started together do not
// fold together.
func (v *Verifier) foldEveryTick(ctx context.Context) {
	wait := time.NewTimer(rand.N(v.foldEvery))
	defer wait.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-wait.C:
		}
		if err := v.fold(ctx, true); err != nil && ctx.Err() == nil {
			v.log.WarnContext(ctx, "verify: usage fold failed; will retry", "err", err)
		}
		wait.Reset(v.foldEvery)
	}
}
