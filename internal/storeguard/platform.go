package storeguard

// The platform store's calls, each under its deadline, like methods.go.

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

// CreatePlatformKey calls the store's CreatePlatformKey under the deadline.
func (st *Store) CreatePlatformKey(ctx context.Context, k *latchkey.PlatformKey, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreatePlatformKey(ctx, k, ev) })
}

// PlatformKeys calls the store's PlatformKeys under the deadline.
func (st *Store) PlatformKeys(ctx context.Context) ([]*latchkey.PlatformKey, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.PlatformKey, error) { return st.Store.PlatformKeys(ctx) })
}

// PlatformKeyByHash calls the store's PlatformKeyByHash under the deadline.
func (st *Store) PlatformKeyByHash(ctx context.Context, h [32]byte) (*latchkey.PlatformKey, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.PlatformKey, error) { return st.Store.PlatformKeyByHash(ctx, h) })
}

// RevokePlatformKey calls the store's RevokePlatformKey under the deadline.
func (st *Store) RevokePlatformKey(ctx context.Context, id string, at time.Time, by string, ev latchkey.Event) (*latchkey.PlatformKey, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.PlatformKey, error) {
		return st.Store.RevokePlatformKey(ctx, id, at, by, ev)
	})
}

// ProvisionWorkspace calls the store's ProvisionWorkspace under the deadline.
func (st *Store) ProvisionWorkspace(ctx context.Context, ws *latchkey.Workspace, product, externalID, keyID string, ev latchkey.Event) (*latchkey.ProvisionedWorkspace, bool, error) {
	var created bool
	w, err := guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.ProvisionedWorkspace, error) {
		w, c, err := st.Store.ProvisionWorkspace(ctx, ws, product, externalID, keyID, ev)
		created = c
		return w, err
	})
	return w, created, err
}

// ProvisionedWorkspaces calls the store's ProvisionedWorkspaces under the deadline.
func (st *Store) ProvisionedWorkspaces(ctx context.Context, product, externalID string) ([]*latchkey.ProvisionedWorkspace, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]*latchkey.ProvisionedWorkspace, error) {
		return st.Store.ProvisionedWorkspaces(ctx, product, externalID)
	})
}

// WorkspaceProduct calls the store's WorkspaceProduct under the deadline.
func (st *Store) WorkspaceProduct(ctx context.Context, workspaceID string) (string, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (string, error) { return st.Store.WorkspaceProduct(ctx, workspaceID) })
}

// SyncPortalMember calls the store's SyncPortalMember under the deadline.
func (st *Store) SyncPortalMember(ctx context.Context, workspaceID, externalID string, newUser *latchkey.User, role latchkey.Role, fn func(prev *latchkey.Member) (*latchkey.Event, error)) (*latchkey.Member, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.Member, error) {
		return st.Store.SyncPortalMember(ctx, workspaceID, externalID, newUser, role, fn)
	})
}

// PortalIdentity calls the store's PortalIdentity under the deadline.
func (st *Store) PortalIdentity(ctx context.Context, workspaceID, externalID string) (*latchkey.PortalIdentity, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.PortalIdentity, error) {
		return st.Store.PortalIdentity(ctx, workspaceID, externalID)
	})
}

// PortalIdentityOf calls the store's PortalIdentityOf under the deadline.
func (st *Store) PortalIdentityOf(ctx context.Context, userID string) (*latchkey.PortalIdentity, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.PortalIdentity, error) {
		return st.Store.PortalIdentityOf(ctx, userID)
	})
}

// CreatePortalToken calls the store's CreatePortalToken under the deadline.
func (st *Store) CreatePortalToken(ctx context.Context, t *latchkey.PortalToken, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreatePortalToken(ctx, t, ev) })
}

// RedeemPortalToken calls the store's RedeemPortalToken under the deadline.
func (st *Store) RedeemPortalToken(ctx context.Context, hash [32]byte, now time.Time, sess *latchkey.Session) (*latchkey.PortalToken, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.PortalToken, error) {
		return st.Store.RedeemPortalToken(ctx, hash, now, sess)
	})
}
