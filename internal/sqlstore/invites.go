package sqlstore

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

// CreateInvite stores a one-time invite for an unclaimed member. ECONFLICT
// if the hash exists or the user is claimed (an invite would let its
// holder take the account), ENOTFOUND if the user or the workspace does
// not exist.
func (s *Store) CreateInvite(ctx context.Context, inv *latchkey.Invite) error {
	return s.inTx(ctx, func(tx Conn) error { return s.insertInvite(ctx, tx, inv) })
}

func (s *Store) insertInvite(ctx context.Context, tx Conn, inv *latchkey.Invite) error {
	// FOR SHARE: an AcceptInvite of the same identity, which claims or
	// merges it, waits for this one or this one for it.
	var claimed bool
	err := tx.QueryRow(ctx, `SELECT claimed FROM users WHERE id = ?`+s.lock("FOR SHARE"), inv.UserID).Scan(&claimed)
	if err != nil {
		return s.notFound(err, "user")
	}
	if claimed {
		return latchkey.Errorf(latchkey.ECONFLICT, "the user has claimed their account already")
	}
	// A portal identity is its product's person: no invitation may give it
	// a password or merge it into an account.
	var portal bool
	if err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM portal_identities WHERE user_id = ?)`, inv.UserID).Scan(&portal); err != nil {
		return s.wrap(err, "portal identity")
	}
	if portal {
		return latchkey.Errorf(latchkey.ECONFLICT, "this member signs in through their product and cannot be invited").WithDetail("reason", "portal_identity")
	}
	_, err = tx.Exec(ctx, `INSERT INTO invites (hash, user_id, workspace_id, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?)`, inv.Hash[:], inv.UserID, inv.WorkspaceID, inv.CreatedAt, inv.ExpiresAt)
	switch {
	case s.isUnique(err, AnyConstraint):
		return latchkey.Errorf(latchkey.ECONFLICT, "invite already exists")
	case s.isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	return s.wrap(err, "create invite")
}

// inviteSelect finds a live invite whose identity is still a member of the
// invite's workspace and unclaimed.
const inviteSelect = `SELECT i.user_id, i.workspace_id, i.created_at, i.expires_at FROM invites i
	JOIN users u ON u.id = i.user_id
	JOIN members m ON m.workspace_id = i.workspace_id AND m.user_id = i.user_id
	WHERE i.hash = ? AND i.expires_at > ? AND NOT u.claimed`

func (s *Store) findInvite(ctx context.Context, q Conn, hash [32]byte, now time.Time, lock string) (*latchkey.Invite, *latchkey.User, error) {
	inv := &latchkey.Invite{Hash: hash}
	err := q.QueryRow(ctx, inviteSelect, hash[:], now).Scan(&inv.UserID, &inv.WorkspaceID, &inv.CreatedAt, &inv.ExpiresAt)
	if err != nil {
		return nil, nil, s.notFound(err, "invite")
	}
	u, err := scanUser(q.QueryRow(ctx, userSelect+`WHERE id = ?`+lock, inv.UserID))
	if err != nil {
		return nil, nil, s.notFound(err, "invite")
	}
	return inv, u, nil
}

// InviteOf returns a live invite and its identity; ENOTFOUND if it is
// missing, used or expired.
func (s *Store) InviteOf(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Invite, *latchkey.User, error) {
	return s.findInvite(ctx, s.read, hash, now, "")
}

// AcceptInvite consumes a live invite; see latchkey.InviteClaim. Every
// invite of the identity goes with it: an invite works once.
func (s *Store) AcceptInvite(ctx context.Context, hash [32]byte, now time.Time, c latchkey.InviteClaim) (*latchkey.User, error) {
	if c.AccountID == "" && c.PasswordHash == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "empty password hash")
	}
	var out *latchkey.User
	err := s.inTx(ctx, func(tx Conn) error {
		// Lock the identity: two accepts of one identity queue on its row
		// and the second finds the invites gone.
		inv, ident, err := s.findInvite(ctx, tx, hash, now, s.lock("FOR UPDATE"))
		if err != nil {
			return err
		}
		// Read again now that the lock is held: under PostgreSQL's read
		// committed, the first read may predate an accept that committed
		// while this one waited, and the invite is then gone (ENOTFOUND),
		// not an account to sign in to.
		if _, _, err := s.findInvite(ctx, tx, hash, now, ""); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM invites WHERE user_id = ?`, ident.ID); err != nil {
			return s.wrap(err, "accept invite")
		}
		if c.AccountID != "" {
			acct, err := scanUser(tx.QueryRow(ctx, userSelect+`WHERE id = ?`+s.lock("FOR NO KEY UPDATE"), c.AccountID))
			if err != nil {
				return s.notFound(err, "account")
			}
			if err := latchkey.CanMerge(ident, acct); err != nil {
				return err
			}
			// Deferred checks let the membership and its SCIM rows change
			// owner in any order; they are checked at commit.
			if _, err := tx.Exec(ctx, s.db.DeferForeignKeys()); err != nil {
				return s.wrap(err, "accept invite")
			}
			for _, q := range mergeIdentity {
				if _, err := tx.Exec(ctx, q, acct.ID, ident.ID); err != nil {
					return s.wrap(err, "merge identity")
				}
			}
			out = acct
		} else {
			var taken bool
			err := tx.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM users WHERE email = ? AND claimed)`, ident.Email).Scan(&taken)
			if err != nil {
				return s.wrap(err, "accept invite")
			}
			if taken {
				return latchkey.ErrSignInRequired()
			}
			_, err = tx.Exec(ctx, `UPDATE users SET password_hash = ?, claimed = TRUE WHERE id = ?`, c.PasswordHash, ident.ID)
			if s.isUnique(err, UserEmailClaimed) {
				return latchkey.ErrSignInRequired()
			}
			if err != nil {
				return s.wrap(err, "accept invite")
			}
			ident.PasswordHash, ident.Claimed = c.PasswordHash, true
			out = ident
		}
		if c.Event != nil {
			ev := c.Event(out, inv.WorkspaceID)
			if ev.WorkspaceID == "" {
				ev.WorkspaceID = inv.WorkspaceID
			}
			return s.insertEvent(ctx, tx, &ev)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mergeIdentity moves an invitation's identity (?2) into the account that
// accepted it (?1): memberships the account does not hold yet with their
// SCIM rows, keys, then the identity itself goes (its leftovers cascade).
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
