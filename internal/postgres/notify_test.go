package postgres

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// TestInvalidationTriggers checks that the database itself announces every
// change verification depends on, and stays quiet on usage flushes.
func TestInvalidationTriggers(t *testing.T) {
	s := newTestServer(t)
	// A database of its own: NOTIFY channels are per database, not per schema.
	db := open(t, s.schema())
	ctx := context.Background()
	l := startListen(t, db, "latchkey_invalidate")
	l.wantState(t, true)

	ids := id.NewGenerator(nil, nil)
	now := time.Now().UTC().Truncate(time.Microsecond)
	ev := func(ws, action, target string) latchkey.Event {
		return latchkey.Event{ID: ids.New(id.Event), WorkspaceID: ws, At: now, Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: action, Target: target}
	}
	ws := &latchkey.Workspace{ID: ids.New(id.Workspace), Name: "Acme", Settings: latchkey.DefaultSettings(), CreatedAt: now}
	owner := &latchkey.User{ID: ids.New(id.User), Email: "o@example.com", CreatedAt: now}
	if err := db.CreateWorkspace(ctx, ws, owner, ev(ws.ID, "workspace.created", ws.ID)); err != nil {
		t.Fatal(err)
	}
	l.wantPayload(t, "owner:"+ws.ID+":"+owner.ID) // the owner's membership row
	k := &latchkey.Key{ID: ids.New(id.Key), WorkspaceID: ws.ID, Name: "k", Type: "public_api", Environment: latchkey.Production,
		Owner: latchkey.OwnerWorkspace, Scopes: []string{}, Settings: map[string]any{}, CreatedBy: owner.ID, CreatedAt: now, Start: "lk_prod_abcd"}
	k.Hash[0] = 1
	if err := db.CreateKey(ctx, k, ev(ws.ID, "key.created", k.ID)); err != nil {
		t.Fatal(err)
	}
	// A new secret is announced by the prefix of its hash, never whole.
	l.wantPayload(t, "hash:0100000000000000")
	// A usage flush moves last_used_at only: no notification.
	if err := db.AddUsage(ctx, []latchkey.Usage{{WorkspaceID: ws.ID, KeyID: k.ID, Day: now.Truncate(24 * time.Hour), Environment: latchkey.Production, Valid: 1, LastUsedAt: now}}); err != nil {
		t.Fatal(err)
	}
	if _, err := db.UpdateKey(ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
		k.RevokedAt = &now
		e := ev(ws.ID, "key.revoked", k.ID)
		return &e, nil
	}); err != nil {
		t.Fatal(err)
	}
	l.wantPayload(t, "key:"+k.ID) // the revoke, and nothing before it
	// A reset announces the key's change (its trigger fires first) and
	// its new secret, at the same commit.
	if _, err := db.UpdateKey(ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
		prev := k.Hash
		k.PreviousHash, k.Hash[0] = &prev, 2
		e := ev(ws.ID, "key.reset", k.ID)
		return &e, nil
	}); err != nil {
		t.Fatal(err)
	}
	l.wantPayload(t, "key:"+k.ID)
	l.wantPayload(t, "hash:0200000000000000")
	if err := db.DeleteKey(ctx, ws.ID, k.ID, ev(ws.ID, "key.deleted", k.ID)); err != nil {
		t.Fatal(err)
	}
	l.wantPayload(t, "key:"+k.ID)
}
