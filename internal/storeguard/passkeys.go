package storeguard

// The guarded calls of latchkey.PasskeyStore.

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

// Passkeys calls the store's Passkeys under the deadline.
func (st *Store) Passkeys(ctx context.Context, userID string) ([]latchkey.Passkey, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]latchkey.Passkey, error) { return st.Store.Passkeys(ctx, userID) })
}

// PasskeyByCredential calls the store's PasskeyByCredential under the deadline.
func (st *Store) PasskeyByCredential(ctx context.Context, credentialID []byte) (*latchkey.Passkey, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.Passkey, error) {
		return st.Store.PasskeyByCredential(ctx, credentialID)
	})
}

// CreatePasskey calls the store's CreatePasskey under the deadline.
func (st *Store) CreatePasskey(ctx context.Context, p *latchkey.Passkey, evs []latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreatePasskey(ctx, p, evs) })
}

// RenamePasskey calls the store's RenamePasskey under the deadline.
func (st *Store) RenamePasskey(ctx context.Context, userID, id, name string) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.RenamePasskey(ctx, userID, id, name) })
}

// DeletePasskey calls the store's DeletePasskey under the deadline.
func (st *Store) DeletePasskey(ctx context.Context, userID, id string, evs []latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.DeletePasskey(ctx, userID, id, evs) })
}

// UsePasskey calls the store's UsePasskey under the deadline.
func (st *Store) UsePasskey(ctx context.Context, id string, count uint32, at time.Time) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.UsePasskey(ctx, id, count, at) })
}

// PutPasskeyCeremony calls the store's PutPasskeyCeremony under the deadline.
func (st *Store) PutPasskeyCeremony(ctx context.Context, c *latchkey.PasskeyCeremony) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.PutPasskeyCeremony(ctx, c) })
}

// TakePasskeyCeremony calls the store's TakePasskeyCeremony under the deadline.
func (st *Store) TakePasskeyCeremony(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.PasskeyCeremony, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.PasskeyCeremony, error) {
		return st.Store.TakePasskeyCeremony(ctx, hash, now)
	})
}
