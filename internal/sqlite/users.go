package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/latchkey/latchkey"
)

const userColumns = `id, email, name, password_hash, operator, claimed, created_at`

func scanUser(row interface{ Scan(...any) error }) (*latchkey.User, error) {
	var u latchkey.User
	var created int64
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Operator, &u.Claimed, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = fromMicros(created)
	return &u, nil
}

// CreateUser inserts u and, when ev is not nil, its event. The email is
// stored lower-cased whatever the caller passed, so that uniqueness holds
// even for a caller that forgot latchkey.NormalizeEmail; u.Email is updated
// to the stored form. ECONFLICT when the id or the email is taken.
func (db *DB) CreateUser(ctx context.Context, u *latchkey.User, ev *latchkey.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		if ev != nil {
			return insertEvent(ctx, tx, ev)
		}
		return nil
	})
}

func insertUser(ctx context.Context, tx *sql.Tx, u *latchkey.User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	// An account with a password (or an operator's) is its holder's from
	// the start; only an invitation's identity is unclaimed.
	u.Claimed = u.Claimed || u.PasswordHash != "" || u.Operator
	_, err := tx.ExecContext(ctx, `INSERT INTO users (`+userColumns+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		u.ID, u.Email, u.Name, u.PasswordHash, u.Operator, u.Claimed, micros(u.CreatedAt))
	switch {
	case isUnique(err, "users.email"):
		return latchkey.Errorf(latchkey.ECONFLICT, "a user with this email already exists").WithDetail("field", "email")
	case isUnique(err, ""):
		return latchkey.Errorf(latchkey.ECONFLICT, "user %s already exists", u.ID)
	case err != nil:
		return fmt.Errorf("sqlite: insert user: %w", err)
	}
	return nil
}

// User returns one user; ENOTFOUND if none.
func (db *DB) User(ctx context.Context, id string) (*latchkey.User, error) {
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
	if err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// UserByEmail finds a user by email; ENOTFOUND if none. The email is
// lower-cased here too, as it is on insert.
func (db *DB) UserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := scanUser(db.read.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE email = ? AND claimed`, email))
	if err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// Memberships lists the memberships of a user, oldest first; an unknown
// user has none.
func (db *DB) Memberships(ctx context.Context, userID string) ([]*latchkey.Member, error) {
	return db.queryMembers(ctx, `WHERE m.user_id = ? ORDER BY m.created_at, m.workspace_id`, userID)
}

// UpdateUser loads a user, applies fn and stores its email, name and
// password hash in one write transaction; the id, the operator flag and
// the creation time cannot be changed by fn. The email is stored lower-cased,
// as on insert. fn's error is returned unchanged and nothing is written.
// ENOTFOUND if there is no such user, ECONFLICT if the new email is taken.
// fn must not call the store's write methods.
func (db *DB) UpdateUser(ctx context.Context, id string, fn func(*latchkey.User) error) (*latchkey.User, error) {
	var out *latchkey.User
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		load := func() (*latchkey.User, error) {
			u, err := scanUser(tx.QueryRowContext(ctx, `SELECT `+userColumns+` FROM users WHERE id = ?`, id))
			if err != nil {
				return nil, notFound(err, "user")
			}
			return u, nil
		}
		u, err := load()
		if err != nil {
			return err
		}
		if err := fn(u); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `UPDATE users SET email = ?, name = ?, password_hash = ?,
			claimed = claimed OR ? <> '' WHERE id = ?`,
			strings.ToLower(strings.TrimSpace(u.Email)), u.Name, u.PasswordHash, u.PasswordHash, id)
		switch {
		case isUnique(err, "users.email"):
			return latchkey.Errorf(latchkey.ECONFLICT, "a user with this email already exists").WithDetail("field", "email")
		case err != nil:
			return fmt.Errorf("sqlite: update user: %w", err)
		}
		out, err = load()
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
