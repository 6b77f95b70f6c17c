package storeguard

// The guarded calls of latchkey.SignInStore.

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

// CreateSignInSession calls the store's CreateSignInSession under the deadline.
func (st *Store) CreateSignInSession(ctx context.Context, s *latchkey.Session, in latchkey.SignIn) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateSignInSession(ctx, s, in) })
}

// SignInSession calls the store's SignInSession under the deadline.
func (st *Store) SignInSession(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Session, *latchkey.SignIn, error) {
	type pair struct {
		a *latchkey.Session
		b *latchkey.SignIn
	}
	p, err := guard(st, ctx, st.timeout, false, func(ctx context.Context) (pair, error) {
		a, b, err := st.Store.SignInSession(ctx, hash, now)
		return pair{a, b}, err
	})
	return p.a, p.b, err
}

// ReplaceSession calls the store's ReplaceSession under the deadline.
func (st *Store) ReplaceSession(ctx context.Context, old [32]byte, s *latchkey.Session, in latchkey.SignIn, evs []latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.ReplaceSession(ctx, old, s, in, evs) })
}

// TOTP calls the store's TOTP under the deadline.
func (st *Store) TOTP(ctx context.Context, userID string) (*latchkey.TOTP, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.TOTP, error) { return st.Store.TOTP(ctx, userID) })
}

// StartTOTP calls the store's StartTOTP under the deadline.
func (st *Store) StartTOTP(ctx context.Context, t *latchkey.TOTP) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.StartTOTP(ctx, t) })
}

// ConfirmTOTP calls the store's ConfirmTOTP under the deadline.
func (st *Store) ConfirmTOTP(ctx context.Context, userID string, at time.Time, step int64, codes [][32]byte, evs []latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.ConfirmTOTP(ctx, userID, at, step, codes, evs) })
}

// UseTOTPStep calls the store's UseTOTPStep under the deadline.
func (st *Store) UseTOTPStep(ctx context.Context, userID string, step int64) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.UseTOTPStep(ctx, userID, step) })
}

// DeleteTOTP calls the store's DeleteTOTP under the deadline.
func (st *Store) DeleteTOTP(ctx context.Context, userID string, evs []latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.DeleteTOTP(ctx, userID, evs) })
}

// RecoveryCodes calls the store's RecoveryCodes under the deadline.
func (st *Store) RecoveryCodes(ctx context.Context, userID string) ([]latchkey.RecoveryCode, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) ([]latchkey.RecoveryCode, error) { return st.Store.RecoveryCodes(ctx, userID) })
}

// UseRecoveryCode calls the store's UseRecoveryCode under the deadline.
func (st *Store) UseRecoveryCode(ctx context.Context, userID string, id int64, at time.Time, evs []latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.UseRecoveryCode(ctx, userID, id, at, evs) })
}

// ReplaceRecoveryCodes calls the store's ReplaceRecoveryCodes under the deadline.
func (st *Store) ReplaceRecoveryCodes(ctx context.Context, userID string, codes [][32]byte, at time.Time, evs []latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.ReplaceRecoveryCodes(ctx, userID, codes, at, evs) })
}

// SSOConfig calls the store's SSOConfig under the deadline.
func (st *Store) SSOConfig(ctx context.Context, workspaceID string) (*latchkey.SSOConfig, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.SSOConfig, error) { return st.Store.SSOConfig(ctx, workspaceID) })
}

// UpdateSSOConfig calls the store's UpdateSSOConfig under the deadline.
func (st *Store) UpdateSSOConfig(ctx context.Context, workspaceID string, fn func(c *latchkey.SSOConfig) (*latchkey.Event, error)) (*latchkey.SSOConfig, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.SSOConfig, error) {
		return st.Store.UpdateSSOConfig(ctx, workspaceID, fn)
	})
}

// AddSSODomain calls the store's AddSSODomain under the deadline.
func (st *Store) AddSSODomain(ctx context.Context, workspaceID string, d latchkey.SSODomain, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.AddSSODomain(ctx, workspaceID, d, ev) })
}

// VerifySSODomain calls the store's VerifySSODomain under the deadline.
func (st *Store) VerifySSODomain(ctx context.Context, workspaceID, domain string, at time.Time, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.VerifySSODomain(ctx, workspaceID, domain, at, ev) })
}

// RemoveSSODomain calls the store's RemoveSSODomain under the deadline.
func (st *Store) RemoveSSODomain(ctx context.Context, workspaceID, domain string, ev latchkey.Event) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.RemoveSSODomain(ctx, workspaceID, domain, ev) })
}

// SSOByDomain calls the store's SSOByDomain under the deadline.
func (st *Store) SSOByDomain(ctx context.Context, domain string) (*latchkey.SSOConfig, error) {
	return guard(st, ctx, st.timeout, false, func(ctx context.Context) (*latchkey.SSOConfig, error) { return st.Store.SSOByDomain(ctx, domain) })
}

// CreateSSOState calls the store's CreateSSOState under the deadline.
func (st *Store) CreateSSOState(ctx context.Context, state *latchkey.SSOState) error {
	return exec(st, ctx, st.timeout, true, func(ctx context.Context) error { return st.Store.CreateSSOState(ctx, state) })
}

// TakeSSOState calls the store's TakeSSOState under the deadline.
func (st *Store) TakeSSOState(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.SSOState, error) {
	return guard(st, ctx, st.timeout, true, func(ctx context.Context) (*latchkey.SSOState, error) { return st.Store.TakeSSOState(ctx, hash, now) })
}
