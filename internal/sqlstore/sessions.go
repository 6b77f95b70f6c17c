package sqlstore

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

// CreateSession stores a session; ECONFLICT if its hash exists, ENOTFOUND
// if its user does not.
func (s *Store) CreateSession(ctx context.Context, ss *latchkey.Session) error {
	_, err := s.write.Exec(ctx, `INSERT INTO sessions (hash, user_id, created_at, expires_at) VALUES (?, ?, ?, ?)`,
		ss.Hash[:], ss.UserID, ss.CreatedAt, ss.ExpiresAt)
	switch {
	case s.isUnique(err, AnyConstraint):
		return latchkey.Errorf(latchkey.ECONFLICT, "session already exists")
	case s.isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "user not found")
	}
	return s.wrap(err, "create session")
}

// Session returns the session with hash if it has not expired at now
// (it expires at ExpiresAt); ENOTFOUND otherwise.
func (s *Store) Session(ctx context.Context, hash [32]byte, now time.Time) (*latchkey.Session, error) {
	ss := latchkey.Session{Hash: hash}
	err := s.read.QueryRow(ctx, `SELECT user_id, created_at, expires_at FROM sessions
		WHERE hash = ? AND expires_at > ?`, hash[:], now).Scan(&ss.UserID, &ss.CreatedAt, &ss.ExpiresAt)
	if err != nil {
		return nil, s.notFound(err, "session")
	}
	return &ss, nil
}

// DeleteSession ends one session. Ending a session that does not exist is
// not an error: logging out twice, or after expiry, is fine.
func (s *Store) DeleteSession(ctx context.Context, hash [32]byte) error {
	_, err := s.write.Exec(ctx, `DELETE FROM sessions WHERE hash = ?`, hash[:])
	return s.wrap(err, "delete session")
}

// DeleteUserSessions ends every session of a user, such as when the user
// is deprovisioned or changes their password.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) error {
	_, err := s.write.Exec(ctx, `DELETE FROM sessions WHERE user_id = ?`, userID)
	return s.wrap(err, "delete sessions")
}
