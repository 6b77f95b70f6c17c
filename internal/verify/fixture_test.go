package verify

import (
	"context"
	"crypto/rand"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/token"
)

var t0 = time.Date(2025, 3, 14, 12, 0, 0, 0, time.UTC)

// clock is the injected time: tests move it instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// fixture is a real SQLite store with one workspace (owned by an active
// member) and a Verifier over it.
type fixture struct {
	tb    testing.TB
	ctx   context.Context
	db    *sqlite.DB
	ids   *id.Generator
	clock *clock
	reg   *prometheus.Registry
	v     *Verifier
	ws    string
	user  string
}

func newFixture(tb testing.TB, mods ...func(*Config)) *fixture {
	tb.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(tb.TempDir(), "db"))
	if err != nil {
		tb.Fatalf("sqlite.Open: got %v, want nil", err)
	}
	tb.Cleanup(func() { db.Close() })
	f := &fixture{tb: tb, ctx: ctx, db: db, ids: id.NewGenerator(nil, nil), clock: &clock{t: t0},
		reg: prometheus.NewRegistry()}
	ws := &latchkey.Workspace{ID: f.ids.New(id.Workspace), Name: "Acme", Settings: latchkey.DefaultSettings(), CreatedAt: t0}
	owner := &latchkey.User{ID: f.ids.New(id.User), Email: "owner@example.com", Name: "Owner",
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", CreatedAt: t0}
	if err := db.CreateWorkspace(ctx, ws, owner, f.event(ws.ID, latchkey.EventWorkspaceCreated, ws.ID)); err != nil {
		tb.Fatalf("CreateWorkspace: got %v, want nil", err)
	}
	f.ws, f.user = ws.ID, owner.ID
	cfg := Config{Store: db, Usage: db, Now: f.clock.Now, Registerer: f.reg}
	for _, m := range mods {
		m(&cfg)
	}
	f.v = New(cfg)
	return f
}

func (f *fixture) event(workspaceID, action, target string) latchkey.Event {
	return latchkey.Event{ID: f.ids.New(id.Event), WorkspaceID: workspaceID, At: t0,
		Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: action, Target: target}
}

// key stores a production public_api key expiring in 30 days, adjusted by
// mods, and returns its token and the key.
func (f *fixture) key(mods ...func(*latchkey.Key)) (string, *latchkey.Key) {
	f.tb.Helper()
	k := &latchkey.Key{ID: f.ids.New(id.Key), WorkspaceID: f.ws, Name: "Integration <CRM> \"prod\"",
		Type: "public_api", Environment: latchkey.Production, Owner: latchkey.OwnerWorkspace,
		Scopes: []string{"items:read", "accounts:read"}, Settings: map[string]any{"note": "x"},
		CreatedBy: f.user, CreatedAt: t0, ExpiresAt: ptr(t0.Add(30 * latchkey.Day))}
	for _, m := range mods {
		m(k)
	}
	format, _ := token.NewFormat(token.DefaultPrefix)
	tok, start, err := format.New(rand.Reader, k.Environment)
	if err != nil {
		f.tb.Fatal(err)
	}
	k.Start, k.Hash = start, token.Hash(tok)
	if err := f.db.CreateKey(f.ctx, k, f.event(f.ws, latchkey.EventKeyCreated, k.ID)); err != nil {
		f.tb.Fatalf("CreateKey: got %v, want nil", err)
	}
	return tok, k
}

// cachedKey stores a key as key does and verifies it once, so that the
// Verifier has it cached.
func (f *fixture) cachedKey(mods ...func(*latchkey.Key)) (string, *latchkey.Key) {
	f.tb.Helper()
	tok, k := f.key(mods...)
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != "" {
		f.tb.Fatalf("verifying key %s once to cache it: got %q, want valid", k.ID, r.Code)
	}
	return tok, k
}

// update changes a stored key the way the management layer does, without
// telling the Verifier.
func (f *fixture) update(k *latchkey.Key, fn func(*latchkey.Key)) {
	f.tb.Helper()
	_, err := f.db.UpdateKey(f.ctx, f.ws, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
		fn(k)
		ev := f.event(f.ws, latchkey.EventKeyUpdated, k.ID)
		return &ev, nil
	})
	if err != nil {
		f.tb.Fatalf("UpdateKey: got %v, want nil", err)
	}
}

func ptr[T any](v T) *T { return &v }
