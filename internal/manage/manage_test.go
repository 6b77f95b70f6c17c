package manage_test

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/verify"
)

// clock is an injected clock: tests move time instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type env struct {
	svc   *manage.Service
	store *sqlite.DB
	v     *verify.Verifier
	clock *clock
	ws    string
	owner latchkey.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	format, _ := token.NewFormat("lk")
	v := verify.New(verify.Config{Store: store, Usage: store, Format: format, Now: c.Now})
	svc := manage.New(manage.Config{Store: store, Format: format, Invalidator: v, Now: c.Now})
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Principal(ctx, manage.Caller{User: first.Owner, IP: "192.0.2.1"}, first.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	if p.Role != latchkey.RoleOwner {
		t.Fatalf("got role %q, want owner", p.Role)
	}
	return &env{svc: svc, store: store, v: v, clock: c, ws: first.Workspace.ID, owner: p}
}

func (e *env) create(t *testing.T, in manage.CreateKey) (*latchkey.Key, string) {
	t.Helper()
	k, secret, err := e.svc.CreateKey(context.Background(), e.owner, e.ws, in)
	if err != nil {
		t.Fatalf("CreateKey(%+v): %v", in, err)
	}
	return k, secret
}

func (e *env) verify(secret string) latchkey.VerifyCode {
	r := e.v.Check(context.Background(), secret, verify.Request{})
	return r.Code
}

func TestExpiryWithInjectedClock(t *testing.T) {
	e := newEnv(t)
	k, secret := e.create(t, manage.CreateKey{Name: "one hour", ExpiresIn: "1h"})
	if want := e.clock.Now().Add(time.Hour); !k.ExpiresAt.Equal(want) {
		t.Fatalf("expires_at = %v, want %v", k.ExpiresAt, want)
	}
	// The default notice window is 30 days, but a one-hour key was created
	// inside it: its expiry is no news, so it is not expiring on that account.
	if got := k.Status(e.clock.Now(), 30*latchkey.Day); got != latchkey.StatusActive {
		t.Errorf("status = %s, want active", got)
	}
	e.clock.Add(time.Hour - time.Microsecond)
	if got := e.verify(secret); got != "" {
		t.Fatalf("one µs before expiry: got %q, want valid", got)
	}
	e.clock.Add(time.Microsecond)
	if got := e.verify(secret); got != latchkey.KeyExpired {
		t.Fatalf("at expiry: got %q, want key_expired", got)
	}
	keys, _, err := e.svc.ListKeys(context.Background(), e.owner, e.ws, latchkey.KeyFilter{Status: latchkey.StatusExpired})
	if err != nil || len(keys) != 1 || keys[0].ID != k.ID {
		t.Errorf("expired filter = %v, %v; want the key", keys, err)
	}
}

func TestDefaultLifetimeAndPolicy(t *testing.T) {
	e := newEnv(t)
	k, _ := e.create(t, manage.CreateKey{Name: "default"})
	if want := e.clock.Now().Add(latchkey.Year); !k.ExpiresAt.Equal(want) {
		t.Errorf("default expiry = %v, want one year: %v", k.ExpiresAt, want)
	}
	if got := k.Status(e.clock.Now(), 30*latchkey.Day); got != latchkey.StatusActive {
		t.Errorf("status = %s, want active", got)
	}
	e.clock.Add(latchkey.Year - 30*latchkey.Day)
	if got := k.Status(e.clock.Now(), 30*latchkey.Day); got != latchkey.StatusExpiring {
		t.Errorf("a month before expiry: status = %s, want expiring", got)
	}
	for _, in := range []manage.CreateKey{
		{Name: "too long", ExpiresIn: "2y"},
		{Name: "never", ExpiresIn: "never"},
		{Name: "past", ExpiresAt: new(e.clock.Now().Add(-time.Second))},
	} {
		if _, _, err := e.svc.CreateKey(context.Background(), e.owner, e.ws, in); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("%s: got %v, want invalid_request", in.Name, err)
		}
	}
}

func TestResetGracePeriod(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k, old := e.create(t, manage.CreateKey{Name: "rotating"})
	_, fresh, err := e.svc.ResetKey(ctx, e.owner, e.ws, k.ID, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if fresh == old {
		t.Fatal("reset returned the same secret")
	}
	for _, s := range []string{old, fresh} {
		if got := e.verify(s); got != "" {
			t.Fatalf("during the grace period: got %q, want valid", got)
		}
	}
	e.clock.Add(time.Hour)
	if got := e.verify(old); got != latchkey.KeyInvalid {
		t.Errorf("after the grace period the old secret: got %q, want key_invalid", got)
	}
	if got := e.verify(fresh); got != "" {
		t.Errorf("the new secret: got %q, want valid", got)
	}
	// Without a grace period the secret stops at once.
	_, third, err := e.svc.ResetKey(ctx, e.owner, e.ws, k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got := e.verify(fresh); got != latchkey.KeyInvalid {
		t.Errorf("immediate reset, old secret: got %q, want key_invalid", got)
	}
	if got := e.verify(third); got != "" {
		t.Errorf("immediate reset, new secret: got %q", got)
	}
	if _, _, err := e.svc.ResetKey(ctx, e.owner, e.ws, k.ID, 8*latchkey.Day); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Errorf("grace over 7d: got %v, want invalid_request", err)
	}
}

func TestRevokeIsPermanentAndIdempotent(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k, secret := e.create(t, manage.CreateKey{Name: "to revoke"})
	if got := e.verify(secret); got != "" {
		t.Fatalf("before revoke: %q", got)
	}
	for range 2 {
		r, err := e.svc.RevokeKey(ctx, e.owner, e.ws, k.ID)
		if err != nil || r.RevokedAt == nil {
			t.Fatalf("revoke: %v, %v", r, err)
		}
	}
	if got := e.verify(secret); got != latchkey.KeyRevoked {
		t.Errorf("after revoke: got %q, want key_revoked", got)
	}
	if _, _, err := e.svc.ResetKey(ctx, e.owner, e.ws, k.ID, 0); latchkey.ErrorCode(err) != latchkey.ECONFLICT {
		t.Errorf("reset of a revoked key: got %v, want conflict", err)
	}
	if _, err := e.svc.UpdateKey(ctx, e.owner, e.ws, k.ID, manage.UpdateKey{Name: new("x")}); latchkey.ErrorCode(err) != latchkey.ECONFLICT {
		t.Errorf("patch of a revoked key: got %v, want conflict", err)
	}
	evs, _, err := e.svc.Events(ctx, e.owner, e.ws, latchkey.EventFilter{Target: k.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, ev := range evs {
		actions = append(actions, ev.Action)
		if ev.IP != "192.0.2.1" || ev.Actor.ID != e.owner.UserID {
			t.Errorf("event %s: actor %+v ip %q", ev.Action, ev.Actor, ev.IP)
		}
	}
	if len(actions) != 2 || actions[0] != latchkey.EventKeyRevoked || actions[1] != latchkey.EventKeyCreated {
		t.Errorf("events = %v, want one revoke (idempotent) after the create", actions)
	}
}

func TestDeleteMakesKeyInvalid(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k, secret := e.create(t, manage.CreateKey{Name: "to delete"})
	_ = e.verify(secret) // warm the cache
	if err := e.svc.DeleteKey(ctx, e.owner, e.ws, k.ID); err != nil {
		t.Fatal(err)
	}
	if got := e.verify(secret); got != latchkey.KeyInvalid {
		t.Errorf("after delete: got %q, want key_invalid", got)
	}
	if _, err := e.svc.Key(ctx, e.owner, e.ws, k.ID); !latchkey.IsNotFound(err) {
		t.Errorf("get after delete: %v, want not found", err)
	}
	if err := e.svc.DeleteKey(ctx, e.owner, e.ws, k.ID); !latchkey.IsNotFound(err) {
		t.Errorf("second delete: %v, want not found", err)
	}
}

func TestPatchValidatesAgainstCatalog(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k, secret := e.create(t, manage.CreateKey{Name: "agent", Type: latchkey.TypeOnPremise})
	if k.Settings["retrieve_signatures"] != false {
		t.Fatalf("defaults not applied: %v", k.Settings)
	}
	up, err := e.svc.UpdateKey(ctx, e.owner, e.ws, k.ID, manage.UpdateKey{Settings: map[string]any{"retrieve_signatures": true}})
	if err != nil || up.Settings["retrieve_signatures"] != true || up.Settings["send_directory_data"] != false {
		t.Fatalf("patch settings = %v, %v", up, err)
	}
	for name, in := range map[string]manage.UpdateKey{
		"unknown setting": {Settings: map[string]any{"fly": true}},
		"wrong kind":      {Settings: map[string]any{"retrieve_signatures": "yes"}},
		"foreign scope":   {Scopes: &[]string{"items:read"}},
		"empty name":      {Name: new(" ")},
		"bad callback":    {CallbackURL: new("http://example.test")},
	} {
		if _, err := e.svc.UpdateKey(ctx, e.owner, e.ws, k.ID, in); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("%s: got %v, want invalid_request", name, err)
		}
	}
	// Scopes narrowed by a patch apply to the next verification at once.
	pk, ps := e.create(t, manage.CreateKey{Name: "api", Scopes: []string{"items:read", "users:read"}})
	if r := e.v.Check(ctx, ps, verify.Request{Scopes: []string{"users:read"}}); r.Code != "" {
		t.Fatalf("before patch: %q", r.Code)
	}
	if _, err := e.svc.UpdateKey(ctx, e.owner, e.ws, pk.ID, manage.UpdateKey{Scopes: &[]string{"items:read"}}); err != nil {
		t.Fatal(err)
	}
	if r := e.v.Check(ctx, ps, verify.Request{Scopes: []string{"users:read"}}); r.Code != latchkey.InsufficientScope {
		t.Errorf("after patch: got %q, want insufficient_scope", r.Code)
	}
	_ = secret
}

func TestCreateRules(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	cases := map[string]struct {
		in   manage.CreateKey
		want latchkey.Code
	}{
		"unknown type":        {manage.CreateKey{Name: "x", Type: "root"}, latchkey.EINVALID},
		"bad environment":     {manage.CreateKey{Name: "x", Environment: "staging"}, latchkey.EINVALID},
		"name too long":       {manage.CreateKey{Name: string(make([]byte, 101))}, latchkey.EINVALID},
		"scim cannot be mine": {manage.CreateKey{Name: "x", Type: latchkey.TypeSCIM, Owner: "me"}, latchkey.EFORBIDDEN},
		"mgmt foreign scope":  {manage.CreateKey{Name: "x", Type: latchkey.TypeManagement, Scopes: []string{"items:read"}}, latchkey.EINVALID},
		"bad owner":           {manage.CreateKey{Name: "x", Owner: "usr_someone"}, latchkey.EINVALID},
		"vaults off":          {manage.CreateKey{Name: "x", SaveToVault: &manage.SaveToVault{VaultID: "v"}}, latchkey.EUNPROCESSABLE},
		"bad rate limit":      {manage.CreateKey{Name: "x", RateLimit: &latchkey.RateLimit{Limit: 0, Period: latchkey.Duration(time.Second)}}, latchkey.EINVALID},
		"demo personal is ok": {manage.CreateKey{Name: "x", Environment: latchkey.Demo, Owner: "me"}, ""},
		"scim for workspace":  {manage.CreateKey{Name: "x", Type: latchkey.TypeSCIM, Settings: map[string]any{"integration": "okta"}}, ""},
	}
	for name, c := range cases {
		_, secret, err := e.svc.CreateKey(ctx, e.owner, e.ws, c.in)
		if got := latchkey.ErrorCode(err); got != c.want {
			t.Errorf("%s: got %q (%v), want %q", name, got, err, c.want)
		}
		if c.want == "" {
			if _, err := token.NewFormat("lk"); err != nil || len(secret) == 0 {
				t.Errorf("%s: no secret", name)
			}
		}
	}
	other, err := e.svc.Principal(ctx, manage.Caller{User: &latchkey.User{ID: "usr_stranger"}}, e.ws)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.CreateKey(ctx, other, e.ws, manage.CreateKey{Name: "x"}); !latchkey.IsNotFound(err) {
		t.Errorf("a stranger creating a key: got %v, want not found", err)
	}
}

// The SCIM custom-attributes switch shows in every SCIM key's settings and
// changes the workspace, not the key (Letsignit).
func TestScimSwitchInKeySettings(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	a, _ := e.create(t, manage.CreateKey{Name: "okta", Type: latchkey.TypeSCIM, Settings: map[string]any{"integration": "okta"}})
	b, _ := e.create(t, manage.CreateKey{Name: "entra", Type: latchkey.TypeSCIM, Settings: map[string]any{"integration": "entra", manage.ScimSwitch: true}})
	if b.Settings[manage.ScimSwitch] != true {
		t.Fatalf("created with the switch on: settings %v", b.Settings)
	}
	got, err := e.svc.Key(ctx, e.owner, e.ws, a.ID)
	if err != nil || got.Settings[manage.ScimSwitch] != true || got.Settings["integration"] != "okta" {
		t.Fatalf("the other SCIM key shows %v, %v; want the switch on", got, err)
	}
	if _, err := e.svc.UpdateKey(ctx, e.owner, e.ws, a.ID, manage.UpdateKey{Settings: map[string]any{manage.ScimSwitch: false}}); err != nil {
		t.Fatal(err)
	}
	st, _ := e.svc.Settings(ctx, e.owner, e.ws)
	if st.ScimCustomAttributes {
		t.Error("switching off through a key did not change the workspace")
	}
	stored, _ := e.store.Key(ctx, e.ws, b.ID)
	if _, ok := stored.Settings[manage.ScimSwitch]; ok {
		t.Errorf("the switch was stored in a key: %v", stored.Settings)
	}
	pub, _ := e.create(t, manage.CreateKey{Name: "api"})
	if _, err := e.svc.UpdateKey(ctx, e.owner, e.ws, pub.ID, manage.UpdateKey{Settings: map[string]any{manage.ScimSwitch: true}}); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Errorf("the switch on a public_api key: got %v, want invalid_request", err)
	}
	admin := e.owner
	admin.Role = latchkey.RoleAdmin
	if _, err := e.svc.UpdateKey(ctx, admin, e.ws, a.ID, manage.UpdateKey{Settings: map[string]any{manage.ScimSwitch: true}}); latchkey.ErrorCode(err) != latchkey.EFORBIDDEN {
		t.Errorf("an admin flipping the workspace switch: got %v, want forbidden", err)
	}
}
