// Package storetest is the one contract suite of latchkey.Store: every
// implementation's tests call Run, so the SQLite and PostgreSQL stores are
// held to exactly the same behaviour.
package storetest

import (
	"context"
	"crypto/sha256"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// Run runs the contract suite. open returns an empty store for one subtest
// and arranges for it to be closed when the subtest ends.
func Run(t *testing.T, open func(t *testing.T) latchkey.Store) {
	groups := []struct {
		name string
		run  func(t *testing.T, open func(t *testing.T) latchkey.Store)
	}{
		{"Workspaces", testWorkspaces},
		{"Users", testUsers},
		{"Keys", testKeys},
		{"KeyByHash", testKeyByHash},
		{"KeyHashes", testKeyHashes},
		{"KeyList", testKeyList},
		{"Events", testEvents},
		{"EventChain", testEventChain},
		{"Sessions", testSessions},
		{"Usage", usageBothWays(testUsage)},
		{"UsageOutcomes", usageBothWays(testUsageOutcomes)},
		{"UsageTags", usageBothWays(testUsageTags)},
		{"UsageFold", testUsageFold},
		{"Members", testMembers},
		{"LastOwnersRace", testLastOwnersRace},
		{"Invites", testInvites},
		{"ScimKeyRequests", testScimKeyRequests},
		{"ScimUsers", testScimUsers},
		{"ScimFilters", testScimFilters},
		{"ScimGroups", testScimGroups},
		{"Concurrency", testConcurrency},
		{"PanicInUpdate", testPanic},
		{"Lifecycle", testLifecycle},
		{"Webhooks", testWebhooks},
		{"Vaults", testVaults},
		{"SignIn", testSignIn},
		{"Leaks", testLeaks},
		{"Platform", testPlatform},
		{"Budgets", testBudgets},
	}
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, open) })
	}
}

// now is the fixed clock of the suite: every time a record holds is chosen
// relative to it, so derived states never depend on the wall clock.
var now = time.Date(2030, 6, 15, 12, 0, 0, 0, time.UTC)

// fixture is one empty store and the helpers that fill it.
type fixture struct {
	t   *testing.T
	ctx context.Context
	s   latchkey.Store
	ids *id.Generator
	// foldUsage folds the usage log after every addUsage.
	foldUsage bool
}

func newFixture(t *testing.T, open func(t *testing.T) latchkey.Store) *fixture {
	t.Helper()
	return &fixture{t: t, ctx: context.Background(), s: open(t), ids: id.NewGenerator(nil, nil)}
}

// user returns a user that is not stored yet.
func (f *fixture) user(email string) *latchkey.User {
	return &latchkey.User{ID: f.ids.New(id.User), Email: email, Name: "Name of " + email,
		PasswordHash: "$argon2id$v=19$m=65536,t=1,p=4$c2FsdA$aGFzaA", CreatedAt: now}
}

// workspace stores a workspace owned by a new user with the given email.
func (f *fixture) workspace(name, ownerEmail string) (*latchkey.Workspace, *latchkey.User) {
	f.t.Helper()
	ws := &latchkey.Workspace{ID: f.ids.New(id.Workspace), Name: name, Settings: latchkey.DefaultSettings(), CreatedAt: now}
	owner := f.user(ownerEmail)
	if err := f.s.CreateWorkspace(f.ctx, ws, owner, f.event(ws.ID, latchkey.EventWorkspaceCreated, ws.ID)); err != nil {
		f.t.Fatalf("CreateWorkspace: got %v, want nil", err)
	}
	return ws, owner
}

func (f *fixture) event(workspaceID, action, target string) latchkey.Event {
	return latchkey.Event{ID: f.ids.New(id.Event), WorkspaceID: workspaceID, At: now,
		Actor:  latchkey.Actor{Type: latchkey.ActorUser, ID: "usr_actor", Label: "actor@example.com"},
		Action: action, Target: target, IP: "192.0.2.1", Data: map[string]any{"why": "test"}}
}

// newKey returns a workspace key that is not stored yet; mods adjust it.
func (f *fixture) newKey(workspaceID, name string, mods ...func(*latchkey.Key)) *latchkey.Key {
	exp := now.Add(90 * latchkey.Day)
	k := &latchkey.Key{
		ID: f.ids.New(id.Key), WorkspaceID: workspaceID, Name: name, Description: "for " + name,
		Type: "public_api", Environment: latchkey.Production, Owner: latchkey.OwnerWorkspace,
		Scopes: []string{"items:read"}, Settings: map[string]any{"flag": true},
		CreatedBy: "usr_creator", CreatedAt: now, ExpiresAt: &exp, Start: "lk_prod_Ab3d",
		Hash: sha256.Sum256([]byte(f.ids.New("secret"))), OwnerActive: true,
	}
	for _, m := range mods {
		m(k)
	}
	return k
}

// key stores a new key and returns it as the store should return it.
func (f *fixture) key(workspaceID, name string, mods ...func(*latchkey.Key)) *latchkey.Key {
	f.t.Helper()
	k := f.newKey(workspaceID, name, mods...)
	if err := f.s.CreateKey(f.ctx, k, f.event(workspaceID, latchkey.EventKeyCreated, k.ID)); err != nil {
		f.t.Fatalf("CreateKey(%s): got %v, want nil", name, err)
	}
	return k
}

// eventsFor returns the actions recorded for target in a workspace, newest first.
func (f *fixture) eventsFor(workspaceID, target string) []string {
	f.t.Helper()
	evs, _, err := f.s.Events(f.ctx, latchkey.EventFilter{WorkspaceID: workspaceID, Target: target, Limit: 200})
	if err != nil {
		f.t.Fatalf("Events: got %v, want nil", err)
	}
	var actions []string
	for _, ev := range evs {
		actions = append(actions, ev.Action)
	}
	return actions
}

func ptr[T any](v T) *T { return &v }

// wantCode fails unless err carries code ("" for no error).
func wantCode(t *testing.T, what string, err error, code latchkey.Code) {
	t.Helper()
	if got := latchkey.ErrorCode(err); got != code {
		t.Fatalf("%s: got error %v (code %q), want code %q", what, err, got, code)
	}
}

// wantSame fails with one line per differing field of two structs (or
// pointers to structs), pointers shown by their values.
func wantSame(t *testing.T, what string, got, want any) {
	t.Helper()
	if d := diff(got, want); d != "" {
		t.Fatalf("%s:\n%s", what, d)
	}
}

func diff(got, want any) string {
	g, w := reflect.ValueOf(got), reflect.ValueOf(want)
	if g.Kind() == reflect.Pointer {
		if g.IsNil() || w.IsNil() {
			if g.IsNil() == w.IsNil() {
				return ""
			}
			return fmt.Sprintf("got %v, want %v", got, want)
		}
		g, w = g.Elem(), w.Elem()
	}
	var out []string
	for i := range g.NumField() {
		gf, wf := g.Field(i).Interface(), w.Field(i).Interface()
		if !reflect.DeepEqual(gf, wf) {
			out = append(out, fmt.Sprintf("  %s: got %s, want %s", g.Type().Field(i).Name, show(gf), show(wf)))
		}
	}
	return strings.Join(out, "\n")
}

func show(v any) string {
	r := reflect.ValueOf(v)
	if r.Kind() == reflect.Pointer && !r.IsNil() {
		return fmt.Sprintf("&%v", r.Elem().Interface())
	}
	return fmt.Sprintf("%v", v)
}

// removeMember removes a member through the store's RemoveMember, recording
// ev and revoking the member's keys with events of their own.
func (f *fixture) removeMember(ws, userID string, ev latchkey.Event) error {
	_, err := f.s.RemoveMember(f.ctx, ws, userID, func(_ *latchkey.Member, keys []*latchkey.Key) ([]latchkey.Event, error) {
		evs := []latchkey.Event{ev}
		for _, k := range keys {
			kev := f.event(ws, latchkey.EventKeyRevoked, k.ID)
			kev.Actor = latchkey.Actor{Type: latchkey.ActorUser, ID: "usr_remover"}
			evs = append(evs, kev)
		}
		return evs, nil
	})
	return err
}
