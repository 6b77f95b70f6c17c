// Package sqlite runs latchkey's store (internal/sqlstore) on an embedded
// SQLite database (modernc.org/sqlite, no cgo), with its migrations
// embedded in the binary.
//
// SQLite allows one writer at a time, so all writes go through a pool of one
// connection whose transactions begin IMMEDIATE: a read-modify-write such as
// UpdateKey holds the write lock from its first read and cannot lose an
// update, and writers queue in Go instead of failing with SQLITE_BUSY. Reads
// use a separate pool of several connections, which WAL lets run beside the
// writer; that keeps KeyByHash, on the cold verify path, off the write queue.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"runtime"
	"strings"

	"github.com/pressly/goose/v3"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlfilter"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ latchkey.Store = (*DB)(nil)

// DB is the SQLite store. It is safe for concurrent use.
type DB struct {
	*sqlstore.Store
	write *sql.DB // one connection: SQLite serialises writers anyway
	read  *sql.DB // several connections: WAL readers do not block

	// The cold verify path's statements, prepared once per read
	// connection rather than on every call.
	prepared map[string]*sql.Stmt
}

// Open opens or creates the database file at path, migrates it to the
// latest schema and returns the store.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || strings.Contains(path, "?") {
		return nil, fmt.Errorf("sqlite: invalid database path %q", path)
	}
	// synchronous=FULL makes every commit fsync the WAL, so an acknowledged
	// write survives kill -9 and power loss (NORMAL may lose the last
	// commits on power loss). _txlock=immediate takes the write lock at
	// BEGIN, so a transaction never has to upgrade its lock mid-way.
	w, err := sql.Open("sqlite", dsn(path, "immediate",
		"busy_timeout(5000)", "journal_mode(WAL)", "synchronous(FULL)", "foreign_keys(1)"))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxIdleTime(0)
	w.SetConnMaxLifetime(0)
	// Ping opens the write connection first, which switches the file to WAL
	// before any reader connects.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}

	// query_only turns an accidental write on the read pool into an error
	// rather than a second writer racing the first.
	r, err := sql.Open("sqlite", dsn(path, "",
		"busy_timeout(5000)", "foreign_keys(1)", "query_only(1)"))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	n := max(4, runtime.GOMAXPROCS(0))
	r.SetMaxOpenConns(n)
	r.SetMaxIdleConns(n)
	r.SetConnMaxIdleTime(0)
	r.SetConnMaxLifetime(0)

	db := &DB{write: w, read: r, prepared: map[string]*sql.Stmt{}}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	for _, q := range sqlstore.HotQueries {
		st, err := r.PrepareContext(ctx, q)
		if err != nil {
			db.Close()
			return nil, fmt.Errorf("sqlite: prepare: %w", err)
		}
		db.prepared[q] = st
	}
	db.Store = sqlstore.New(dialect{db})
	if _, err := db.SealEvents(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

func dsn(path, txlock string, pragmas ...string) string {
	q := url.Values{}
	for _, p := range pragmas {
		q.Add("_pragma", p)
	}
	if txlock != "" {
		q.Set("_txlock", txlock)
	}
	return path + "?" + q.Encode()
}

// Migrate applies the embedded migrations that the database lacks. It is
// idempotent; Open calls it.
func (db *DB) Migrate(ctx context.Context) error {
	fsys, err := Migrations()
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if err := renumberLegacyHistory(ctx, db.write); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	// The global registry would mix in Go migrations registered by any other
	// package (such as the PostgreSQL store's); this provider sees only ours.
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithTableName(historyTable))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Migrations returns the migrations this store applies: its own and the
// shared ones, rendered with SQLite's types.
func Migrations() (fs.FS, error) {
	return sqlstore.Migrations(migrations, sqlstore.Types{Bytes: "BLOB", Time: "BIGINT", JSON: "TEXT", ID: "TEXT", Serial: "INTEGER PRIMARY KEY"})
}

// historyTable records the applied migrations, numbered as PostgreSQL's
// are. Stores made before the two histories were put in step recorded
// theirs in goose_db_version, where SQLite's migrations 3 to 8 are today's
// 4 to 9 (today's 3 is PostgreSQL's NOTIFY triggers, nothing on SQLite).
const historyTable = "latchkey_migrations"

// renumberLegacyHistory moves such a store's history into historyTable
// under today's numbers, in one transaction, once: the new table's
// presence says it is done.
func renumberLegacyHistory(ctx context.Context, w *sql.DB) error {
	var legacy, current int
	err := w.QueryRowContext(ctx, `SELECT
		(SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'goose_db_version'),
		(SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?)`, historyTable).Scan(&legacy, &current)
	if err != nil || legacy == 0 || current > 0 {
		return err
	}
	tx, err := w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range []string{
		// goose's own table definition for SQLite.
		`CREATE TABLE ` + historyTable + ` (id INTEGER PRIMARY KEY AUTOINCREMENT, version_id INTEGER NOT NULL,
			is_applied INTEGER NOT NULL, tstamp TIMESTAMP DEFAULT (datetime('now')))`,
		`INSERT INTO ` + historyTable + ` (version_id, is_applied, tstamp)
			SELECT version_id, is_applied, tstamp FROM goose_db_version WHERE version_id < 3 ORDER BY id`,
		`INSERT INTO ` + historyTable + ` (version_id, is_applied, tstamp)
			SELECT 3, 1, MIN(tstamp) FROM goose_db_version WHERE version_id >= 3 HAVING COUNT(*) > 0`,
		`INSERT INTO ` + historyTable + ` (version_id, is_applied, tstamp)
			SELECT version_id + 1, is_applied, tstamp FROM goose_db_version WHERE version_id >= 3 ORDER BY id`,
		`DROP TABLE goose_db_version`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// Close closes both connection pools.
func (db *DB) Close() error {
	var errs []error
	for _, st := range db.prepared {
		errs = append(errs, st.Close())
	}
	return errors.Join(append(errs, db.read.Close(), db.write.Close())...)
}

// dialect is SQLite's side of the shared store.
type dialect struct{ db *DB }

var _ sqlstore.DB = dialect{}

func (dialect) Name() string { return "sqlite" }

func (d dialect) Read() sqlstore.Conn  { return conn{q: d.db.read, prepared: d.db.prepared} }
func (d dialect) Write() sqlstore.Conn { return conn{q: d.db.write} }

// Begin starts a write transaction, which begins IMMEDIATE: it holds the
// write lock from its first read, so a read-modify-write cannot lose an
// update and needs no row locks.
func (d dialect) Begin(ctx context.Context) (sqlstore.Tx, error) {
	tx, err := d.db.write.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	return writeTx{conn{q: tx}, tx}, nil
}

type writeTx struct {
	conn
	tx *sql.Tx
}

func (t writeTx) Commit(context.Context) error { return t.tx.Commit() }
func (t writeTx) Rollback(context.Context)     { t.tx.Rollback() }

// uniqueColumns name each uniqueness rule as SQLite's message does.
var uniqueColumns = map[sqlstore.Constraint]string{
	sqlstore.KeyID:                "keys.id",
	sqlstore.UserEmailClaimed:     "users.email",
	sqlstore.ScimUserName:         "user_name_lower",
	sqlstore.ScimGroupDisplayName: "display_name_lower",
	sqlstore.VaultName:            "vaults.name",
	sqlstore.VaultSecretName:      "vault_secrets.name",
	sqlstore.VaultSecretKey:       "vault_secrets.key_id",
}

func (dialect) Unique(err error, c sqlstore.Constraint) bool {
	if !isConstraint(err, sqlite3.SQLITE_CONSTRAINT_UNIQUE) && !isConstraint(err, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY) {
		return false
	}
	return c == sqlstore.AnyConstraint || strings.Contains(err.Error(), uniqueColumns[c])
}

func (dialect) ForeignKey(err error) bool {
	return isConstraint(err, sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY)
}

// Unstorable is always false: SQLite text holds any bytes.
func (dialect) Unstorable(error) bool { return false }

// Lock is always "": the single write connection excludes other writers.
func (dialect) Lock(string) string { return "" }

func (dialect) DeferForeignKeys() string { return `PRAGMA defer_foreign_keys = ON` }

// DateParam is a plain placeholder: dates are "2006-01-02" text.
func (dialect) DateParam() string { return "?" }

// Micros subtracts: times are stored as Unix microseconds.
func (dialect) Micros(later, earlier string) string { return "(" + later + " - " + earlier + ")" }

func (dialect) ScimFilter() sqlfilter.Dialect { return scimDialect{} }

func isConstraint(err error, code int) bool {
	var e *sqlite.Error
	return errors.As(err, &e) && e.Code() == code
}
