package verify

import (
	"github.com/prometheus/client_golang/prometheus/testutil"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// A change made elsewhere (another instance) whose invalidation never
// arrives is seen once the entry is older than MaxAge.
func TestMaxAgeBoundsAMissedInvalidation(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxAge = 500 * time.Millisecond })
	tok, k := f.cachedKey()
	f.update(k, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	f.clock.Add(500 * time.Millisecond)
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("within MaxAge the cached entry may still answer: got %q", r.Code)
	}
	f.clock.Add(time.Nanosecond)
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("after MaxAge: got %q, want key_revoked", r.Code)
	}
}

// While the channel is heard (Heard keeps confirming that invalidations
// arrive), a cached entry needs no store read every MaxAge: a change whose
// notification is lost shows only once the word stops coming for MaxAge,
// or after Reread at the latest.
func TestHeardChannelSparesRereads(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxAge = 500 * time.Millisecond; c.Reread = 10 * time.Second })
	tok, k := f.cachedKey()
	misses := testutil.ToFloat64(f.v.metrics.cacheMiss)
	f.update(k, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) }) // its notification is lost
	// Heard every 100ms for 5s: the entry answers without a store read.
	for range 50 {
		f.clock.Add(100 * time.Millisecond)
		f.v.Heard(f.clock.Now().Add(-time.Millisecond))
		if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
			t.Fatalf("heard, entry %v old: got %q, want the cached answer", f.clock.Now().Sub(t0), r.Code)
		}
	}
	if got := testutil.ToFloat64(f.v.metrics.cacheMiss); got != misses {
		t.Fatalf("store reads while the channel was heard: %v, want none", got-misses)
	}
	// An older word moves nothing back.
	f.v.Heard(t0)
	// The word stops: MaxAge after the last one, the store is read.
	// The last word was sent 1ms before the last check.
	f.clock.Add(499 * time.Millisecond)
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("500ms after the last word: got %q, want the cached answer", r.Code)
	}
	f.clock.Add(time.Millisecond)
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("501ms after the last word: got %q, want key_revoked", r.Code)
	}

	// Reread bounds the word's reach: heard all along, an entry older
	// than Reread is read again.
	tok2, k2 := f.cachedKey()
	f.update(k2, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	for range 100 {
		f.clock.Add(100 * time.Millisecond)
		f.v.Heard(f.clock.Now())
	}
	if r := f.v.Check(f.ctx, tok2, Request{}); r.Code != "" {
		t.Fatalf("heard, entry exactly Reread old: got %q, want the cached answer", r.Code)
	}
	// Past Reread the entry still answers, once, while it is read again
	// in the background; the read's answer stands from then on.
	f.clock.Add(time.Millisecond)
	f.v.Heard(f.clock.Now())
	if r := f.v.Check(f.ctx, tok2, Request{}); r.Code != "" {
		t.Fatalf("heard, entry older than Reread: got %q, want the cached answer while it is read again", r.Code)
	}
	f.v.refreshes.wg.Wait()
	if n := testutil.ToFloat64(f.v.metrics.cacheRefresh); n != 1 {
		t.Fatalf("background reads: %v, want 1", n)
	}
	if r := f.v.Check(f.ctx, tok2, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("after the background read: got %q, want key_revoked", r.Code)
	}

	// Past twice Reread (the background read never came), the request
	// reads the store itself.
	tok3, k3 := f.cachedKey()
	f.update(k3, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	f.clock.Add(20*time.Second + time.Millisecond)
	f.v.Heard(f.clock.Now())
	if r := f.v.Check(f.ctx, tok3, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("heard, entry older than twice Reread: got %q, want key_revoked", r.Code)
	}
}

// A key deleted without its notification reaching this instance: the
// background read finds nothing, and the cached entry is gone with it.
func TestRefreshForgetsADeletedKey(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.MaxAge = 500 * time.Millisecond; c.Reread = time.Second })
	tok, k := f.cachedKey()
	if err := f.db.DeleteKey(f.ctx, f.ws, k.ID, f.event(f.ws, latchkey.EventKeyDeleted, k.ID)); err != nil {
		t.Fatal(err)
	}
	f.clock.Add(1500 * time.Millisecond)
	f.v.Heard(f.clock.Now())
	f.v.Check(f.ctx, tok, Request{}) // answers from the cache, reads in the background
	f.v.refreshes.wg.Wait()
	misses := testutil.ToFloat64(f.v.metrics.cacheMiss)
	for range 3 {
		if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyInvalid {
			t.Fatalf("after the background read: got %q, want key_invalid", r.Code)
		}
	}
	if n := testutil.ToFloat64(f.v.metrics.cacheMiss) - misses; n != 0 {
		t.Fatalf("store reads for the deleted key: %v, want none (the negative cache answers)", n)
	}
}

// While untrusted (invalidations may be lost) every lookup reads the
// store; trusted again, the cache starts empty.
func TestUntrustedCacheReadsTheStore(t *testing.T) {
	f := newFixture(t)
	tok, k := f.cachedKey()
	f.v.SetTrusted(false)
	f.update(k, func(k *latchkey.Key) { k.Scopes = []string{"items:read"} })
	if r := f.v.Check(f.ctx, tok, Request{Scopes: []string{"accounts:read"}}); r.Code != latchkey.InsufficientScope {
		t.Fatalf("untrusted: got %q, want insufficient_scope from the store", r.Code)
	}
	f.update(k, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("untrusted: got %q, want key_revoked", r.Code)
	}
	f.v.SetTrusted(true)
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("trusted again: got %q, want key_revoked", r.Code)
	}
}

// lateWordFixture caches a key and lets the channel's word fall 600ms
// behind (MaxAge is 500ms). With slotsBusy it also takes every read slot
// of late entries, as a herd of such reads would: a request for the key
// then waits for the word.
func lateWordFixture(t *testing.T, slotsBusy bool) (*fixture, string, *latchkey.Key) {
	t.Helper()
	f := newFixture(t, func(c *Config) { c.MaxAge = 500 * time.Millisecond; c.Reread = 10 * time.Second })
	tok, k := f.cachedKey()
	f.v.Heard(f.clock.Now())
	f.clock.Add(600 * time.Millisecond)
	if !slotsBusy {
		return f, tok, k
	}
	for range lateReads {
		f.v.lateSlots <- struct{}{}
	}
	t.Cleanup(func() {
		for range lateReads {
			<-f.v.lateSlots
		}
	})
	return f, tok, k
}

// checkLater runs Check in the background and returns where its result
// arrives.
func checkLater(f *fixture, tok string) <-chan Result {
	out := make(chan Result, 1)
	go func() { out <- f.v.Check(f.ctx, tok, Request{}) }()
	return out
}

// With the word late and the store's slots for such reads busy, a request
// waits for the word and is then answered from the cache, without a read.
func TestLateWordIsAwaitedNotRead(t *testing.T) {
	f, tok, k := lateWordFixture(t, true)
	misses := testutil.ToFloat64(f.v.metrics.cacheMiss)
	f.update(k, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) }) // its notification is lost
	got := checkLater(f, tok)
	select {
	case r := <-got:
		t.Fatalf("answered %q before the word came: it should wait", r.Code)
	case <-time.After(100 * time.Millisecond):
	}
	f.v.Heard(f.clock.Now())
	if r := <-got; r.Code != "" {
		t.Fatalf("after the word: got %q, want the cached answer", r.Code)
	}
	if d := testutil.ToFloat64(f.v.metrics.cacheMiss) - misses; d != 0 {
		t.Fatalf("store reads: %v, want none", d)
	}
	if n := testutil.ToFloat64(f.v.metrics.cacheAwaited); n != 1 {
		t.Fatalf("awaited lookups: %v, want 1", n)
	}
}

// An invalidation that arrives with the word, while a request waits for
// it, is honoured: the request reads the store and sees the revocation.
func TestLateWordBringsItsInvalidations(t *testing.T) {
	f, tok, k := lateWordFixture(t, true)
	got := checkLater(f, tok)
	select {
	case r := <-got:
		t.Fatalf("answered %q before the word came: it should wait", r.Code)
	case <-time.After(100 * time.Millisecond):
	}
	f.update(k, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	f.v.InvalidateKey(k.ID) // delivered before the fence that follows it
	f.v.Heard(f.clock.Now())
	if r := <-got; r.Code != latchkey.KeyRevoked {
		t.Fatalf("invalidated while waiting: got %q, want key_revoked", r.Code)
	}
}

// Word that does not come within twice MaxAge of the last is presumed
// lost: the waiting request reads the store.
func TestLateWordThatNeverComesIsRead(t *testing.T) {
	f, tok, k := lateWordFixture(t, true)
	f.update(k, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	// The word is 600ms late: the request waits 400ms more, then reads.
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("word never came: got %q, want key_revoked", r.Code)
	}
	// Twice MaxAge late, a request reads at once, slots or not.
	f.clock.Add(500 * time.Millisecond)
	done := checkLater(f, tok)
	select {
	case r := <-done:
		if r.Code != latchkey.KeyRevoked {
			t.Fatalf("word 1.1s late: got %q, want key_revoked", r.Code)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("word 1.1s late: the request still waits")
	}
}

// A free slot reads at once: a late word costs a store read, as before,
// when the store is not already busy with such reads.
func TestLateWordWithAFreeSlotReads(t *testing.T) {
	f, tok, k := lateWordFixture(t, false)
	f.update(k, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("word late, slot free: got %q, want key_revoked", r.Code)
	}
	if n := len(f.v.lateSlots); n != 0 {
		t.Fatalf("slots still taken after the read: %d", n)
	}
}
