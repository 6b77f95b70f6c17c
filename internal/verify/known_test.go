package verify

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/token"
)

// countingStore is the real store, counting the reads verification makes.
type countingStore struct {
	*sqlite.DB
	byHash, hashPages atomic.Int64
}

func (c *countingStore) KeyByHash(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	c.byHash.Add(1)
	return c.DB.KeyByHash(ctx, h)
}

func (c *countingStore) KeyForVerify(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	c.byHash.Add(1)
	return c.DB.KeyForVerify(ctx, h)
}

func (c *countingStore) KeyHashes(ctx context.Context, after string, limit int) ([]latchkey.KeyHash, error) {
	c.hashPages.Add(1)
	return c.DB.KeyHashes(ctx, after, limit)
}

// membershipFixture is a fixture whose verifier has a membership set
// over a counting store, wired as latchkey serve wires it: the store
// announces every new secret to the verifier.
func membershipFixture(t *testing.T, m Membership) (*fixture, *countingStore) {
	t.Helper()
	var cs *countingStore
	f := newFixture(t, func(c *Config) {
		cs = &countingStore{DB: c.Store.(*sqlite.DB)}
		c.Store = cs
		m.Hashes = cs
		c.Membership = &m
	})
	f.db.OnKeyHash(f.v.AddKnown)
	return f, cs
}

func runVerifier(t *testing.T, v *Verifier) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); v.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func waitReady(t *testing.T, v *Verifier) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !v.known.ready.Load() {
		if time.Now().After(deadline) {
			t.Fatal("the membership set did not load")
		}
		time.Sleep(time.Millisecond)
	}
}

// unknownTokens returns n well-formed tokens (valid checksums) no key has.
func unknownTokens(t *testing.T, n int) []string {
	format, _ := token.NewFormat(token.DefaultPrefix)
	out := make([]string, n)
	for i := range out {
		tok, _, err := format.New(rand.Reader, latchkey.Production)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = tok
	}
	return out
}

func wantCode(t *testing.T, v *Verifier, tok string, want latchkey.VerifyCode) {
	t.Helper()
	if r := v.Check(context.Background(), tok, Request{}); r.Code != want {
		t.Fatalf("Check: got %q (%v), want %q", r.Code, r.Err, want)
	}
}

func TestMembershipFloodMakesNoStoreRead(t *testing.T) {
	f, cs := membershipFixture(t, Membership{})
	old, _ := f.key()
	previous, reset := f.key()
	knownPage = 1 // pages of one key: the load must page
	t.Cleanup(func() { knownPage = 10_000 })
	runVerifier(t, f.v)
	waitReady(t, f.v)
	if n := cs.hashPages.Load(); n < 3 {
		t.Fatalf("the load read %d pages, want one per key and a last empty one", n)
	}

	// A key written before the load, and one written after it (the
	// store announces it before CreateKey returns), verify at once.
	wantCode(t, f.v, old, "")
	fresh, _ := f.key()
	wantCode(t, f.v, fresh, "")
	// A reset: the new secret verifies, the previous one within grace.
	next := unknownTokens(t, 1)[0]
	f.update(reset, func(k *latchkey.Key) {
		k.PreviousHash, k.PreviousExpiresAt = ptr(k.Hash), ptr(t0.Add(time.Hour))
		k.Hash = token.Hash(next)
	})
	f.v.InvalidateKey(reset.ID)
	wantCode(t, f.v, next, "")
	wantCode(t, f.v, previous, "")

	before := cs.byHash.Load()
	var wg sync.WaitGroup
	for _, batch := range [][]string{unknownTokens(t, 5000), unknownTokens(t, 5000)} {
		wg.Go(func() {
			for _, tok := range batch {
				if r := f.v.Check(context.Background(), tok, Request{}); r.Code != latchkey.KeyInvalid {
					t.Errorf("unknown token: got %q, want %q", r.Code, latchkey.KeyInvalid)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := cs.byHash.Load() - before; n != 0 {
		t.Fatalf("a flood of 10,000 distinct unknown tokens made %d store reads, want 0", n)
	}
	// Known keys still verify after the flood.
	wantCode(t, f.v, fresh, "")
}

func TestMembershipFallsBackToTheStoreUntilSure(t *testing.T) {
	f, cs := membershipFixture(t, Membership{})
	unknown := unknownTokens(t, 3)
	// Not loaded yet (Run has not started): the store decides.
	wantCode(t, f.v, unknown[0], latchkey.KeyInvalid)
	if cs.byHash.Load() != 1 {
		t.Fatalf("before the load: got %d store reads, want 1", cs.byHash.Load())
	}
	runVerifier(t, f.v)
	waitReady(t, f.v)
	// Untrusted (announcements may be lost): the store decides again.
	f.v.SetTrusted(false)
	wantCode(t, f.v, unknown[1], latchkey.KeyInvalid)
	if cs.byHash.Load() != 2 {
		t.Fatalf("while untrusted: got %d store reads, want 2", cs.byHash.Load())
	}
	// Trusted again: the set reloads and refuses without the store.
	f.v.SetTrusted(true)
	waitReady(t, f.v)
	wantCode(t, f.v, unknown[2], latchkey.KeyInvalid)
	if cs.byHash.Load() != 2 {
		t.Fatalf("reloaded: got %d store reads, want 2", cs.byHash.Load())
	}
}

// TestMembershipFence plays another instance: its keys are announced only
// through the fence, as PostgreSQL's notifications would deliver them. A
// hash absent from the set is refused only after a fence begun after the
// request, and concurrent misses share fences.
func TestMembershipFence(t *testing.T) {
	var pending sync.Map // prefixes written elsewhere, not yet announced here
	var fences atomic.Int64
	var v *Verifier
	f, cs := membershipFixture(t, Membership{Fence: func(ctx context.Context) error {
		fences.Add(1)
		pending.Range(func(k, _ any) bool {
			v.AddKnownPrefix(k.([8]byte))
			pending.Delete(k)
			return true
		})
		return nil
	}})
	v = f.v
	runVerifier(t, f.v)
	waitReady(t, f.v)

	// A key written on "another instance": in the store, unannounced.
	tok := unknownTokens(t, 1)[0]
	h := token.Hash(tok)
	k := &latchkey.Key{ID: f.ids.New("key"), WorkspaceID: f.ws, Name: "elsewhere", Type: "public_api",
		Environment: latchkey.Production, Owner: latchkey.OwnerWorkspace, Scopes: []string{},
		Settings: map[string]any{}, CreatedBy: f.user, CreatedAt: t0, Start: tok[:12], Hash: h}
	if err := f.db.CreateKey(f.ctx, k, f.event(f.ws, latchkey.EventKeyCreated, k.ID)); err != nil {
		t.Fatal(err)
	}
	// The other instance's write is not announced here directly.
	f.v.known.mu.Lock()
	delete(f.v.known.set, prefix(&h))
	f.v.known.mu.Unlock()
	pending.Store([8]byte(h[:8]), true)
	wantCode(t, f.v, tok, "")

	flood := unknownTokens(t, 2000)
	before := cs.byHash.Load()
	var wg sync.WaitGroup
	for i := range 16 {
		wg.Go(func() {
			for _, tok := range flood[i*125 : (i+1)*125] {
				if r := f.v.Check(context.Background(), tok, Request{}); r.Code != latchkey.KeyInvalid {
					t.Errorf("unknown token: got %q, want %q", r.Code, latchkey.KeyInvalid)
					return
				}
			}
		})
	}
	wg.Wait()
	if n := cs.byHash.Load() - before; n != 0 {
		t.Fatalf("a fenced flood made %d store reads, want 0", n)
	}
	if n := fences.Load(); n >= 2000 {
		t.Fatalf("2,000 concurrent misses ran %d fences: they should share them", n)
	}
	t.Logf("2,000 misses from 16 goroutines: %d fences", fences.Load())

	// A fence that fails proves nothing: the store decides.
	g, cs2 := membershipFixture(t, Membership{Fence: func(context.Context) error { return context.DeadlineExceeded }})
	runVerifier(t, g.v)
	waitReady(t, g.v)
	wantCode(t, g.v, flood[0], latchkey.KeyInvalid)
	if cs2.byHash.Load() != 1 {
		t.Fatalf("after a failed fence: got %d store reads, want 1", cs2.byHash.Load())
	}
}

// TestMembershipMemory reports what the set costs per hash.
func TestMembershipMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("allocates a million hashes")
	}
	k := newKnownSet(&Membership{}, nil)
	const n = 1_000_000
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range n {
		h := sha256.Sum256([]byte{byte(i), byte(i >> 8), byte(i >> 16)})
		k.addPrefix(prefix(&h))
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	per := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("membership set: %.1f bytes per hash (%d hashes)", per, k.len())
	if per > 64 {
		t.Fatalf("membership set: %.1f bytes per hash, want at most 64", per)
	}
}
