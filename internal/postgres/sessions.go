package postgres

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

// CreateSession stores s; ECONFLICT if its hash exists, ENOTFOUND if its
// user does not.
func (db *DB) CreateSession(ctx context.Context, s *latchkey.Session) error {
	_, err := db.pool.Exec(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
		s.Hash[:], s.UserID, s.CreatedAt, s.ExpiresAt)
	switch {
	case isUnique(err, ""):
		return latchkey.Errorf(latchkey.ECONFLICT, "session already exists")
	case isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
	}
	return wrap(err, "create session")
}

// Session returns the session with hash if it has not expired at now
// (it expires at ExpiresAt); ENOTFOUND otherwise.
func (db *DB) Session(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Session, error) {
	s := latchkey.Session{Hash: hash}
	err := db.pool.QueryRow(ctx, `SELECT user_id, created_at, expires_at FROM sessions
		WHERE hash = $1 AND expires_at > $2`, hash[:], now).Scan(&s.UserID, &s.CreatedAt, &s.ExpiresAt)
	if err != nil {
		return nil, notFound(err, "session")
	}
	s.CreatedAt, s.ExpiresAt = utc(s.CreatedAt), utc(s.ExpiresAt)
	return &s, nil
}

// DeleteSession ends one session. Ending a session that does not exist is
// not an error: logging out twice, or after expiry, is fine.
func (db *DB) DeleteSession(ctx context.Context, hash [32]byte) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE hash = $1`, hash[:])
	return wrap(err, "delete session")
}

// DeleteUserSessions ends every session of a user, such as when the user
// is deprovisioned or changes their password.
func (db *DB) DeleteUserSessions(ctx context.Context, userID string) error {
	_, err := db.pool.Exec(ctx, `DELETE FROM sessions WHERE user_id = $1`, userID)
	return wrap(err, "delete sessions")
}
