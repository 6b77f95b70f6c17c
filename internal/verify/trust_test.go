package verify

import (
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
