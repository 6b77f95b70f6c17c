package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlfilter"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// dialect is PostgreSQL's side of the shared store.
type dialect struct{ db *DB }

var _ sqlstore.DB = dialect{}

func (dialect) Name() string { return "postgres" }

func (d dialect) Read() sqlstore.Conn  { return conn{d.db.pool} }
func (d dialect) Write() sqlstore.Conn { return conn{d.db.pool} }

// Begin starts a READ COMMITTED transaction; read-modify-write methods
// lock the rows they read (see Lock).
func (d dialect) Begin(ctx context.Context) (sqlstore.Tx, error) {
	tx, err := d.db.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return writeTx{conn{tx}, tx}, nil
}

type writeTx struct {
	conn
	tx pgx.Tx
}

func (t writeTx) Commit(ctx context.Context) error { return t.tx.Commit(ctx) }

// Rollback is a no-op after Commit. Should ctx be done, pgx closes the
// connection instead, which ends the transaction as surely.
func (t writeTx) Rollback(ctx context.Context) { t.tx.Rollback(ctx) }

// uniqueConstraints name each uniqueness rule as the migrations do.
var uniqueConstraints = map[sqlstore.Constraint]string{
	sqlstore.KeyID:                "keys_pkey",
	sqlstore.UserEmailClaimed:     "users_email_claimed",
	sqlstore.ScimUserName:         "scim_users_user_name",
	sqlstore.ScimGroupDisplayName: "scim_groups_display_name",
	sqlstore.VaultName:            "vaults_name",
	sqlstore.VaultSecretName:      "vault_secrets_name",
	sqlstore.VaultSecretKey:       "vault_secrets_key_id_key",
}

func (dialect) Unique(err error, c sqlstore.Constraint) bool {
	e := pgError(err)
	return e != nil && e.Code == uniqueViolation && (c == sqlstore.AnyConstraint || e.ConstraintName == uniqueConstraints[c])
}

func (dialect) ForeignKey(err error) bool {
	e := pgError(err)
	return e != nil && e.Code == foreignKeyViolation
}

func (dialect) Unstorable(err error) bool { return isUnstorable(err) }

// Lock returns clause: rows read to be changed are locked for the rest of
// the transaction, so concurrent updates wait instead of losing one.
func (dialect) Lock(clause string) string { return clause }

func (dialect) DeferForeignKeys() string { return `SET CONSTRAINTS ALL DEFERRED` }

func (dialect) DateParam() string { return `CAST(? AS date)` }

// Micros turns the interval between two timestamptz columns into
// microseconds.
func (dialect) Micros(later, earlier string) string {
	return "(EXTRACT(EPOCH FROM " + later + " - " + earlier + ") * 1000000)"
}

func (dialect) ScimFilter() sqlfilter.Dialect { return scimDialect{} }

// SQLSTATE codes the store turns into latchkey errors.
const (
	uniqueViolation     = "23505"
	foreignKeyViolation = "23503"
	// PostgreSQL text cannot hold NUL (0x00) or invalid UTF-8, nor JSONB
	// "\u0000", all of which SQLite stores; such input is the caller's
	// error, not the server's.
	characterNotInRepertoire = "22021"
	untranslatableCharacter  = "22P05"
)

// pgError returns the server's error in err's chain, or nil.
func pgError(err error) *pgconn.PgError {
	var e *pgconn.PgError
	if errors.As(err, &e) {
		return e
	}
	return nil
}

func isUnstorable(err error) bool {
	e := pgError(err)
	return e != nil && (e.Code == characterNotInRepertoire || e.Code == untranslatableCharacter)
}

// storeError turns input PostgreSQL cannot store into EINVALID and returns
// any other error unchanged.
func storeError(err error) error {
	if isUnstorable(err) {
		return latchkey.Errorf(latchkey.EINVALID, "text must be valid UTF-8 without NUL characters")
	}
	return err
}

// wrap wraps err with what the store was doing, keeping EINVALID for
// unstorable input.
func wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	if e := storeError(err); e != err {
		return e
	}
	return fmt.Errorf("postgres: %s: %w", what, err)
}
