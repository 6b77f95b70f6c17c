package sqlite

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/latchkey/latchkey/internal/sqlstore"
)

// Times are stored as unix microseconds: an integer compares and indexes
// the same way on every store, and microseconds are PostgreSQL's
// precision. conn converts them on the way in and out, so the shared store
// passes and scans time.Time and *time.Time like on PostgreSQL.

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// conn runs the shared store's statements on a pool or a transaction.
// prepared holds statements prepared once on the read pool.
type conn struct {
	q        querier
	prepared map[string]*sql.Stmt
}

var (
	_ sqlstore.Conn    = conn{}
	_ sqlstore.Batcher = conn{}
)

func (c conn) Exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := c.q.ExecContext(ctx, query, encode(args)...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ExecBatch runs the statements in order, preparing each distinct query
// once: a usage flush repeats a few statements for thousands of keys, and
// SQLite would otherwise parse every one of them again.
func (c conn) ExecBatch(ctx context.Context, stmts []sqlstore.Stmt) error {
	p, ok := c.q.(interface {
		PrepareContext(ctx context.Context, query string) (*sql.Stmt, error)
	})
	if !ok {
		for _, st := range stmts {
			if _, err := c.Exec(ctx, st.Query, st.Args...); err != nil {
				return err
			}
		}
		return nil
	}
	prepared := make(map[string]*sql.Stmt)
	defer func() {
		for _, st := range prepared {
			st.Close()
		}
	}()
	for _, s := range stmts {
		st := prepared[s.Query]
		if st == nil {
			var err error
			if st, err = p.PrepareContext(ctx, s.Query); err != nil {
				return err
			}
			prepared[s.Query] = st
		}
		if _, err := st.ExecContext(ctx, encode(s.Args)...); err != nil {
			return err
		}
	}
	return nil
}

func (c conn) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	var rows *sql.Rows
	var err error
	if st := c.prepared[query]; st != nil {
		rows, err = st.QueryContext(ctx, encode(args)...)
	} else {
		rows, err = c.q.QueryContext(ctx, query, encode(args)...)
	}
	if err != nil {
		return nil, err
	}
	return resultRows{rows}, nil
}

func (c conn) QueryRow(ctx context.Context, query string, args ...any) sqlstore.Row {
	if st := c.prepared[query]; st != nil {
		return row{st.QueryRowContext(ctx, encode(args)...)}
	}
	return row{c.q.QueryRowContext(ctx, query, encode(args)...)}
}

// encode turns time arguments into unix microseconds (NULL for a nil
// *time.Time), copying args only when one is a time.
func encode(args []any) []any {
	out := args
	for i, a := range args {
		var v any
		switch t := a.(type) {
		case time.Time:
			v = t.UnixMicro()
		case *time.Time:
			if t != nil {
				v = t.UnixMicro()
			}
		default:
			continue
		}
		if &out[0] == &args[0] {
			out = slices.Clone(args)
		}
		out[i] = v
	}
	return out
}

type scanner interface{ Scan(dest ...any) error }

type row struct{ r scanner }

func (r row) Scan(dest ...any) error { return scan(r.r, dest) }

type resultRows struct{ *sql.Rows }

func (r resultRows) Scan(dest ...any) error { return scan(r.Rows, dest) }
func (r resultRows) Close()                 { r.Rows.Close() }

// timeDest is a time column being scanned: into t, or into *nt when the
// column may be NULL.
type timeDest struct {
	t  *time.Time
	nt **time.Time
	v  sql.NullInt64
}

// scan scans into dest, reading unix microseconds into *time.Time and
// **time.Time destinations.
func scan(r scanner, dest []any) error {
	var times []timeDest
	d := dest
	for i, v := range dest {
		switch p := v.(type) {
		case *time.Time:
			times = append(times, timeDest{t: p})
		case **time.Time:
			times = append(times, timeDest{nt: p})
		default:
			continue
		}
		if len(times) == 1 {
			d = slices.Clone(dest)
			times = slices.Grow(times, len(dest)-i)
		}
		d[i] = &times[len(times)-1].v
	}
	if err := r.Scan(d...); err != nil {
		return err
	}
	for _, td := range times {
		switch {
		case td.t != nil:
			*td.t = time.UnixMicro(td.v.Int64).UTC()
		case td.v.Valid:
			t := time.UnixMicro(td.v.Int64).UTC()
			*td.nt = &t
		default:
			*td.nt = nil
		}
	}
	return nil
}
