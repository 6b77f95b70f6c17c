package verify

import (
	"cmp"
	"context"
	"slices"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// usageBook counts decisions in memory, per key, UTC day and environment.
// The request path only adds to a map under a mutex; the store sees the
// counts in batches (Flush), so verification never waits for a write.
type usageBook struct {
	mu sync.Mutex
	m  map[usageKey]usageCount
}

type usageKey struct {
	keyID string
	day   int64 // days since the Unix epoch, UTC
	demo  bool
}

type usageCount struct {
	workspaceID    string
	valid, denied  int64
	lastUsedAtNano int64 // 0 when there was no valid use
}

func (b *usageBook) init() { b.m = make(map[usageKey]usageCount) }

const nanosPerDay = int64(24 * time.Hour)

// count records a decision about a found key.
func (v *Verifier) count(e *entry, now time.Time, valid bool) {
	if v.sink == nil {
		return
	}
	ns := now.UnixNano()
	k := usageKey{keyID: e.id(), day: ns / nanosPerDay, demo: e.demo}
	b := &v.usage
	b.mu.Lock()
	c := b.m[k]
	if c.workspaceID == "" {
		c.workspaceID = e.part(partWorkspace)
	}
	if valid {
		c.valid++
		c.lastUsedAtNano = max(c.lastUsedAtNano, ns)
	} else {
		c.denied++
	}
	b.m[k] = c
	b.mu.Unlock()
}

func (b *usageBook) take() map[usageKey]usageCount {
	b.mu.Lock()
	defer b.mu.Unlock()
	if len(b.m) == 0 {
		return nil
	}
	m := b.m
	b.m = make(map[usageKey]usageCount, len(m))
	return m
}

// putBack merges counts that could not be written, to retry them later.
func (b *usageBook) putBack(m map[usageKey]usageCount) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for k, old := range m {
		c := b.m[k]
		c.workspaceID = old.workspaceID
		c.valid += old.valid
		c.denied += old.denied
		c.lastUsedAtNano = max(c.lastUsedAtNano, old.lastUsedAtNano)
		b.m[k] = c
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
	batch := make([]latchkey.Usage, 0, len(m))
	for k, c := range m {
		u := latchkey.Usage{WorkspaceID: c.workspaceID, KeyID: k.keyID,
			Day: time.Unix(k.day*86400, 0).UTC(), Environment: latchkey.Production,
			Valid: c.valid, Denied: c.denied}
		if k.demo {
			u.Environment = latchkey.Demo
		}
		if c.lastUsedAtNano != 0 {
			u.LastUsedAt = time.Unix(0, c.lastUsedAtNano).UTC()
		}
		batch = append(batch, u)
	}
	// A stable order makes concurrent writers take row locks in the same order.
	slices.SortFunc(batch, func(a, b latchkey.Usage) int {
		return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), a.Day.Compare(b.Day), cmp.Compare(a.Environment, b.Environment))
	})
	if err := v.sink.AddUsage(ctx, batch); err != nil {
		v.usage.putBack(m)
		return err
	}
	return nil
}

// Run flushes usage every FlushEvery until ctx is done, then once more with
// a fresh deadline so that a shutdown does not drop the last counts. With
// Config.Membership it also loads the membership set, and reloads it
// whenever trust comes back.
func (v *Verifier) Run(ctx context.Context) error {
	if v.known != nil {
		go v.known.run(ctx, v.log)
	}
	t := time.NewTicker(v.flushEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
			defer cancel()
			return v.Flush(fctx)
		case <-t.C:
			if err := v.Flush(ctx); err != nil && ctx.Err() == nil {
				v.log.WarnContext(ctx, "verify: usage flush failed; will retry", "err", err)
			}
		}
	}
}
