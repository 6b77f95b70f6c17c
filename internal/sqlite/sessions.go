package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

// CreateSession stores s; ECONFLICT if its hash exists, ENOTFOUND if its
// user does not.
func (db *DB) CreateSession(ctx context.Context, s *latchkey.Session) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
			s.Hash[:], s.UserID, micros(s.CreatedAt), micros(s.ExpiresAt))
		switch {
		case isUnique(err, ""):
			return latchkey.Errorf(latchkey.ECONFLICT, "session already exists")
		case isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
		case err != nil:
			return fmt.Errorf("sqlite: create session: %w", err)
		}
		return nil
	})
}

// Session returns the session with hash if it has not expired at now
// (it expires at ExpiresAt); ENOTFOUND otherwise.
func (db *DB) Session(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Session, error) {
	s := latchkey.Session{Hash: hash}
	var created, expires int64
	err := db.read.QueryRowContext(ctx, `SELECT user_id, created_at, expires_at FROM sessions
		WHERE hash = ? AND expires_at > ?`, hash[:], micros(now)).Scan(&s.UserID, &created, &expires)
	if err != nil {
		return nil, notFound(err, "session")
	}
	s.CreatedAt, s.ExpiresAt = fromMicros(created), fromMicros(expires)
	return &s, nil
}

// DeleteSession ends one session. Ending a session that does not exist is
// not an error: logging out twice, or after expiry, is fine.
func (db *DB) DeleteSession(ctx context.Context, hash [32]byte) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE hash = ?`, hash[:]); err != nil {
			return fmt.Errorf("sqlite: delete session: %w", err)
		}
		return nil
	})
}

// DeleteUserSessions ends every session of a user, such as when the user
// is deprovisioned or changes their password.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID); err != nil {
			return fmt.Errorf("sqlite: delete sessions: %w", err)
		}
		return nil
	})
}
