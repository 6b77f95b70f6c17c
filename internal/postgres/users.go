package postgres

import (
	"context"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

const userSelect = `SELECT id, email, name, password_hash, operator, claimed, created_at FROM users `

func scanUser(row pgx.Row) (*latchkey.User, error) {
	var u latchkey.User
	var created time.Time
	if err := row.Scan(&u.ID, &u.Email, &u.Name, &u.PasswordHash, &u.Operator, &u.Claimed, &created); err != nil {
		return nil, err
	}
	u.CreatedAt = utc(created)
	return &u, nil
}

// CreateUser inserts u and, when ev is not nil, its event. The email is
// stored lower-cased whatever the caller passed, and u.Email updated to
// the stored form. ECONFLICT when the id or the email is taken.
func (db *DB) CreateUser(ctx context.Context, u *latchkey.User, ev *latchkey.Event) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		if err := insertUser(ctx, tx, u); err != nil {
			return err
		}
		if ev != nil {
			return insertEvent(ctx, tx, ev)
		}
		return nil
	})
}

func insertUser(ctx context.Context, tx pgx.Tx, u *latchkey.User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	// An account with a password (or an operator's) is its holder's from
	// the start; only an invitation's identity is unclaimed.
	u.Claimed = u.Claimed || u.PasswordHash != "" || u.Operator
	_, err := tx.Exec(ctx, `INSERT INTO users (id, email, name, password_hash, operator, claimed, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, u.ID, u.Email, u.Name, u.PasswordHash, u.Operator, u.Claimed, u.CreatedAt)
	switch {
	case isUnique(err, "users_email_claimed"):
		return emailTaken()
	case isUnique(err, ""):
		return latchkey.Errorf(latchkey.ECONFLICT, "user %s already exists", u.ID)
	}
	return wrap(err, "insert user")
}

func emailTaken() error {
	return latchkey.Errorf(latchkey.ECONFLICT, "a user with this email already exists").WithDetail("field", "email")
}

// User returns one user; ENOTFOUND if none.
func (db *DB) User(ctx context.Context, id string) (*latchkey.User, error) {
	u, err := scanUser(db.pool.QueryRow(ctx, userSelect+`WHERE id = $1`, id))
	if err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// UserByEmail finds the claimed account with an email, lower-cased here
// as on insert; ENOTFOUND if none.
func (db *DB) UserByEmail(ctx context.Context, email string) (*latchkey.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	u, err := scanUser(db.pool.QueryRow(ctx, userSelect+`WHERE email = $1 AND claimed`, email))
	if err != nil {
		return nil, notFound(err, "user")
	}
	return u, nil
}

// Memberships lists the memberships of a user, oldest first; an unknown
// user has none.
func (db *DB) Memberships(ctx context.Context, userID string) ([]*latchkey.Member, error) {
	return db.queryMembers(ctx, `WHERE m.user_id = $1 ORDER BY m.created_at, m.workspace_id`, userID)
}

// UpdateUser loads a user with its row locked, applies fn and stores its
// email, name and password hash; the id, the operator flag and the creation
// time cannot be changed by fn. The email is stored lower-cased. fn's error
// is returned unchanged and nothing is written. ENOTFOUND if there is no
// such user (fn is not called), ECONFLICT if the new email is taken.
func (db *DB) UpdateUser(ctx context.Context, id string, fn func(*latchkey.User) error) (*latchkey.User, error) {
	var out *latchkey.User
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		u, err := scanUser(tx.QueryRow(ctx, userSelect+`WHERE id = $1 FOR NO KEY UPDATE`, id))
		if err != nil {
			return notFound(err, "user")
		}
		if err := fn(u); err != nil {
			return err
		}
		row := tx.QueryRow(ctx, `UPDATE users SET email = $1, name = $2, password_hash = $3,
			claimed = claimed OR $3 <> '' WHERE id = $4
			RETURNING id, email, name, password_hash, operator, claimed, created_at`,
			strings.ToLower(strings.TrimSpace(u.Email)), u.Name, u.PasswordHash, id)
		out, err = scanUser(row)
		if isUnique(err, "users_email_claimed") {
			return emailTaken()
		}
		return wrap(err, "update user")
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
