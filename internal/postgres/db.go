// Package postgres runs latchkey's store (internal/sqlstore) on PostgreSQL
// (pgx/v5 and its pool), with its migrations embedded in the binary, so
// any number of latchkey instances can share one database. It also offers what several
// instances need to cooperate: LISTEN/NOTIFY for cache invalidation and
// session advisory locks for jobs that must run on one instance at a time.
//
// Transactions run at READ COMMITTED. Read-modify-write methods (UpdateKey,
// UpdateSettings, UpdateMember, UpdateUser, IssueScimKey, AcceptInvite)
// lock the rows they read with SELECT ... FOR UPDATE, so concurrent
// updates wait for each other instead of losing one; membership changes
// also lock their workspace's row, which makes the last-owner rule hold
// when two owners leave at the same moment.
package postgres

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

//go:embed migrations/*.sql
var migrations embed.FS

var _ latchkey.Store = (*DB)(nil)

// DB is the PostgreSQL store. It is safe for concurrent use.
type DB struct {
	*sqlstore.Store
	pool *pgxpool.Pool
	// conn configures the dedicated connections of Listen and
	// TryAdvisoryLock, which live outside the pool so that a long job or
	// listener never takes a connection from the store's queries.
	conn *pgx.ConnConfig
}

// Open connects to the database at databaseURL (a postgres:// URL or a
// key=value string, as libpq accepts), migrates it to the latest schema and
// returns the store. Connect does the same without migrating. pgxpool's parameters (pool_max_conns, …) size the
// pool; others, such as search_path, pass through to every connection.
// It needs PostgreSQL 11 or later.
func Open(ctx context.Context, databaseURL string) (*DB, error) {
	db, err := Connect(ctx, databaseURL)
	if err != nil {
		return nil, err
	}
	if err := db.Migrate(ctx); err != nil {
		db.pool.Close()
		return nil, err
	}
	// Events an earlier release wrote join their chains now.
	if _, err := db.SealEvents(ctx); err != nil {
		db.pool.Close()
		return nil, err
	}
	return db, nil
}

// Connect opens the store without migrating it, for deployments that run
// `latchkey migrate` as a separate step.
func Connect(ctx context.Context, databaseURL string) (*DB, error) {
	cfg, err := pgxpool.ParseConfig(databaseURL)
	if err != nil {
		// pgx's message may quote the URL, password included.
		return nil, errors.New("postgres: invalid database URL")
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	db := &DB{pool: pool, conn: cfg.ConnConfig.Copy()}
	db.Store = sqlstore.New(dialect{db})
	pingCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pingCtx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: connect: %w", err)
	}
	return db, nil
}

// Migrate applies the embedded migrations that the database lacks. It is
// idempotent, and instances starting together migrate one at a time: goose
// holds a session advisory lock meanwhile. Open calls it.
func (db *DB) Migrate(ctx context.Context) error {
	fsys, err := Migrations()
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 300))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	sqlDB := stdlib.OpenDBFromPool(db.pool)
	defer sqlDB.Close()
	// The global registry would mix in Go migrations registered by any
	// other package; this provider sees only ours.
	p, err := goose.NewProvider(goose.DialectPostgres, sqlDB, fsys,
		goose.WithDisableGlobalRegistry(true), goose.WithSessionLocker(locker))
	if err != nil {
		return fmt.Errorf("postgres: migrations: %w", err)
	}
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Migrations returns the migrations this store applies: its own and the
// shared ones, rendered with PostgreSQL's types.
func Migrations() (fs.FS, error) {
	return sqlstore.Migrations(migrations, sqlstore.Types{Postgres: true, Bytes: "BYTEA", Time: "TIMESTAMPTZ", JSON: "JSONB", ID: `TEXT COLLATE "C"`})
}

// Close closes the connection pool. Listeners and held advisory locks have
// their own connections and end with their context or release function.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}
