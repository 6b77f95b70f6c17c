package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

func (s *Store) ssoConfig(ctx context.Context, c Conn, where string, arg any) (*latchkey.SSOConfig, error) {
	cfg := latchkey.SSOConfig{}
	err := c.QueryRow(ctx, `SELECT c.workspace_id, c.issuer, c.client_id, c.sealed_secret, c.require_sso, c.just_in_time, c.updated_at
		FROM sso_configs c WHERE `+where, arg).
		Scan(&cfg.WorkspaceID, &cfg.Issuer, &cfg.ClientID, &cfg.SealedSecret, &cfg.RequireSSO, &cfg.JustInTime, &cfg.UpdatedAt)
	if err != nil {
		return nil, err
	}
	if cfg.Domains, err = s.ssoDomains(ctx, c, cfg.WorkspaceID); err != nil {
		return nil, err
	}
	return &cfg, nil
}

func (s *Store) ssoDomains(ctx context.Context, c Conn, workspaceID string) ([]latchkey.SSODomain, error) {
	rows, err := c.Query(ctx, `SELECT domain, token, created_at, verified_at FROM sso_domains WHERE workspace_id = ? ORDER BY domain`, workspaceID)
	return collect(rows, err, func(r Row) (latchkey.SSODomain, error) {
		var d latchkey.SSODomain
		err := r.Scan(&d.Domain, &d.Token, &d.CreatedAt, &d.VerifiedAt)
		return d, err
	})
}

// SSOConfig returns a workspace's sign-on with its domains; ENOTFOUND if
// it has neither a configuration nor a domain.
func (s *Store) SSOConfig(ctx context.Context, workspaceID string) (*latchkey.SSOConfig, error) {
	cfg, err := s.ssoConfig(ctx, s.read, `c.workspace_id = ?`, workspaceID)
	if errors.Is(err, sql.ErrNoRows) {
		ds, derr := s.ssoDomains(ctx, s.read, workspaceID)
		if derr == nil && len(ds) > 0 {
			return &latchkey.SSOConfig{WorkspaceID: workspaceID, Domains: ds}, nil
		}
	}
	if err != nil {
		return nil, s.notFound(err, "single sign-on")
	}
	return cfg, nil
}

// UpdateSSOConfig applies fn to the workspace's sign-on in a transaction.
func (s *Store) UpdateSSOConfig(ctx context.Context, workspaceID string, fn func(c *latchkey.SSOConfig) (*latchkey.Event, error)) (*latchkey.SSOConfig, error) {
	var out *latchkey.SSOConfig
	err := s.inTx(ctx, func(tx Conn) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		cfg, err := s.ssoConfig(ctx, tx, `c.workspace_id = ?`, workspaceID)
		exists := err == nil
		switch {
		case errors.Is(err, sql.ErrNoRows):
			cfg = &latchkey.SSOConfig{WorkspaceID: workspaceID}
			if cfg.Domains, err = s.ssoDomains(ctx, tx, workspaceID); err != nil {
				return s.wrap(err, "single sign-on")
			}
		case err != nil:
			return s.wrap(err, "single sign-on")
		}
		ev, err := fn(cfg)
		if err != nil {
			return err
		}
		out = cfg
		if ev == nil {
			return nil
		}
		cfg.WorkspaceID = workspaceID
		if exists {
			_, err = tx.Exec(ctx, `UPDATE sso_configs SET issuer = ?, client_id = ?, sealed_secret = ?, require_sso = ?,
				just_in_time = ?, updated_at = ? WHERE workspace_id = ?`,
				cfg.Issuer, cfg.ClientID, cfg.SealedSecret, cfg.RequireSSO, cfg.JustInTime, cfg.UpdatedAt, workspaceID)
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO sso_configs (workspace_id, issuer, client_id, sealed_secret, require_sso, just_in_time, updated_at)
				VALUES (?, ?, ?, ?, ?, ?, ?)`,
				workspaceID, cfg.Issuer, cfg.ClientID, cfg.SealedSecret, cfg.RequireSSO, cfg.JustInTime, cfg.UpdatedAt)
		}
		if err != nil {
			return s.wrap(err, "store single sign-on")
		}
		return s.insertEvents(ctx, tx, workspaceID, []latchkey.Event{*ev})
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// AddSSODomain claims a domain for the workspace, unverified.
func (s *Store) AddSSODomain(ctx context.Context, workspaceID string, d latchkey.SSODomain, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		_, err := tx.Exec(ctx, `INSERT INTO sso_domains (workspace_id, domain, token, created_at) VALUES (?, ?, ?, ?)`,
			workspaceID, d.Domain, d.Token, d.CreatedAt)
		switch {
		case s.isUnique(err, AnyConstraint):
			return latchkey.Errorf(latchkey.ECONFLICT, "this workspace claims %s already", d.Domain).WithDetail("field", "domain")
		case s.isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		case err != nil:
			return s.wrap(err, "add domain")
		}
		return s.insertEvents(ctx, tx, workspaceID, []latchkey.Event{ev})
	})
}

// VerifySSODomain marks the workspace's claim verified. The unique index
// on verified domains decides a race between two workspaces.
func (s *Store) VerifySSODomain(ctx context.Context, workspaceID, domain string, at time.Time, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `UPDATE sso_domains SET verified_at = ? WHERE workspace_id = ? AND domain = ? AND verified_at IS NULL`,
			at, workspaceID, domain)
		switch {
		case s.isUnique(err, AnyConstraint):
			return latchkey.Errorf(latchkey.ECONFLICT, "%s is verified by another workspace", domain).WithDetail("field", "domain")
		case err != nil:
			return s.wrap(err, "verify domain")
		case n == 0:
			var v *time.Time
			err := tx.QueryRow(ctx, `SELECT verified_at FROM sso_domains WHERE workspace_id = ? AND domain = ?`, workspaceID, domain).Scan(&v)
			if err != nil {
				return s.notFound(err, "domain")
			}
			return nil // verified already: nothing to record
		}
		return s.insertEvents(ctx, tx, workspaceID, []latchkey.Event{ev})
	})
}

// RemoveSSODomain drops a claim.
func (s *Store) RemoveSSODomain(ctx context.Context, workspaceID, domain string, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		n, err := tx.Exec(ctx, `DELETE FROM sso_domains WHERE workspace_id = ? AND domain = ?`, workspaceID, domain)
		if err != nil {
			return s.wrap(err, "remove domain")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "domain not found")
		}
		return s.insertEvents(ctx, tx, workspaceID, []latchkey.Event{ev})
	})
}

// SSOByDomain returns the sign-on of the workspace that verified domain.
func (s *Store) SSOByDomain(ctx context.Context, domain string) (*latchkey.SSOConfig, error) {
	cfg, err := s.ssoConfig(ctx, s.read, `c.workspace_id = (SELECT workspace_id FROM sso_domains WHERE domain = ? AND verified_at IS NOT NULL)`, domain)
	if err != nil {
		return nil, s.notFound(err, "single sign-on")
	}
	return cfg, nil
}

// CreateSSOState stores an authorization request in flight, and sweeps
// the expired ones so abandoned requests do not pile up.
func (s *Store) CreateSSOState(ctx context.Context, st *latchkey.SSOState) error {
	return s.inTx(ctx, func(tx Conn) error {
		if _, err := tx.Exec(ctx, `DELETE FROM sso_states WHERE expires_at < ?`, st.ExpiresAt.Add(-time.Hour)); err != nil {
			return s.wrap(err, "sweep sign-on requests")
		}
		_, err := tx.Exec(ctx, `INSERT INTO sso_states (hash, workspace_id, email, nonce, verifier, next, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
			st.Hash[:], st.WorkspaceID, st.Email, st.Nonce, st.Verifier, st.Next, st.ExpiresAt)
		switch {
		case s.isUnique(err, AnyConstraint):
			return latchkey.Errorf(latchkey.ECONFLICT, "sign-on request already exists")
		case s.isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		return s.wrap(err, "store sign-on request")
	})
}

// TakeSSOState deletes and returns an unexpired request: a state works once.
func (s *Store) TakeSSOState(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.SSOState, error) {
	st := latchkey.SSOState{Hash: hash}
	err := s.write.QueryRow(ctx, `DELETE FROM sso_states WHERE hash = ?
		RETURNING workspace_id, email, nonce, verifier, next, expires_at`, hash[:]).
		Scan(&st.WorkspaceID, &st.Email, &st.Nonce, &st.Verifier, &st.Next, &st.ExpiresAt)
	if err != nil {
		return nil, s.notFound(err, "sign-on request")
	}
	if !st.ExpiresAt.After(now) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "sign-on request not found")
	}
	return &st, nil
}
