// Package sqlite implements latchkey.Store on an embedded SQLite database
// (modernc.org/sqlite, no cgo), with its migrations embedded in the binary.
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
	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"github.com/latchkey/latchkey"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ latchkey.Store = (*DB)(nil)

// DB is the SQLite store. It is safe for concurrent use.
type DB struct {
	write *sql.DB // one connection: SQLite serialises writers anyway
	read  *sql.DB // several connections: WAL readers do not block

	// The cold verify path's statements, prepared once per read connection
	// rather than on every call.
	byHash, byPreviousHash *sql.Stmt
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

	db := &DB{write: w, read: r}
	if err := db.Migrate(ctx); err != nil {
		db.Close()
		return nil, err
	}
	if db.byHash, err = r.PrepareContext(ctx, keySelect+`WHERE k.hash = ?`); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
	}
	if db.byPreviousHash, err = r.PrepareContext(ctx, keySelect+`WHERE k.previous_hash = ?`); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: prepare: %w", err)
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
	fsys, err := fs.Sub(migrations, "migrations")
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	// The global registry would mix in Go migrations registered by any other
	// package (such as the PostgreSQL store's); this provider sees only ours.
	p, err := goose.NewProvider(goose.DialectSQLite3, db.write, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	return nil
}

// Close closes both connection pools.
func (db *DB) Close() error {
	var errs []error
	for _, s := range []*sql.Stmt{db.byHash, db.byPreviousHash} {
		if s != nil {
			errs = append(errs, s.Close())
		}
	}
	return errors.Join(append(errs, db.read.Close(), db.write.Close())...)
}

// inTx runs fn in a write transaction and commits it unless fn fails.
func (db *DB) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("sqlite: begin: %w", err)
	}
	// Deferred, so that a panic in fn (UpdateKey's callback) cannot leave
	// the only write connection inside an open transaction.
	defer tx.Rollback()
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("sqlite: commit: %w", err)
	}
	return nil
}
