package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

// CreateInvite stores a one-time invite for a user who has no password yet.
// ECONFLICT if the hash exists or the user already has a password (an
// invite would let its holder replace it), ENOTFOUND if the user or the
// workspace does not exist.
func (db *DB) CreateInvite(ctx context.Context, inv *latchkey.Invite) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var hasPassword bool
		err := tx.QueryRowContext(ctx, `SELECT password_hash <> '' FROM users WHERE id = ?`, inv.UserID).Scan(&hasPassword)
		if err != nil {
			return notFound(err, "user")
		}
		if hasPassword {
			return latchkey.Errorf(latchkey.ECONFLICT, "the user already has a password")
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
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		var userID string
		err := tx.QueryRowContext(ctx, `SELECT i.user_id FROM invites i JOIN users u ON u.id = i.user_id
			WHERE i.hash = ? AND i.expires_at > ? AND u.password_hash = ''`, hash[:], micros(now)).Scan(&userID)
		if err != nil {
			return notFound(err, "invite")
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM invites WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("sqlite: accept invite: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE users SET password_hash = ? WHERE id = ?`, passwordHash, userID); err != nil {
			return fmt.Errorf("sqlite: accept invite: %w", err)
		}
		out, err = scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, userID))
		if err != nil {
			return fmt.Errorf("sqlite: accept invite: %w", err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
