package verify

import (
	"context"
	"crypto/rand"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/token"
)

func TestCheckDecisions(t *testing.T) {
	f := newFixture(t)
	valid, k := f.key()
	revoked, _ := f.key(func(k *latchkey.Key) { k.RevokedAt = ptr(t0.Add(-time.Minute)) })
	expired, _ := f.key(func(k *latchkey.Key) { k.ExpiresAt = ptr(t0.Add(-time.Second)) })
	never, _ := f.key(func(k *latchkey.Key) { k.ExpiresAt = nil })
	gone, _ := f.key(func(k *latchkey.Key) { k.Owner = "usr_01JD0000000000000000000000" })
	mine, _ := f.key(func(k *latchkey.Key) { k.Owner = f.user })
	demo, _ := f.key(func(k *latchkey.Key) { k.Environment = latchkey.Demo })
	unknown, _, _ := f.v.format.New(rand.Reader, latchkey.Production)
	badSum := valid[:len(valid)-1] + string(valid[len(valid)-1]^1)

	tests := []struct {
		name    string
		tok     string
		req     Request
		want    latchkey.VerifyCode
		missing []string
	}{
		{"valid", valid, Request{Scopes: []string{"items:read"}, Type: "public_api", Environment: latchkey.Production}, "", nil},
		{"empty", "", Request{}, latchkey.KeyMissing, nil},
		{"garbage", "hello", Request{}, latchkey.KeyMalformed, nil},
		{"bad checksum", badSum, Request{}, latchkey.KeyMalformed, nil},
		{"unknown", unknown, Request{}, latchkey.KeyInvalid, nil},
		{"basic user is the key id", valid, Request{KeyID: k.ID}, "", nil},
		{"basic user is another id", valid, Request{KeyID: "key_other"}, latchkey.KeyInvalid, nil},
		{"revoked", revoked, Request{}, latchkey.KeyRevoked, nil},
		{"expired", expired, Request{}, latchkey.KeyExpired, nil},
		{"never expires", never, Request{}, "", nil},
		{"owner deprovisioned", gone, Request{}, latchkey.OwnerDeprovisioned, nil},
		{"personal key of an active member", mine, Request{}, "", nil},
		{"wrong type", valid, Request{Type: "scim"}, latchkey.WrongType, nil},
		{"wrong environment", demo, Request{Environment: latchkey.Production}, latchkey.WrongEnvironment, nil},
		{"demo for demo", demo, Request{Environment: latchkey.Demo}, "", nil},
		{"missing scopes", valid, Request{Scopes: []string{"items:read", "secrets:read", "items", "users:read"}},
			latchkey.InsufficientScope, []string{"secrets:read", "items", "users:read"}},
		{"revoked wins over type", revoked, Request{Type: "scim"}, latchkey.KeyRevoked, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Twice: the first answer comes from the store, the second from the cache.
			for _, pass := range []string{"cold", "warm"} {
				r := f.v.Check(f.ctx, tt.tok, tt.req)
				if r.Code != tt.want {
					t.Fatalf("%s: code: got %q, want %q", pass, r.Code, tt.want)
				}
				if !slices.Equal(r.Missing, tt.missing) {
					t.Errorf("%s: missing: got %q, want %q", pass, r.Missing, tt.missing)
				}
			}
		})
	}
	r := f.v.Check(f.ctx, demo, Request{})
	if r.Key.Environment() != latchkey.Demo || r.Key.WorkspaceID() != f.ws || r.Key.Owner() != latchkey.OwnerWorkspace {
		t.Errorf("demo key view: got %s %s %s", r.Key.Environment(), r.Key.WorkspaceID(), r.Key.Owner())
	}
}

func TestMalformedNeverTouchesTheStore(t *testing.T) {
	f := newFixture(t)
	valid, _ := f.key()
	f.db.Close() // any lookup would now fail as unavailable
	if r := f.v.Check(f.ctx, valid[:len(valid)-2]+"zz", Request{}); r.Code != latchkey.KeyMalformed {
		t.Errorf("got %q, want %q", r.Code, latchkey.KeyMalformed)
	}
	r := f.v.Check(f.ctx, valid, Request{})
	if r.Code != Unavailable || r.Err == nil {
		t.Errorf("store closed: got %q (%v), want %q with an error", r.Code, r.Err, Unavailable)
	}
	if k, code := f.v.Authenticate(f.ctx, valid); k != nil || code != Unavailable {
		t.Errorf("Authenticate, store closed: got %v %q, want nil %q", k, code, Unavailable)
	}
}

func TestExpiryBoundary(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(func(k *latchkey.Key) { k.ExpiresAt = ptr(t0.Add(time.Hour)) })
	f.clock.Add(time.Hour - time.Nanosecond)
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("1ns before expiry: got %q, want valid", r.Code)
	}
	// The cached entry must not remember "valid": expiry is decided per request.
	f.clock.Add(time.Nanosecond)
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyExpired {
		t.Fatalf("at expiry: got %q, want %q", r.Code, latchkey.KeyExpired)
	}
}

func TestGracePeriodOfAResetKey(t *testing.T) {
	f := newFixture(t)
	old, _ := f.key()
	oldHash := token.Hash(old)
	// A reset: the old secret keeps working for an hour.
	cur, _ := f.key(func(k *latchkey.Key) {
		k.PreviousHash, k.PreviousExpiresAt = &oldHash, ptr(t0.Add(time.Hour))
	})
	// The first key is deleted so that only the reset key holds oldHash.
	if err := f.db.DeleteKey(f.ctx, f.ws, f.v.Check(f.ctx, old, Request{}).Key.ID(), f.event(f.ws, latchkey.EventKeyDeleted, "")); err != nil {
		t.Fatal(err)
	}
	f.v.InvalidateAll()
	f.clock.Add(time.Hour - time.Nanosecond)
	for name, tok := range map[string]string{"old": old, "new": cur} {
		if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
			t.Errorf("%s secret within grace: got %q, want valid", name, r.Code)
		}
	}
	f.clock.Add(time.Nanosecond)
	if r := f.v.Check(f.ctx, old, Request{}); r.Code != latchkey.KeyInvalid {
		t.Errorf("old secret after grace: got %q, want %q", r.Code, latchkey.KeyInvalid)
	}
	if r := f.v.Check(f.ctx, cur, Request{}); r.Code != "" {
		t.Errorf("new secret after grace: got %q, want valid", r.Code)
	}
}

func TestRateLimit(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(func(k *latchkey.Key) {
		k.RateLimit = &latchkey.RateLimit{Limit: 2, Period: latchkey.Duration(time.Minute)}
	})
	for i := range 2 {
		if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
			t.Fatalf("request %d: got %q, want valid", i+1, r.Code)
		}
	}
	r := f.v.Check(f.ctx, tok, Request{})
	if r.Code != latchkey.RateLimited || r.RetryAfter <= 29*time.Second || r.RetryAfter > 30*time.Second {
		t.Fatalf("request 3: got %q retry after %v, want %q after 30s", r.Code, r.RetryAfter, latchkey.RateLimited)
	}
	// A denied scope check does not spend the allowance.
	if r := f.v.Check(f.ctx, tok, Request{Scopes: []string{"secrets:read"}}); r.Code != latchkey.InsufficientScope {
		t.Fatalf("scope check: got %q, want %q", r.Code, latchkey.InsufficientScope)
	}
	f.clock.Add(30 * time.Second)
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("after 30s: got %q, want valid", r.Code)
	}
	// Editing the key (an invalidation) keeps its bucket: still empty.
	f.v.InvalidateKey(r.Key.ID())
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.RateLimited {
		t.Fatalf("after invalidation: got %q, want %q", r.Code, latchkey.RateLimited)
	}
}

func TestInvalidation(t *testing.T) {
	revoke := func(k *latchkey.Key) { k.RevokedAt = ptr(t0) }
	tests := []struct {
		name       string
		owner      bool
		invalidate func(f *fixture, k *latchkey.Key)
	}{
		{"key", false, func(f *fixture, k *latchkey.Key) { f.v.InvalidateKey(k.ID) }},
		{"owner", true, func(f *fixture, k *latchkey.Key) { f.v.InvalidateOwner(f.ws, f.user) }},
		{"all", false, func(f *fixture, k *latchkey.Key) { f.v.InvalidateAll() }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			tok, k := f.key(func(k *latchkey.Key) {
				if tt.owner {
					k.Owner = f.user
				}
			})
			other, _ := f.key(func(k *latchkey.Key) { k.Owner = f.user })
			for _, s := range []string{tok, other} {
				if r := f.v.Check(f.ctx, s, Request{}); r.Code != "" {
					t.Fatalf("before: got %q, want valid", r.Code)
				}
			}
			f.update(k, revoke)
			if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
				t.Fatalf("revoked in the store, not invalidated: got %q, want the cached valid", r.Code)
			}
			tt.invalidate(f, k)
			if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyRevoked {
				t.Fatalf("after invalidation: got %q, want %q", r.Code, latchkey.KeyRevoked)
			}
			if r := f.v.Check(f.ctx, other, Request{}); r.Code != "" {
				t.Fatalf("another key: got %q, want valid", r.Code)
			}
		})
	}
}

func TestDisableCacheReadsTheStoreEveryTime(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.DisableCache = true })
	tok, k := f.key()
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("got %q, want valid", r.Code)
	}
	f.update(k, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("got %q, want %q", r.Code, latchkey.KeyRevoked)
	}
}

// racyStore is the real store with a hook between its read and the return:
// it plays a revocation that commits and invalidates while a lookup that
// read the old row is still on its way to the cache.
type racyStore struct {
	Lookup
	after func()
}

func (s *racyStore) KeyByHash(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	k, err := s.Lookup.KeyByHash(ctx, h)
	if s.after != nil {
		s.after()
		s.after = nil
	}
	return k, err
}

func TestStaleInsertAfterInvalidation(t *testing.T) {
	store := &racyStore{}
	f := newFixture(t, func(c *Config) { store.Lookup = c.Store; c.Store = store })
	tok, k := f.key()
	store.after = func() {
		f.update(k, func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
		f.v.InvalidateKey(k.ID)
	}
	// This lookup read the key before the revocation: it may answer valid
	// (the request raced the revocation) but must not cache that answer.
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		t.Fatalf("racing lookup: got %q, want valid", r.Code)
	}
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyRevoked {
		t.Fatalf("next lookup: got %q, want %q", r.Code, latchkey.KeyRevoked)
	}
}

func TestCacheBounds(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.CacheSize, c.NegativeCacheSize = 3, 4 })
	var toks []string
	for range 7 {
		tok, _ := f.key()
		toks = append(toks, tok)
	}
	for range 2 {
		for i, tok := range toks {
			if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
				t.Fatalf("key %d: got %q, want valid", i, r.Code)
			}
		}
	}
	if n := f.v.cache.len(); n != 3 {
		t.Errorf("cached keys: got %d, want 3", n)
	}
	for range 10 {
		tok, _, _ := f.v.format.New(rand.Reader, latchkey.Production)
		if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.KeyInvalid {
			t.Fatalf("unknown: got %q, want %q", r.Code, latchkey.KeyInvalid)
		}
	}
	if n := len(f.v.cache.neg); n != 4 {
		t.Errorf("negative entries: got %d, want 4", n)
	}
}

func TestAuthenticate(t *testing.T) {
	f := newFixture(t)
	tok, k := f.key(func(k *latchkey.Key) { k.Type, k.Scopes = "management", []string{"keys:read"} })
	revoked, _ := f.key(func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	// A request-independent check: a public_api key's type is not refused here.
	f.v.Check(f.ctx, tok, Request{})
	for range 2 {
		got, code := f.v.Authenticate(f.ctx, tok)
		if code != "" || got == nil {
			t.Fatalf("got %v %q, want the key", got, code)
		}
		if got.ID != k.ID || got.CreatedBy != f.user || got.Type != "management" || !slices.Equal(got.Scopes, k.Scopes) {
			t.Errorf("key: got %+v, want %+v", got, k)
		}
		got.Scopes[0] = "changed" // must not reach the cache
	}
	if got, code := f.v.Authenticate(f.ctx, revoked); got != nil || code != latchkey.KeyRevoked {
		t.Errorf("revoked: got %v %q, want nil %q", got, code, latchkey.KeyRevoked)
	}
	if _, code := f.v.Authenticate(f.ctx, ""); code != latchkey.KeyMissing {
		t.Errorf("empty: got %q, want %q", code, latchkey.KeyMissing)
	}
}
