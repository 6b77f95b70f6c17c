package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// CreateInvite stores a one-time invite for an unclaimed member. ECONFLICT
// if the hash exists or the user is claimed (an invite would let its
// holder take the account), ENOTFOUND if the user or the workspace does
// not exist.
func (db *DB) CreateInvite(ctx context.Context, inv *latchkey.Invite) error {
	return db.inTx(ctx, func(tx pgx.Tx) error { return insertInvite(ctx, tx, inv) })
}

func insertInvite(ctx context.Context, tx pgx.Tx, inv *latchkey.Invite) error {
	// FOR SHARE: an AcceptInvite of the same identity, which claims or
	// merges it, waits for this one or this one for it.
	var claimed bool
	err := tx.QueryRow(ctx, `SELECT claimed FROM users WHERE id = $1 FOR SHARE`, inv.UserID).Scan(&claimed)
	if err != nil {
		return notFound(err, "user")
	}
	if claimed {
		return latchkey.Errorf(latchkey.ECONFLICT, "the user has claimed their account already")
	}
	_, err = tx.Exec(ctx, `INSERT INTO invites (hash, user_id, workspace_id, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5)`, inv.Hash[:], inv.UserID, inv.WorkspaceID, inv.CreatedAt, inv.ExpiresAt)
	switch {
	case isUnique(err, ""):
		return latchkey.Errorf(latchkey.ECONFLICT, "invite already exists")
	case isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	return wrap(err, "create invite")
}

// inviteSelect finds a live invite whose identity is still a member of the
// invite's workspace and unclaimed.
const inviteSelect = `SELECT i.user_id, i.workspace_id, i.created_at, i.expires_at FROM invites i
	JOIN users u ON u.id = i.user_id
	JOIN members m ON m.workspace_id = i.workspace_id AND m.user_id = i.user_id
	WHERE i.hash = $1 AND i.expires_at > $2 AND NOT u.claimed`

type queryRower interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

func findInvite(ctx context.Context, q queryRower, hash [32]byte, now time.Time, lock string) (*latchkey.Invite, *latchkey.User, error) {
	inv := &latchkey.Invite{Hash: hash}
	var created, expires time.Time
	err := q.QueryRow(ctx, inviteSelect, hash[:], now).Scan(&inv.UserID, &inv.WorkspaceID, &created, &expires)
	if err != nil {
		return nil, nil, notFound(err, "invite")
	}
	inv.CreatedAt, inv.ExpiresAt = utc(created), utc(expires)
	u, err := scanUser(q.QueryRow(ctx, userSelect+`WHERE id = $1 `+lock, inv.UserID))
	if err != nil {
		return nil, nil, notFound(err, "invite")
	}
	return inv, u, nil
}

// InviteOf returns a live invite and its identity; ENOTFOUND if it is
// missing, used or expired.
func (db *DB) InviteOf(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Invite, *latchkey.User, error) {
	return findInvite(ctx, db.pool, hash, now, "")
}

// AcceptInvite consumes a live invite; see latchkey.InviteClaim. Every
// invite of the identity goes with it: an invite works once.
func (db *DB) AcceptInvite(ctx context.Context, hash [32]byte, now time.Time, c latchkey.InviteClaim) (*latchkey.User, error) {
	if c.AccountID == "" && c.PasswordHash == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "empty password hash")
	}
	var out *latchkey.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		// Lock the identity: two accepts of one identity queue on its row
		// and the second finds the invites gone.
		inv, ident, err := findInvite(ctx, tx, hash, now, "FOR UPDATE")
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM invites WHERE user_id = $1`, ident.ID); err != nil {
			return wrap(err, "accept invite")
		}
		if c.AccountID != "" {
			acct, err := scanUser(tx.QueryRow(ctx, userSelect+`WHERE id = $1 FOR NO KEY UPDATE`, c.AccountID))
			if err != nil {
				return notFound(err, "account")
			}
			if err := latchkey.CanMerge(ident, acct); err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, `SET CONSTRAINTS ALL DEFERRED`); err != nil {
				return wrap(err, "accept invite")
			}
			for _, q := range mergeIdentity {
				if _, err := tx.Exec(ctx, q, acct.ID, ident.ID); err != nil {
					return wrap(err, "merge identity")
				}
			}
			out = acct
		} else {
			var taken bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = $1 AND claimed)`, ident.Email).Scan(&taken)
			if err != nil {
				return wrap(err, "accept invite")
			}
			if taken {
				return latchkey.ErrSignInRequired()
			}
			_, err = tx.Exec(ctx, `UPDATE users SET password_hash = $1, claimed = TRUE WHERE id = $2`, c.PasswordHash, ident.ID)
			if isUnique(err, "users_email_claimed") {
				return latchkey.ErrSignInRequired()
			}
			if err != nil {
				return wrap(err, "accept invite")
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
var mergeIdentity = []string{
	`UPDATE scim_users SET user_id = $1 WHERE user_id = $2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = $1)`,
	`UPDATE scim_emails SET user_id = $1 WHERE user_id = $2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = $1)`,
	`UPDATE scim_user_extensions SET user_id = $1 WHERE user_id = $2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = $1)`,
	`UPDATE scim_group_members SET user_id = $1 WHERE user_id = $2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = $1)`,
	`UPDATE members SET user_id = $1 WHERE user_id = $2 AND workspace_id NOT IN (SELECT workspace_id FROM members WHERE user_id = $1)`,
	`UPDATE keys SET owner = $1 WHERE owner = $2`,
	`UPDATE keys SET created_by = $1 WHERE created_by = $2`,
	`DELETE FROM users WHERE id = $2 AND $1 <> $2`,
}
