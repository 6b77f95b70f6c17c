package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// CreateInvite stores a one-time invite for a user who has no password yet.
// ECONFLICT if the hash exists or the user already has a password (an
// invite would let its holder replace it), ENOTFOUND if the user or the
// workspace does not exist.
func (db *DB) CreateInvite(ctx context.Context, inv *latchkey.Invite) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		// FOR SHARE: an AcceptInvite of the same user, which sets the
		// password, waits for this one or this one for it.
		var hasPassword bool
		err := tx.QueryRow(ctx, `SELECT password_hash <> '' FROM users WHERE id = $1 FOR SHARE`, inv.UserID).Scan(&hasPassword)
		if err != nil {
			return notFound(err, "user")
		}
		if hasPassword {
			return latchkey.Errorf(latchkey.ECONFLICT, "the user already has a password")
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
	})
}

// AcceptInvite consumes the invite with hash if it has not expired at now
// (it expires at ExpiresAt), sets the user's password hash and deletes
// every other invite of the user, in one transaction: an invite works
// once, and only while the user has no password. ENOTFOUND if the invite
// is missing, used or expired; EINVALID for an empty password hash.
func (db *DB) AcceptInvite(ctx context.Context, hash [32]byte, now time.Time, passwordHash string) (*latchkey.User, error) {
	if passwordHash == "" {
		return nil, latchkey.Errorf(latchkey.EINVALID, "empty password hash")
	}
	var out *latchkey.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		var userID string
		err := tx.QueryRow(ctx, `SELECT user_id FROM invites WHERE hash = $1`, hash[:]).Scan(&userID)
		if err != nil {
			return notFound(err, "invite")
		}
		// Lock the user first, then look again: two accepts of the same
		// user's invites queue on the user's row, and the second finds the
		// password set and the invites gone. Locking the user before any
		// invite also keeps two accepts from deadlocking on each other's
		// invites.
		var ok bool
		err = tx.QueryRow(ctx, `SELECT password_hash = '' AND EXISTS (SELECT 1 FROM invites
			WHERE hash = $2 AND user_id = $1 AND expires_at > $3)
			FROM users WHERE id = $1 FOR NO KEY UPDATE`, userID, hash[:], now).Scan(&ok)
		if err != nil {
			return notFound(err, "invite")
		}
		if !ok {
			return latchkey.Errorf(latchkey.ENOTFOUND, "invite not found")
		}
		if _, err := tx.Exec(ctx, `DELETE FROM invites WHERE user_id = $1`, userID); err != nil {
			return wrap(err, "accept invite")
		}
		out, err = scanUser(tx.QueryRow(ctx, `UPDATE users SET password_hash = $1 WHERE id = $2
			RETURNING id, email, name, password_hash, operator, created_at`, passwordHash, userID))
		return wrap(err, "accept invite")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
