package postgres

import (
	"context"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/latchkey/latchkey/internal/sqlstore"
)

// querier is what the pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// conn runs the shared store's statements: it numbers their placeholders
// and returns times in UTC, as the SQLite store does.
type conn struct{ q querier }

var (
	_ sqlstore.Conn    = conn{}
	_ sqlstore.Batcher = conn{}
)

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	tag, err := c.q.Exec(ctx, rebind(query), args...)
	return tag.RowsAffected(), err
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	rows, err := c.q.Query(ctx, rebind(query), args...)
	if err != nil {
		return nil, err
	}
	return resultRows{rows}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	return row{c.q.QueryRow(ctx, rebind(query), args...)}
}

// ExecBatch sends every statement in one round trip.
func (c conn) ExecBatch(ctx context.Context, stmts []sqlstore.Stmt) error {
	b := &pgx.Batch{}
	for _, st := range stmts {
		b.Queue(rebind(st.Query), st.Args...)
	}
	return c.q.SendBatch(ctx, b).Close()
}

type row struct{ r pgx.Row }

func (r row) Scan(dest ...any) error { return inUTC(r.r.Scan(dest...), dest) }

type resultRows struct{ pgx.Rows }

func (r resultRows) Scan(dest ...any) error { return inUTC(r.Rows.Scan(dest...), dest) }

// inUTC puts the scanned times in UTC, whatever the session's time zone.
func inUTC(err error, dest []any) error {
	if err != nil {
		return err
	}
	for _, d := range dest {
		switch t := d.(type) {
		case *time.Time:
			*t = t.UTC()
		case **time.Time:
			if *t != nil {
				u := (*t).UTC()
				*t = &u
			}
		}
	}
	return nil
}

// rebind numbers the shared SQL's placeholders as PostgreSQL wants them:
// "?" becomes the next "$n" and "?n" becomes "$n". String literals are
// copied as they are.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n, quoted := 0, false
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			j := i + 1
			for j < len(query) && query[j] >= '0' && query[j] <= '9' {
				j++
			}
			b.WriteByte('$')
			if j > i+1 {
				b.WriteString(query[i+1 : j])
			} else {
				n++
				b.WriteString(strconv.Itoa(n))
			}
			i = j - 1
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}
