package postgres

import (
	"context"
	"errors"
	"math/rand/v2"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// Notify sends payload on channel to every session listening on it, at
// once (pg_notify outside a transaction). Payloads are at most 7999 bytes.
//
// It sends on a connection of its own, outside the pool: an instance
// confirms its invalidation channel with these notifications, and one
// queued behind the store's queries on a busy pool would come back late,
// which sends every cached key back to the store, which keeps the pool
// busy.
func (db *DB) Notify(ctx context.Context, channel, payload string) error {
	n := &db.notifier
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn == nil || n.conn.IsClosed() {
		cfg := db.conn.Copy()
		cfg.RuntimeParams["application_name"] = "latchkey notify"
		// A transaction that notifies takes an id, so its commit would
		// wait for the WAL to reach disk, holding the lock every notifying
		// commit shares: ten flushes a second per instance for
		// notifications that need order, not durability (a crash ends
		// every listener's connection anyway).
		cfg.RuntimeParams["synchronous_commit"] = "off"
		c, err := pgx.ConnectConfig(ctx, cfg)
		if err != nil {
			return wrap(err, "notify")
		}
		n.conn = c
	}
	if _, err := n.conn.Exec(ctx, `SELECT pg_notify($1, $2)`, channel, payload); err != nil {
		// Whatever state it is in, the next call starts afresh.
		closeConn(ctx, n.conn)
		n.conn = nil
		return wrap(err, "notify")
	}
	return nil
}

// closeConn closes a dedicated connection, giving the server a second to
// hear the goodbye even when ctx is already done.
func closeConn(ctx context.Context, c *pgx.Conn) {
	closeCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), time.Second)
	defer cancel()
	c.Close(closeCtx)
}

// notifier is Notify's connection.
type notifier struct {
	mu   sync.Mutex
	conn *pgx.Conn // nil until the first Notify, and after a failure
}

func (n *notifier) close() {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.conn != nil {
		closeConn(context.Background(), n.conn)
		n.conn = nil
	}
}

// How Listen watches its connection and comes back after losing it;
// variables so that a test can shorten them.
var (
	listenIdle       = 15 * time.Second // wait this long for a notification before pinging
	listenPing       = 5 * time.Second  // a ping slower than this means the connection is gone
	listenBackoffMin = 100 * time.Millisecond
	listenBackoffMax = 5 * time.Second
)

// Listen holds a dedicated connection that LISTENs on channel and calls fn
// with each notification's payload, in order, on one goroutine; it returns
// nil when ctx is done. onState, which may be nil, tells the caller whether
// notifications are flowing: onState(true) once the connection listens,
// onState(false) when it is lost (or Listen returns while listening). A
// connection that answers nothing is detected by a ping after 15 s of
// silence. Listen reconnects with jittered exponential backoff (100 ms to
// 5 s) and calls onState(true) again only after it has re-subscribed.
// Notifications sent while no connection listened are lost: a cache that
// relies on them must treat onState(true) as "forget everything".
//
// fn and onState run on Listen's goroutine: a slow fn delays the next
// notification, never drops it.
func (db *DB) Listen(ctx context.Context, channel string, fn func(payload string), onState func(connected bool)) error {
	if channel == "" || fn == nil {
		return errors.New("postgres: listen: a channel and a function are required")
	}
	if onState == nil {
		onState = func(bool) {}
	}
	backoff := listenBackoffMin
	for {
		conn, err := db.listenConn(ctx, channel)
		if err == nil {
			backoff = listenBackoffMin
			onState(true)
			// Why the connection ended matters less than that it did:
			// the caller hears of it through onState(false).
			_ = receive(ctx, conn, fn)
			onState(false)
			closeConn(ctx, conn)
		}
		if ctx.Err() != nil {
			return nil
		}
		// Jitter, so that instances cut off together do not all reconnect
		// in the same instant.
		wait := time.Duration(rand.Int64N(int64(backoff))) + backoff/2
		backoff = min(2*backoff, listenBackoffMax)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(wait):
		}
	}
}

// listenConn opens a connection outside the pool and subscribes it.
func (db *DB) listenConn(ctx context.Context, channel string) (*pgx.Conn, error) {
	cfg := db.conn.Copy()
	cfg.RuntimeParams["application_name"] = "latchkey listen"
	connectCtx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	conn, err := pgx.ConnectConfig(connectCtx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := conn.Exec(connectCtx, "LISTEN "+pgx.Identifier{channel}.Sanitize()); err != nil {
		conn.Close(connectCtx)
		return nil, err
	}
	return conn, nil
}

// receive passes notifications to fn until ctx is done or the connection
// fails.
func receive(ctx context.Context, conn *pgx.Conn, fn func(string)) error {
	for {
		waitCtx, cancel := context.WithTimeout(ctx, listenIdle)
		n, err := conn.WaitForNotification(waitCtx)
		cancel()
		switch {
		case err == nil:
			fn(n.Payload)
			continue
		case ctx.Err() != nil:
			return ctx.Err()
		case !errors.Is(err, context.DeadlineExceeded) || conn.IsClosed():
			return err
		}
		// Silence: make sure the server is still there. A timed-out wait
		// leaves the connection usable, and pgx queues notifications that
		// arrive during the ping for the next wait.
		pingCtx, cancel := context.WithTimeout(ctx, listenPing)
		err = conn.Ping(pingCtx)
		cancel()
		if err != nil {
			return err
		}
	}
}
