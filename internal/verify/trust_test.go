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
	tok, k := f.key()
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("warm-up: got %q, want valid", r.Code)
	}
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
	tok, k := f.key()
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("warm-up: got %q, want valid", r.Code)
	}
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
	tok2, k2 := f.key()
	if r := f.v.Check(f.ctx, tok2, Request{}); r.Code != "" {
		t.Fatalf("warm-up of the second key: got %q, want valid", r.Code)
	}
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
	tok3, k3 := f.key()
	if r := f.v.Check(f.ctx, tok3, Request{}); r.Code != "" {
		t.Fatalf("warm-up of the third key: got %q, want valid", r.Code)
	}
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
	tok, k := f.key()
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("warm-up: got %q, want valid", r.Code)
	}
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
	tok, k := f.key()
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("warm-up: got %q", r.Code)
	}
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
