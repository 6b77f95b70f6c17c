package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// testKeyHashes pages through the hashes of every key of every workspace,
// previous secrets and revoked keys included, each key exactly once.
func testKeyHashes(t *testing.T, open func(t *testing.T) latchkey.Store) {
	f := newFixture(t, open)
	if got, err := f.s.KeyHashes(f.ctx, "", 10); err != nil || len(got) != 0 {
		t.Fatalf("KeyHashes of an empty store: got %d, %v; want 0, nil", len(got), err)
	}
	a, _ := f.workspace("A", "a@example.com")
	b, _ := f.workspace("B", "b@example.com")
	want := map[string]latchkey.KeyHash{}
	for i := range 7 {
		ws := a.ID
		if i%2 == 1 {
			ws = b.ID
		}
		k := f.key(ws, "k", func(k *latchkey.Key) {
			if i == 3 {
				k.PreviousHash = ptr(sha256.Sum256([]byte("old secret")))
				k.PreviousExpiresAt = ptr(now.Add(time.Hour))
			}
			if i == 5 {
				k.RevokedAt = ptr(now)
				k.RevokedBy = "someone"
			}
		})
		want[k.ID] = latchkey.KeyHash{ID: k.ID, Hash: k.Hash, Previous: k.PreviousHash}
	}
	// A reset shows its new secret and keeps the previous one.
	var reset latchkey.KeyHash
	for _, kh := range want {
		reset = kh
		break
	}
	newHash := sha256.Sum256([]byte("new secret"))
	_, err := f.s.UpdateKey(f.ctx, wsOf(t, f, reset.ID, a.ID, b.ID), reset.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
		k.PreviousHash, k.Hash = ptr(k.Hash), newHash
		k.PreviousExpiresAt = ptr(now.Add(time.Hour))
		ev := f.event(k.WorkspaceID, latchkey.EventKeyUpdated, k.ID)
		return &ev, nil
	})
	wantCode(t, "UpdateKey", err, "")
	want[reset.ID] = latchkey.KeyHash{ID: reset.ID, Hash: newHash, Previous: ptr(reset.Hash)}

	for _, limit := range []int{1, 3, 7, 100} {
		got := map[string]latchkey.KeyHash{}
		after := ""
		for pages := 0; ; pages++ {
			page, err := f.s.KeyHashes(f.ctx, after, limit)
			wantCode(t, "KeyHashes", err, "")
			if len(page) > limit || pages > len(want)+1 {
				t.Fatalf("limit %d: a page of %d after %d pages", limit, len(page), pages)
			}
			for _, kh := range page {
				if kh.ID <= after {
					t.Fatalf("limit %d: %s after %s: not in id order", limit, kh.ID, after)
				}
				if _, dup := got[kh.ID]; dup {
					t.Fatalf("limit %d: %s twice", limit, kh.ID)
				}
				got[kh.ID], after = kh, kh.ID
			}
			if len(page) < limit {
				break
			}
		}
		if len(got) != len(want) {
			t.Fatalf("limit %d: got %d keys, want %d", limit, len(got), len(want))
		}
		for id, w := range want {
			g := got[id]
			if g.Hash != w.Hash || (g.Previous == nil) != (w.Previous == nil) || (g.Previous != nil && *g.Previous != *w.Previous) {
				t.Fatalf("limit %d: key %s: got %+v, want %+v", limit, id, g, w)
			}
		}
	}
	if _, err := f.s.KeyHashes(f.ctx, "", 0); err == nil {
		t.Fatal("KeyHashes with limit 0: got nil, want an error")
	}
}

// wsOf finds which of the workspaces holds key id.
func wsOf(t *testing.T, f *fixture, id string, workspaces ...string) string {
	t.Helper()
	for _, ws := range workspaces {
		if _, err := f.s.Key(f.ctx, ws, id); err == nil {
			return ws
		}
	}
	t.Fatalf("key %s is in none of the workspaces", id)
	return ""
}
