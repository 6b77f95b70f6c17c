// Package sqlstore implements latchkey.Store once, in SQL that SQLite and
// PostgreSQL both run. The two database packages (internal/sqlite,
// internal/postgres) open the connections, own the migrations and supply a
// DB: how statements run (placeholders, time encoding), how a write
// transaction begins, and the few things the two databases really do
// differently — row locks, constraint names, error codes — each a method
// named for why.
//
// Statements are written with ? placeholders, or ?1, ?2… where an argument
// is used twice; a database that spells them otherwise rebinds them in its
// Conn. Times are passed and scanned as
// time.Time and *time.Time; a database that stores them otherwise converts
// them in its Conn, so no method here knows how a time is kept.
package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlfilter"
)

// Row is one result row. *sql.Row, *sql.Rows and pgx.Row all satisfy it.
type Row interface {
	Scan(dest ...any) error
}

// Rows is a result set, read with Next and Scan and closed with Close.
type Rows interface {
	Row
	Next() bool
	Err() error
	Close()
}

// Conn runs statements written with ? placeholders, outside or inside a
// transaction. A missing row scans as an error matching sql.ErrNoRows.
type Conn interface {
	Exec(ctx context.Context, query string, args ...any) (rowsAffected int64, err error)
	Query(ctx context.Context, query string, args ...any) (Rows, error)
	QueryRow(ctx context.Context, query string, args ...any) Row
}

// Tx is a write transaction.
type Tx interface {
	Conn
	Commit(ctx context.Context) error
	// Rollback ends the transaction unless it was committed; after
	// Commit it does nothing.
	Rollback(ctx context.Context)
}

// Batcher is a Conn that can send several statements in one round trip.
type Batcher interface {
	ExecBatch(ctx context.Context, stmts []Stmt) error
}

// Stmt is one statement of a batch.
type Stmt struct {
	Query string
	Args  []any
}

// Constraint names a uniqueness rule; each database maps it to its own
// constraint or index name.
type Constraint int

// The uniqueness rules whose violation means something specific.
const (
	AnyConstraint        Constraint = iota // any unique or primary key
	KeyID                                  // keys' primary key
	UserEmailClaimed                       // one claimed account per email
	ScimUserName                           // one SCIM userName per workspace
	ScimGroupDisplayName                   // one group displayName per workspace
	VaultName                              // one vault name per workspace
	VaultSecretName                        // one secret name per vault
	VaultSecretKey                         // one vault secret per key
)

// DB is one database as the store sees it.
type DB interface {
	// Name prefixes the store's wrapped errors ("sqlite", "postgres").
	Name() string
	// Read runs reads outside a transaction.
	Read() Conn
	// Write runs one statement that writes, outside a transaction.
	Write() Conn
	// Begin starts a write transaction.
	Begin(ctx context.Context) (Tx, error)
	// Unique reports a violation of c, or of any uniqueness rule for
	// AnyConstraint.
	Unique(err error, c Constraint) bool
	// ForeignKey reports a foreign key violation.
	ForeignKey(err error) bool
	// Unstorable reports input the database cannot hold, such as a NUL
	// in PostgreSQL text: the caller's error, not the server's.
	Unstorable(err error) bool
	// Lock returns clause ("FOR UPDATE", "FOR NO KEY UPDATE OF k", "FOR
	// UPDATE SKIP LOCKED") where the database locks rows, and "" where a
	// write transaction already excludes every other writer (SQLite).
	Lock(clause string) string
	// DeferForeignKeys is the statement that postpones a transaction's
	// foreign key checks to its commit.
	DeferForeignKeys() string
	// ScimFilter spells the SCIM filter's expressions in the database's SQL.
	ScimFilter() sqlfilter.Dialect
	// DateParam is a placeholder for a date given as "2006-01-02", where
	// the database has a date type the text must be cast to.
	DateParam() string
	// Micros is the time from the column earlier to the column later, in
	// microseconds, as a number to compare with an integer parameter.
	Micros(later, earlier string) string
}

// Store implements latchkey.Store over a DB.
type Store struct {
	db          DB
	read, write Conn
	watchers    hashWatchers
}

var _ latchkey.Store = (*Store)(nil)

// New returns the store over db.
func New(db DB) *Store { return &Store{db: db, read: db.Read(), write: db.Write()} }

// Close does nothing: the database package owns the connections.
func (s *Store) Close() error { return nil }

// inTx runs fn in a write transaction and commits it unless fn fails.
func (s *Store) inTx(ctx context.Context, fn func(tx Conn) error) error {
	tx, err := s.db.Begin(ctx)
	if err != nil {
		return s.wrap(err, "begin")
	}
	// Deferred, so that a panic in fn (UpdateKey's callback) cannot leave
	// a connection inside an open transaction.
	defer tx.Rollback(ctx)
	if err := fn(tx); err != nil {
		return err
	}
	return s.wrap(tx.Commit(ctx), "commit")
}

// lock returns clause with a leading space where the database locks rows.
func (s *Store) lock(clause string) string {
	if l := s.db.Lock(clause); l != "" {
		return " " + l
	}
	return ""
}

func (s *Store) isUnique(err error, c Constraint) bool { return err != nil && s.db.Unique(err, c) }
func (s *Store) isForeignKey(err error) bool           { return err != nil && s.db.ForeignKey(err) }

// notFound converts a missing row to ENOTFOUND, and so an id the
// database could never store, and wraps anything else.
func (s *Store) notFound(err error, what string) error {
	if errors.Is(err, sql.ErrNoRows) || s.db.Unstorable(err) {
		return latchkey.Errorf(latchkey.ENOTFOUND, "%s not found", what)
	}
	return s.wrap(err, what)
}

// wrap wraps err with what the store was doing, keeping latchkey errors
// as they are and turning unstorable input into EINVALID; nil stays nil.
func (s *Store) wrap(err error, what string) error {
	if err == nil {
		return nil
	}
	var le *latchkey.Error
	if errors.As(err, &le) {
		return err
	}
	if s.db.Unstorable(err) {
		return latchkey.Errorf(latchkey.EINVALID, "text must be valid UTF-8 without NUL characters")
	}
	return fmt.Errorf("%s: %s: %w", s.db.Name(), what, err)
}

// collect scans every row of a query with scan; an empty result is an
// empty, non-nil slice.
func collect[T any](rows Rows, err error, scan func(Row) (T, error)) ([]T, error) {
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	list := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, err
		}
		list = append(list, v)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return list, nil
}

// scanString scans a row of one text column, for collect.
func scanString(row Row) (string, error) {
	var v string
	return v, row.Scan(&v)
}

// execAll runs stmts in order, in one round trip where tx can batch.
func execAll(ctx context.Context, tx Conn, stmts []Stmt) error {
	if b, ok := tx.(Batcher); ok {
		return b.ExecBatch(ctx, stmts)
	}
	for _, st := range stmts {
		if _, err := tx.Exec(ctx, st.Query, st.Args...); err != nil {
			return err
		}
	}
	return nil
}
