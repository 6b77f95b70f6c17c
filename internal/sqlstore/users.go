package sqlstore

import (
	"context"
	"strings"

	"github.com/latchkey/latchkey"
)

const userSelect = `SELECT id, email, name, password_hash, operator, claimed, created_at FROM users `

func scanUser(row Row) (*latchkey.User, error) {
	var u latchkey.User
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Operator, &u.Claimed, &u.CreatedAt); err != nil {
		return nil, err
	}
	return &u, nil
}

// CreateUser inserts u and, when ev is not nil, its event. The email is
// stored lower-cased whatever the caller passed, so that uniqueness holds
// even for a caller that forgot latchkey.NormalizeEmail; u.Email is updated
// to the stored form. ECONFLICT when the id or the email is taken.
func (s *Store) CreateUser(ctx context.Context, u *latchkey.User, ev *latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		if err := s.insertUser(ctx, tx, u); err != nil {
			return err
		}
		if ev != nil {
			return s.insertEvent(ctx, tx, ev)
		}
		return nil
	})
}

func (s *Store) insertUser(ctx context.Context, tx Conn, u *latchkey.User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	// An account with a password (or an operator's) is its holder's from
	// the start; only an invitation's identity is unclaimed.
	u.Claimed = u.Claimed || u.PasswordHash != "" || u.Operator
	_, err := tx.Exec(ctx, `INSERT INTO users (id, email, name, password_hash, operator, claimed, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, u.ID, u.Email, u.Name, u.PasswordHash, u.Operator, u.Claimed, u.CreatedAt)
	switch {
	case s.isUnique(err, UserEmailClaimed):
		return emailTaken()
	case s.isUnique(err, AnyConstraint):
		return latchkey.Errorf(latchkey.ECONFLICT, "user %s already exists", u.ID)
	}
	return s.wrap(err, "insert user")
}

func emailTaken() error {
	return latchkey.Errorf(latchkey.ECONFLICT, "a user with this email already exists").WithDetail("field", "email")
}

// User returns one user; ENOTFOUND if none.
func (s *Store) User(ctx context.Context, id string) (*latchkey.User, error) {
	u, err := scanUser(s.read.QueryRow(ctx, userSelect+`WHERE id = ?`, id))
	if err != nil {
		return nil, s.notFound(err, "user")
	}
	return u, nil
}

// UserByEmail finds the claimed account with an email, lower-cased here
// as on insert; ENOTFOUND if none.
func (s *Store) UserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := scanUser(s.read.QueryRow(ctx, userSelect+`WHERE email = ? AND claimed`, email))
	if err != nil {
		return nil, s.notFound(err, "user")
	}
	return u, nil
}

// Memberships lists the memberships of a user, oldest first; an unknown
// user has none.
func (s *Store) Memberships(ctx context.Context, userID string) ([]*latchkey.Member, error) {
	return s.queryMembers(ctx, `WHERE m.user_id = ? ORDER BY m.created_at, m.workspace_id`, userID)
}

// UpdateUser loads a user with its row locked, applies fn and stores its
// email, name and password hash; the id, the operator flag and the creation
// time cannot be changed by fn. The email is stored lower-cased. fn's error
// is returned unchanged and nothing is written. ENOTFOUND if there is no
// such user (fn is not called), ECONFLICT if the new email is taken. fn
// must not call the store's write methods.
func (s *Store) UpdateUser(ctx context.Context, id string, fn func(*latchkey.User) error) (*latchkey.User, error) {
	var out *latchkey.User
	err := s.inTx(ctx, func(tx Conn) error {
		u, err := scanUser(tx.QueryRow(ctx, userSelect+`WHERE id = ?`+s.lock("FOR NO KEY UPDATE"), id))
		if err != nil {
			return s.notFound(err, "user")
		}
		if err := fn(u); err != nil {
			return err
		}
		row := tx.QueryRow(ctx, `UPDATE users SET email = ?, name = ?, password_hash = ?,
			claimed = claimed OR ? <> '' WHERE id = ?
			RETURNING id, email, name, password_hash, operator, claimed, created_at`,
			strings.ToLower(strings.TrimSpace(u.Email)), u.Name, u.PasswordHash, u.PasswordHash, id)
		out, err = scanUser(row)
		if s.isUnique(err, UserEmailClaimed) {
			return emailTaken()
		}
		return s.wrap(err, "update user")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
