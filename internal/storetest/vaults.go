package storetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// vault stores a vault named name in ws.
func (f *fixture) vault(ws, name string) *latchkey.Vault {
	f.t.Helper()
	v := &latchkey.Vault{ID: f.ids.New("vlt"), WorkspaceID: ws, Name: name,
		RevealRoles: []latchkey.Role{latchkey.RoleOwner}, RevealMembers: []string{"usr_x"}, CreatedBy: "usr_actor", CreatedAt: now}
	wantCode(f.t, "CreateVault", f.s.CreateVault(f.ctx, v, f.event(ws, latchkey.EventVaultCreated, v.ID)), "")
	return v
}

// secret returns a secret of v that is not stored yet; its sealed bytes
// are opaque to the store.
func (f *fixture) secret(v *latchkey.Vault, name string) *latchkey.VaultSecret {
	return &latchkey.VaultSecret{ID: f.ids.New("sec"), WorkspaceID: v.WorkspaceID, VaultID: v.ID, Name: name,
		CreatedBy: "usr_actor", CreatedAt: now, UpdatedAt: now,
		Sealed: latchkey.Sealed{Ciphertext: []byte("ct-" + name), WrappedKey: []byte("wk-" + name), KeeperID: "base64key:old"}}
}

func testVaults(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("CreateListAndSealedRoundTrip", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		v := f.vault(ws.ID, "Ops")
		got, err := f.s.Vault(f.ctx, ws.ID, v.ID)
		wantCode(t, "Vault", err, "")
		wantSame(t, "vault", got, v)
		dup := &latchkey.Vault{ID: f.ids.New("vlt"), WorkspaceID: ws.ID, Name: "Ops", CreatedAt: now}
		wantCode(t, "CreateVault same name", f.s.CreateVault(f.ctx, dup, f.event(ws.ID, latchkey.EventVaultCreated, dup.ID)), latchkey.ECONFLICT)
		sec := f.secret(v, "db password")
		wantCode(t, "CreateSecret", f.s.CreateSecret(f.ctx, sec, f.event(ws.ID, latchkey.EventSecretCreated, sec.ID)), "")
		back, err := f.s.VaultSecret(f.ctx, ws.ID, v.ID, sec.ID)
		wantCode(t, "VaultSecret", err, "")
		wantSame(t, "secret", back, sec)
		again := f.secret(v, "db password")
		wantCode(t, "CreateSecret same name", f.s.CreateSecret(f.ctx, again, f.event(ws.ID, latchkey.EventSecretCreated, again.ID)), latchkey.ECONFLICT)
		list, err := f.s.VaultSecrets(f.ctx, ws.ID, v.ID)
		if err != nil || len(list) != 1 || list[0].ID != sec.ID {
			t.Fatalf("VaultSecrets = %v, %v; want the one secret", list, err)
		}
		if got := f.eventsFor(ws.ID, sec.ID); !slices.Equal(got, []string{latchkey.EventSecretCreated}) {
			t.Fatalf("events: got %v", got)
		}
	})

	t.Run("AnotherWorkspaceSeesNothing", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "a@example.com")
		e, _ := f.workspace("E", "e@example.com")
		v := f.vault(a.ID, "Ops")
		sec := f.secret(v, "s")
		wantCode(t, "CreateSecret", f.s.CreateSecret(f.ctx, sec, f.event(a.ID, latchkey.EventSecretCreated, sec.ID)), "")
		_, err := f.s.Vault(f.ctx, e.ID, v.ID)
		wantCode(t, "Vault from E", err, latchkey.ENOTFOUND)
		_, err = f.s.VaultSecret(f.ctx, e.ID, v.ID, sec.ID)
		wantCode(t, "VaultSecret from E", err, latchkey.ENOTFOUND)
		if list, _ := f.s.Vaults(f.ctx, e.ID); len(list) != 0 {
			t.Fatalf("E lists A's vaults: %v", list)
		}
		// A secret written into A's vault under E's id, or into E with A's key.
		stray := f.secret(v, "stray")
		stray.WorkspaceID = e.ID
		wantCode(t, "CreateSecret into another workspace's vault", f.s.CreateSecret(f.ctx, stray, f.event(e.ID, latchkey.EventSecretCreated, stray.ID)), latchkey.ENOTFOUND)
		ev := f.vault(e.ID, "E vault")
		k := f.key(a.ID, "A key")
		linked := f.secret(ev, "A's key")
		linked.KeyID = k.ID
		wantCode(t, "CreateSecret linked to another workspace's key", f.s.CreateSecret(f.ctx, linked, f.event(e.ID, latchkey.EventSecretCreated, linked.ID)), latchkey.ENOTFOUND)
		wantCode(t, "DeleteSecret from E", f.s.DeleteSecret(f.ctx, e.ID, v.ID, sec.ID, f.event(e.ID, latchkey.EventSecretDeleted, sec.ID)), latchkey.ENOTFOUND)
		wantCode(t, "ReplaceSecret from E", f.s.ReplaceSecret(f.ctx, e.ID, sec.ID, latchkey.Sealed{Ciphertext: []byte("x"), WrappedKey: []byte("y"), KeeperID: "z"}, now, f.event(e.ID, latchkey.EventSecretReplaced, sec.ID)), latchkey.ENOTFOUND)
		wantCode(t, "DeleteVault from E", f.s.DeleteVault(f.ctx, e.ID, v.ID, f.event(e.ID, latchkey.EventVaultDeleted, v.ID)), latchkey.ENOTFOUND)
		if back, err := f.s.VaultSecret(f.ctx, a.ID, v.ID, sec.ID); err != nil || !bytes.Equal(back.Sealed.Ciphertext, sec.Sealed.Ciphertext) {
			t.Fatalf("A's secret after E's attempts: %v, %v", back, err)
		}
	})

	t.Run("LinkedToAKey", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		v := f.vault(ws.ID, "Keys")
		k := f.key(ws.ID, "linked")
		sec := f.secret(v, "linked key")
		sec.KeyID = k.ID
		wantCode(t, "CreateSecret", f.s.CreateSecret(f.ctx, sec, f.event(ws.ID, latchkey.EventSecretCreated, sec.ID)), "")
		second := f.secret(v, "second")
		second.KeyID = k.ID
		wantCode(t, "CreateSecret for the same key", f.s.CreateSecret(f.ctx, second, f.event(ws.ID, latchkey.EventSecretCreated, second.ID)), latchkey.ECONFLICT)
		got, err := f.s.KeySecret(f.ctx, ws.ID, k.ID)
		if err != nil || got.ID != sec.ID || got.KeyRevoked {
			t.Fatalf("KeySecret = %+v, %v", got, err)
		}
		next := latchkey.Sealed{Ciphertext: []byte("new ct"), WrappedKey: []byte("new wk"), KeeperID: "base64key:old"}
		later := now.Add(time.Hour)
		wantCode(t, "ReplaceSecret", f.s.ReplaceSecret(f.ctx, ws.ID, sec.ID, next, later, f.event(ws.ID, latchkey.EventSecretReplaced, sec.ID)), "")
		_, err = f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.RevokedAt = ptr(now)
			ev := f.event(ws.ID, latchkey.EventKeyRevoked, k.ID)
			return &ev, nil
		})
		wantCode(t, "UpdateKey", err, "")
		got, _ = f.s.KeySecret(f.ctx, ws.ID, k.ID)
		if !got.KeyRevoked || !bytes.Equal(got.Sealed.Ciphertext, next.Ciphertext) || !got.UpdatedAt.Equal(later) {
			t.Fatalf("after replace and revoke: %+v", got)
		}
		wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, ws.ID, k.ID, f.event(ws.ID, latchkey.EventKeyDeleted, k.ID)), "")
		_, err = f.s.VaultSecret(f.ctx, ws.ID, v.ID, sec.ID)
		wantCode(t, "VaultSecret after its key's deletion", err, latchkey.ENOTFOUND)
	})

	t.Run("DeleteVaultTakesItsSecrets", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		v := f.vault(ws.ID, "Gone")
		sec := f.secret(v, "s")
		wantCode(t, "CreateSecret", f.s.CreateSecret(f.ctx, sec, f.event(ws.ID, latchkey.EventSecretCreated, sec.ID)), "")
		wantCode(t, "DeleteVault", f.s.DeleteVault(f.ctx, ws.ID, v.ID, f.event(ws.ID, latchkey.EventVaultDeleted, v.ID)), "")
		wantCode(t, "DeleteVault again", f.s.DeleteVault(f.ctx, ws.ID, v.ID, f.event(ws.ID, latchkey.EventVaultDeleted, v.ID)), latchkey.ENOTFOUND)
		if refs, _ := f.s.SecretsNotWrappedBy(f.ctx, "none", 10); len(refs) != 0 {
			t.Fatalf("secrets outlived their vault: %v", refs)
		}
	})

	t.Run("RewrapComparesAndSwaps", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		v := f.vault(ws.ID, "V")
		a, b := f.secret(v, "a"), f.secret(v, "b")
		for _, s := range []*latchkey.VaultSecret{a, b} {
			wantCode(t, "CreateSecret", f.s.CreateSecret(f.ctx, s, f.event(ws.ID, latchkey.EventSecretCreated, s.ID)), "")
		}
		refs, err := f.s.SecretsNotWrappedBy(f.ctx, "base64key:new", 10)
		if err != nil || len(refs) != 2 {
			t.Fatalf("SecretsNotWrappedBy = %v, %v", refs, err)
		}
		next := latchkey.Sealed{Ciphertext: a.Sealed.Ciphertext, WrappedKey: []byte("rewrapped"), KeeperID: "base64key:new"}
		if ok, err := f.s.RewrapSecret(f.ctx, a.ID, a.Sealed, next); !ok || err != nil {
			t.Fatalf("RewrapSecret = %v, %v", ok, err)
		}
		// b's value was replaced after it was read: its rewrap is refused.
		replaced := latchkey.Sealed{Ciphertext: []byte("replaced"), WrappedKey: []byte("wk2"), KeeperID: "base64key:old"}
		wantCode(t, "ReplaceSecret", f.s.ReplaceSecret(f.ctx, ws.ID, b.ID, replaced, now, f.event(ws.ID, latchkey.EventSecretReplaced, b.ID)), "")
		stale := latchkey.Sealed{Ciphertext: b.Sealed.Ciphertext, WrappedKey: []byte("stale"), KeeperID: "base64key:new"}
		if ok, err := f.s.RewrapSecret(f.ctx, b.ID, b.Sealed, stale); ok || err != nil {
			t.Fatalf("stale RewrapSecret = %v, %v; want false", ok, err)
		}
		refs, _ = f.s.SecretsNotWrappedBy(f.ctx, "base64key:new", 10)
		if len(refs) != 1 || refs[0].ID != b.ID || !bytes.Equal(refs[0].Sealed.Ciphertext, replaced.Ciphertext) {
			t.Fatalf("left to rewrap: %+v", refs)
		}
	})

	t.Run("Keepers", func(t *testing.T) {
		f := newFixture(t, open)
		list, err := f.s.VaultKeepers(f.ctx)
		if err != nil || len(list) != 0 {
			t.Fatalf("VaultKeepers on an empty store = %v, %v", list, err)
		}
		old := latchkey.VaultKeeper{ID: "base64key:old", ActivatedAt: now}
		next := latchkey.VaultKeeper{ID: "awskms:new", URL: "awskms://alias/x?region=eu-west-1", ActivatedAt: now.Add(time.Minute)}
		wantCode(t, "ActivateVaultKeeper", f.s.ActivateVaultKeeper(f.ctx, old), "")
		wantCode(t, "ActivateVaultKeeper", f.s.ActivateVaultKeeper(f.ctx, next), "")
		list, _ = f.s.VaultKeepers(f.ctx)
		if len(list) != 2 || list[0].ID != next.ID || list[0].URL != next.URL {
			t.Fatalf("keepers: %+v", list)
		}
		old.ActivatedAt = now.Add(time.Hour)
		wantCode(t, "ActivateVaultKeeper again", f.s.ActivateVaultKeeper(f.ctx, old), "")
		if list, _ = f.s.VaultKeepers(f.ctx); len(list) != 2 || list[0].ID != old.ID {
			t.Fatalf("after reactivating the old keeper: %+v", list)
		}
	})
}
