package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

// SyncPortalMember makes a product's person a member; see
// latchkey.PlatformStore. It holds the workspace's row, like every
// membership change, so the last-owner check cannot race.
func (s *Store) SyncPortalMember(ctx context.Context, workspaceID, externalID string, newUser *latchkey.User, role latchkey.Role, fn func(prev *latchkey.Member) (*latchkey.Event, error)) (*latchkey.Member, error) {
	if !role.Valid() {
		return nil, invalidRole(role)
	}
	var out *latchkey.Member
	err := s.inTx(ctx, func(tx Conn) error {
		if err := s.lockWorkspace(ctx, tx, workspaceID); err != nil {
			return err
		}
		var userID string
		err := tx.QueryRow(ctx, `SELECT user_id FROM portal_identities WHERE workspace_id = ? AND external_id = ?`,
			workspaceID, externalID).Scan(&userID)
		switch {
		case err == nil:
			// The product's word on its person's address and name is
			// kept: the identity is the product's and this workspace's.
			if _, err := tx.Exec(ctx, `UPDATE users SET email = ?, name = ? WHERE id = ? AND NOT claimed`,
				newUser.Email, newUser.Name, userID); err != nil {
				return s.wrap(err, "update portal identity")
			}
		case errors.Is(err, sql.ErrNoRows):
			newUser.Claimed, newUser.PasswordHash, newUser.Operator = false, "", false
			if err := s.insertUser(ctx, tx, newUser); err != nil {
				return err
			}
			userID = newUser.ID
			if _, err := tx.Exec(ctx, `INSERT INTO portal_identities (user_id, workspace_id, external_id) VALUES (?, ?, ?)`,
				userID, workspaceID, externalID); err != nil {
				return s.wrap(err, "bind portal identity")
			}
		default:
			return s.wrap(err, "portal identity")
		}
		prev, err := scanMember(tx.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`, workspaceID, userID))
		if err != nil {
			if err := s.notFound(err, "member"); !latchkey.IsNotFound(err) {
				return err
			}
			prev = nil
		}
		ev, err := fn(prev)
		if err != nil {
			return err
		}
		switch {
		case prev == nil:
			_, err = tx.Exec(ctx, `INSERT INTO members (workspace_id, user_id, role, active, created_at) VALUES (?, ?, ?, TRUE, ?)`,
				workspaceID, userID, string(role), newUser.CreatedAt)
		case prev.Role != role || !prev.Active:
			if isActiveOwner(prev) && role != latchkey.RoleOwner {
				if err := s.needOtherOwner(ctx, tx, workspaceID, userID); err != nil {
					return err
				}
			}
			_, err = tx.Exec(ctx, `UPDATE members SET role = ?, active = TRUE WHERE workspace_id = ? AND user_id = ?`,
				string(role), workspaceID, userID)
		}
		if err != nil {
			return s.wrap(err, "sync member")
		}
		if ev != nil {
			if ev.WorkspaceID == "" {
				ev.WorkspaceID = workspaceID
			}
			if err := s.insertEvent(ctx, tx, ev); err != nil {
				return err
			}
		}
		out, err = scanMember(tx.QueryRow(ctx, memberSelect+`WHERE m.workspace_id = ? AND m.user_id = ?`, workspaceID, userID))
		return s.wrap(err, "sync member")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func scanPortalIdentity(row Row) (*latchkey.PortalIdentity, error) {
	var p latchkey.PortalIdentity
	return &p, row.Scan(&p.UserID, &p.WorkspaceID, &p.ExternalID)
}

// PortalIdentity returns the identity of a product's person in a workspace.
func (s *Store) PortalIdentity(ctx context.Context, workspaceID, externalID string) (*latchkey.PortalIdentity, error) {
	p, err := scanPortalIdentity(s.read.QueryRow(ctx, `SELECT user_id, workspace_id, external_id FROM portal_identities
		WHERE workspace_id = ? AND external_id = ?`, workspaceID, externalID))
	if err != nil {
		return nil, s.notFound(err, "portal identity")
	}
	return p, nil
}

// PortalIdentityOf returns the portal identity a user is, if any.
func (s *Store) PortalIdentityOf(ctx context.Context, userID string) (*latchkey.PortalIdentity, error) {
	p, err := scanPortalIdentity(s.read.QueryRow(ctx, `SELECT user_id, workspace_id, external_id FROM portal_identities
		WHERE user_id = ?`, userID))
	if err != nil {
		return nil, s.notFound(err, "portal identity")
	}
	return p, nil
}

// CreatePortalToken stores a one-time sign-in link with its event.
func (s *Store) CreatePortalToken(ctx context.Context, t *latchkey.PortalToken, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		_, err := tx.Exec(ctx, `INSERT INTO portal_tokens (hash, user_id, workspace_id, key_id, return_url, created_at, expires_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, t.Hash[:], t.UserID, t.WorkspaceID, t.KeyID, t.ReturnURL, t.CreatedAt, t.ExpiresAt)
		switch {
		case s.isUnique(err, AnyConstraint):
			return latchkey.Errorf(latchkey.ECONFLICT, "portal link already exists")
		case s.isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "user or workspace not found")
		case err != nil:
			return s.wrap(err, "create portal link")
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// RedeemPortalToken uses a link once and opens its session; the UPDATE
// that marks it used is the claim, so of two redemptions at once only one
// changes a row.
func (s *Store) RedeemPortalToken(ctx context.Context, hash [32]byte, now time.Time, sess *latchkey.Session) (*latchkey.PortalToken, error) {
	var out *latchkey.PortalToken
	err := s.inTx(ctx, func(tx Conn) error {
		t := latchkey.PortalToken{Hash: hash}
		err := tx.QueryRow(ctx, `UPDATE portal_tokens SET used_at = ?1
			WHERE hash = ?2 AND used_at IS NULL AND expires_at > ?1
			AND EXISTS (SELECT 1 FROM members m WHERE m.workspace_id = portal_tokens.workspace_id
				AND m.user_id = portal_tokens.user_id AND m.active)
			RETURNING user_id, workspace_id, key_id, return_url, created_at, expires_at`, now, hash[:]).
			Scan(&t.UserID, &t.WorkspaceID, &t.KeyID, &t.ReturnURL, &t.CreatedAt, &t.ExpiresAt)
		if err != nil {
			return s.notFound(err, "portal link")
		}
		sess.UserID = t.UserID
		if _, err := tx.Exec(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			sess.Hash[:], sess.UserID, sess.CreatedAt, sess.ExpiresAt); err != nil {
			return s.wrap(err, "create session")
		}
		out = &t
		return nil
	})
	return out, err
}
