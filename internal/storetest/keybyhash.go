package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testKeyByHash(t *testing.T, open func(t *testing.T) latchkey.Store) {
	f := newFixture(t, open)
	a, ownerA := f.workspace("A", "a@example.com")
	_, ownerB := f.workspace("B", "b@example.com")
	loner := f.user("loner@example.com")
	wantCode(t, "CreateUser", f.s.CreateUser(f.ctx, loner, nil), "")

	personal := func(owner string) func(*latchkey.Key) {
		return func(k *latchkey.Key) { k.Owner = owner }
	}
	company := f.key(a.ID, "company", func(k *latchkey.Key) {
		k.PreviousHash = ptr(sha256.Sum256([]byte("old company secret")))
		k.PreviousExpiresAt = ptr(now.Add(time.Hour))
	})
	mine := f.key(a.ID, "mine", personal(ownerA.ID))
	foreign := f.key(a.ID, "owner of B", personal(ownerB.ID))
	lonely := f.key(a.ID, "not a member", personal(loner.ID))

	tests := []struct {
		name            string
		hash            [32]byte
		wantID          string
		wantOwnerActive bool
	}{
		{"current hash", company.Hash, company.ID, true},
		{"previous hash", *company.PreviousHash, company.ID, true},
		{"personal key of a member", mine.Hash, mine.ID, true},
		{"personal key of a member of another workspace", foreign.Hash, foreign.ID, false},
		{"personal key of a user in no workspace", lonely.Hash, lonely.ID, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := f.s.KeyByHash(f.ctx, tt.hash)
			wantCode(t, "KeyByHash", err, "")
			if got.ID != tt.wantID || got.OwnerActive != tt.wantOwnerActive {
				t.Fatalf("KeyByHash: got %s owner active %v, want %s owner active %v", got.ID, got.OwnerActive, tt.wantID, tt.wantOwnerActive)
			}
			// Key and Keys derive OwnerActive the same way.
			k, err := f.s.Key(f.ctx, a.ID, tt.wantID)
			if err != nil || k.OwnerActive != tt.wantOwnerActive {
				t.Fatalf("Key: got owner active %v (%v), want %v", k.OwnerActive, err, tt.wantOwnerActive)
			}
			list, _, err := f.s.Keys(f.ctx, latchkey.KeyFilter{WorkspaceID: a.ID, Owner: got.Owner})
			if err != nil {
				t.Fatalf("Keys: got %v, want nil", err)
			}
			for _, k := range list {
				if k.ID == tt.wantID && k.OwnerActive != tt.wantOwnerActive {
					t.Fatalf("Keys: got owner active %v, want %v", k.OwnerActive, tt.wantOwnerActive)
				}
			}
			lean, err := f.s.KeyForVerify(f.ctx, tt.hash)
			wantCode(t, "KeyForVerify", err, "")
			if lean.ID != tt.wantID || lean.OwnerActive != tt.wantOwnerActive {
				t.Fatalf("KeyForVerify: got %s owner active %v, want %s owner active %v", lean.ID, lean.OwnerActive, tt.wantID, tt.wantOwnerActive)
			}
			if tt.name == "current hash" {
				wantSame(t, "KeyByHash", got, company)
			}
		})
	}

	t.Run("unknown hash", func(t *testing.T) {
		_, err := f.s.KeyByHash(f.ctx, sha256.Sum256([]byte("nobody")))
		wantCode(t, "KeyByHash", err, latchkey.ENOTFOUND)
		_, err = f.s.KeyForVerify(f.ctx, sha256.Sum256([]byte("nobody")))
		wantCode(t, "KeyForVerify", err, latchkey.ENOTFOUND)
	})
	t.Run("reset moves the current hash to previous", func(t *testing.T) {
		newHash := sha256.Sum256([]byte("new company secret"))
		_, err := f.s.UpdateKey(f.ctx, a.ID, company.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.PreviousHash, k.Hash = ptr(k.Hash), newHash
			return ptr(f.event(a.ID, latchkey.EventKeyReset, k.ID)), nil
		})
		wantCode(t, "UpdateKey(reset)", err, "")
		for name, h := range map[string][32]byte{"new": newHash, "old current": company.Hash} {
			got, err := f.s.KeyByHash(f.ctx, h)
			if err != nil || got.ID != company.ID {
				t.Fatalf("KeyByHash(%s): got %v, %v, want %s", name, got, err, company.ID)
			}
		}
		_, err = f.s.KeyByHash(f.ctx, *company.PreviousHash)
		wantCode(t, "KeyByHash(replaced previous)", err, latchkey.ENOTFOUND)
	})
}
