package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

// CreateInvite stores a one-time invite for an unclaimed member. ECONFLICT
// if the hash exists or the user is claimed (an invite would let its
// holder take the account), ENOTFOUND if the user or the workspace does
// not exist.
func (db *DB) CreateInvite(ctx context.Context, inv *latchkey.Invite) error {
	return db.inTx(ctx, func(tx *sql.Tx) error { return insertInvite(ctx, tx, inv) })
}

func insertInvite(ctx context.Context, tx *sql.Tx, inv *latchkey.Invite) error {
	var claimed bool
	err := tx.QueryRowContext(ctx, `SELECT claimed FROM users WHERE id = ?`, inv.UserID).Scan(&claimed)
	if err != nil {
		return notFound(err, "user")
	}
	if claimed {
		return latchkey.Errorf(latchkey.ECONFLICT, "the user has claimed their account already")
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO invites (hash, user_id, workspace_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, inv.Hash[:], inv.UserID, inv.WorkspaceID, micros(inv.CreatedAt), micros(inv.ExpiresAt))
	switch {
	case isUnique(err, ""):
		return latchkey.Errorf(latchkey.ECONFLICT, "invite already exists")
	case isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	case err != nil:
		return fmt.Errorf("sqlite: create invite: %w", err)
	}
	return nil
}

// inviteSelect finds a live invite whose identity is still a member of the
// invite's workspace and unclaimed.
const inviteSelect = `SELECT i.user_id, i.workspace_id, i.created_at, i.expires_at FROM invites i
	JOIN users u ON u.id = i.user_id
	JOIN members m ON m.workspace_id = i.workspace_id AND m.user_id = i.user_id
	WHERE i.hash = ? AND i.expires_at > ? AND NOT u.claimed`

func findInvite(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, hash [32]byte, now time.Time) (*latchkey.Invite, *latchkey.User, error) {
	inv := &latchkey.Invite{Hash: hash}
	var created, expires int64
	err := q.QueryRowContext(ctx, inviteSelect, hash[:], micros(now)).Scan(&inv.UserID, &inv.WorkspaceID, &created, &expires)
	if err != nil {
		return nil, nil, notFound(err, "invite")
	}
	inv.CreatedAt, inv.ExpiresAt = fromMicros(created), fromMicros(expires)
	u, err := scanUser(q.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, inv.UserID))
	if err != nil {
		return nil, nil, fmt.Errorf("sqlite: invite: %w", err)
	}
	return inv, u, nil
}

// InviteOf returns a live invite and its identity; ENOTFOUND if it is
// missing, used or expired.
func (db *DB) InviteOf(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Invite, *latchkey.User, error) {
	return findInvite(ctx, db.read, hash, now)
}

// AcceptInvite consumes a live invite; see latchkey.InviteClaim. Every
// invite of the identity goes with it: an invite works once.
func (db *DB) AcceptInvite(ctx context.Context, hash [32]byte, now time.Time, c latchkey.InviteClaim) (*latchkey.User, error) {
	if c.AccountID == "" && c.PasswordHash == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "empty password hash")
	}
	var out *latchkey.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		inv, ident, err := findInvite(ctx, tx, hash, now)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM invites WHERE user_id = ?`, ident.ID); err != nil {
			return fmt.Errorf("sqlite: accept invite: %w", err)
		}
		if c.AccountID != "" {
			acct, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, c.AccountID))
			if err != nil {
				return notFound(err, "account")
			}
			if err := latchkey.CanMerge(ident, acct); err != nil {
				return err
			}
			// Deferred checks let the membership and its SCIM rows change
			// owner in any order; they are checked at commit.
			if _, err := tx.ExecContext(ctx, `PRAGMA defer_foreign_keys = ON`); err != nil {
				return fmt.Errorf("sqlite: accept invite: %w", err)
			}
			for _, q := range mergeIdentity {
				if _, err := tx.ExecContext(ctx, q, acct.ID, ident.ID); err != nil {
					return fmt.Errorf("sqlite: merge identity: %w", err)
				}
			}
			out = acct
		} else {
			var taken bool
			err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = ? AND claimed)`, ident.Email).Scan(&taken)
			if err != nil {
				return fmt.Errorf("sqlite: accept invite: %w", err)
			}
			if taken {
				return latchkey.ErrSignInRequired()
			}
			if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ?, claimed = TRUE WHERE id = ?`, c.PasswordHash, ident.ID); err != nil {
				if isUnique(err, "users.email") {
					return latchkey.ErrSignInRequired()
				}
				return fmt.Errorf("sqlite: accept invite: %w", err)
			}
			ident.PasswordHash, ident.Claimed = c.PasswordHash, true
			out = ident
		}
		if c.Event != nil {
			ev := c.Event(out, inv.WorkspaceID)
			if ev.WorkspaceID == "" {
				ev.WorkspaceID = inv.WorkspaceID
			}
			return insertEvent(ctx, tx, &ev)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mergeIdentity moves an invitation's identity ($2) into the account that
// accepted it ($1): memberships the account does not hold yet with their
// SCIM rows, keys, then the identity itself goes (its leftovers cascade).
// Each statement takes (account, identity).
var mergeIdentity = []string{
	`UPDATE scim_users SET user_id = ?1 WHERE user_id = ?2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = ?1)`,
	`UPDATE scim_emails SET user_id = ?1 WHERE user_id = ?2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = ?1)`,
	`UPDATE scim_user_extensions SET user_id = ?1 WHERE user_id = ?2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = ?1)`,
	`UPDATE scim_group_members SET user_id = ?1 WHERE user_id = ?2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = ?1)`,
	`UPDATE members SET user_id = ?1 WHERE user_id = ?2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = ?1)`,
	`UPDATE keys SET owner = ?1 WHERE owner = ?2`,
	`UPDATE keys SET created_by = ?1 WHERE created_by = ?2`,
	`DELETE FROM users WHERE id = ?2 AND ?1 <> ?2`,
}
