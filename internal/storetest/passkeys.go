package storetest

import (
	"crypto/sha256"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testPasskeys(t *testing.T, f *fixture, ws *latchkey.Workspace, owner *latchkey.User) {
	ev := func(action string) []latchkey.Event { return []latchkey.Event{f.event(ws.ID, action, owner.ID)} }
	other := f.member(ws.ID, "other@acme.test", latchkey.RoleMember)
	pk := &latchkey.Passkey{ID: "pk_1", UserID: owner.ID, CredentialID: []byte("cred-1"), PublicKey: []byte("cose"),
		SignCount: 5, Transports: []string{"internal", "hybrid"}, AAGUID: make([]byte, 16), Flags: 3, Attestation: "none",
		Name: "Laptop", CreatedAt: now}
	wantCode(t, "CreatePasskey", f.s.CreatePasskey(f.ctx, pk, ev(latchkey.EventPasskeyAdded)), "")
	dup := *pk
	dup.ID, dup.UserID = "pk_2", other.ID
	wantCode(t, "CreatePasskey(same credential, another user)", f.s.CreatePasskey(f.ctx, &dup, nil), latchkey.ECONFLICT)
	dup.ID, dup.UserID, dup.CredentialID = "pk_3", "usr_nobody", []byte("cred-3")
	wantCode(t, "CreatePasskey(unknown user)", f.s.CreatePasskey(f.ctx, &dup, nil), latchkey.ENOTFOUND)

	list, err := f.s.Passkeys(f.ctx, owner.ID)
	wantCode(t, "Passkeys", err, "")
	if len(list) != 1 {
		t.Fatalf("Passkeys: got %d, want 1", len(list))
	}
	wantSame(t, "Passkeys", &list[0], pk)
	if list, _ := f.s.Passkeys(f.ctx, other.ID); len(list) != 0 {
		t.Fatalf("Passkeys(other): got %d, want 0", len(list))
	}
	got, err := f.s.PasskeyByCredential(f.ctx, []byte("cred-1"))
	wantCode(t, "PasskeyByCredential", err, "")
	wantSame(t, "PasskeyByCredential", got, pk)
	_, err = f.s.PasskeyByCredential(f.ctx, []byte("cred-x"))
	wantCode(t, "PasskeyByCredential(unknown)", err, latchkey.ENOTFOUND)

	wantCode(t, "RenamePasskey(another user's)", f.s.RenamePasskey(f.ctx, other.ID, pk.ID, "Mine now"), latchkey.ENOTFOUND)
	wantCode(t, "RenamePasskey", f.s.RenamePasskey(f.ctx, owner.ID, pk.ID, "Work laptop"), "")

	// The counter only moves forward; of two uses with one value, one wins.
	wantCode(t, "UsePasskey(same count)", f.s.UsePasskey(f.ctx, pk.ID, 5, now), latchkey.ECONFLICT)
	wantCode(t, "UsePasskey(lower count)", f.s.UsePasskey(f.ctx, pk.ID, 4, now), latchkey.ECONFLICT)
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i := range errs {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f.s.UsePasskey(f.ctx, pk.ID, 9, now.Add(time.Minute)) }()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) {
		t.Fatalf("two UsePasskey with one counter: got %v and %v, want one success", errs[0], errs[1])
	}
	got, _ = f.s.PasskeyByCredential(f.ctx, []byte("cred-1"))
	if got.SignCount != 9 || got.LastUsedAt == nil || got.Name != "Work laptop" {
		t.Fatalf("after use: got count %d, last used %v, name %q", got.SignCount, got.LastUsedAt, got.Name)
	}
	wantCode(t, "UsePasskey(unknown)", f.s.UsePasskey(f.ctx, "pk_nope", 10, now), latchkey.ENOTFOUND)
	zero := &latchkey.Passkey{ID: "pk_4", UserID: owner.ID, CredentialID: []byte("cred-4"), PublicKey: []byte("k"), Name: "Key", CreatedAt: now.Add(time.Second)}
	wantCode(t, "CreatePasskey(no counter)", f.s.CreatePasskey(f.ctx, zero, nil), "")
	wantCode(t, "UsePasskey(no counter)", f.s.UsePasskey(f.ctx, zero.ID, 0, now), "")
	wantCode(t, "UsePasskey(no counter, again)", f.s.UsePasskey(f.ctx, zero.ID, 0, now), "")

	wantCode(t, "DeletePasskey(another user's)", f.s.DeletePasskey(f.ctx, other.ID, pk.ID, nil), latchkey.ENOTFOUND)
	wantCode(t, "DeletePasskey", f.s.DeletePasskey(f.ctx, owner.ID, pk.ID, ev(latchkey.EventPasskeyRemoved)), "")
	wantCode(t, "DeletePasskey(again)", f.s.DeletePasskey(f.ctx, owner.ID, pk.ID, nil), latchkey.ENOTFOUND)
	acts := f.eventsFor(ws.ID, owner.ID)
	for _, want := range []string{latchkey.EventPasskeyAdded, latchkey.EventPasskeyRemoved} {
		found := false
		for _, a := range acts {
			found = found || a == want
		}
		if !found {
			t.Errorf("events: got %v, want %s among them", acts, want)
		}
	}

	// A ceremony is taken once, and not after it expired.
	c := &latchkey.PasskeyCeremony{Hash: sha256.Sum256([]byte("ceremony")), Kind: latchkey.CeremonyRegister, UserID: owner.ID,
		Data: []byte(`{"challenge":"x"}`), ExpiresAt: now.Add(5 * time.Minute)}
	wantCode(t, "PutPasskeyCeremony", f.s.PutPasskeyCeremony(f.ctx, c), "")
	c.Data = []byte(`{"challenge":"y"}`)
	wantCode(t, "PutPasskeyCeremony(replace)", f.s.PutPasskeyCeremony(f.ctx, c), "")
	took, err := f.s.TakePasskeyCeremony(f.ctx, c.Hash, now)
	wantCode(t, "TakePasskeyCeremony", err, "")
	wantSame(t, "TakePasskeyCeremony", took, c)
	_, err = f.s.TakePasskeyCeremony(f.ctx, c.Hash, now)
	wantCode(t, "TakePasskeyCeremony(twice)", err, latchkey.ENOTFOUND)
	wantCode(t, "PutPasskeyCeremony(again)", f.s.PutPasskeyCeremony(f.ctx, c), "")
	_, err = f.s.TakePasskeyCeremony(f.ctx, c.Hash, c.ExpiresAt)
	wantCode(t, "TakePasskeyCeremony(expired)", err, latchkey.ENOTFOUND)
}
