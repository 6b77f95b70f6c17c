package postgres

import (
	"context"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// TryAdvisoryLock tries to take the session-level advisory lock key on a
// dedicated connection, for a job that must run on one instance at a time.
// With ok true the lock is held until release is called (release may be
// called more than once) or the connection is lost; with ok false another
// session holds it and release is nil. The lock is also lost if the
// connection breaks, so jobs under it must be idempotent. Keys are shared
// with every client of the database; goose's migration lock uses
// 5887940537704921958.
func (db *DB) TryAdvisoryLock(ctx context.Context, key int64) (release func(), ok bool, err error) {
	cfg := db.conn.Copy()
	cfg.RuntimeParams["application_name"] = "latchkey lock"
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, false, wrap(err, "advisory lock")
	}
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, key).Scan(&ok); err != nil || !ok {
		conn.Close(context.WithoutCancel(ctx))
		return nil, false, wrap(err, "advisory lock")
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			// Ending the session would release the lock too, but the
			// server does that after Close returns; the unlock is done
			// when it answers, so another instance can take the lock at once.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			conn.Exec(ctx, `SELECT pg_advisory_unlock($1)`, key)
			conn.Close(ctx)
		})
	}
	return release, true, nil
}
