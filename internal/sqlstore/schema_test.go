package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/postgres/pgtest"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// The shared store's SQL runs on both schemas, so after migrating they
// must hold the same tables with the same columns, and the two migration
// folders the same numbered history.

// historyTables record applied migrations; they are goose's, not ours.
var historyTables = []string{"goose_db_version", "latchkey_migrations"}

func TestSchemasInStep(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	lite, err := sqlite.Open(ctx, path) // migrates
	if err != nil {
		t.Fatal(err)
	}
	lite.Close()
	file, err := sql.Open("sqlite", path)
	if err != nil {
		t.Fatal(err)
	}
	defer file.Close()
	liteCols := columns(t, ctx, func(ctx context.Context, q string) ([]string, error) {
		rows, err := file.QueryContext(ctx, q)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var c string
			if err := rows.Scan(&c); err != nil {
				return nil, err
			}
			out = append(out, c)
		}
		return out, rows.Err()
	}, `SELECT m.name || '.' || p.name FROM sqlite_master m, pragma_table_info(m.name) p
		WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%'`)

	d := pgtest.New(t)
	pg, err := postgres.Open(ctx, d.URL(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	conn, err := pgx.Connect(ctx, d.URL(nil))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	pgCols := columns(t, ctx, func(ctx context.Context, q string) ([]string, error) {
		rows, err := conn.Query(ctx, q)
		if err != nil {
			return nil, err
		}
		return pgx.CollectRows(rows, pgx.RowTo[string])
	}, `SELECT table_name || '.' || column_name FROM information_schema.columns WHERE table_schema = current_schema()`)

	if only := missing(liteCols, pgCols); len(only) > 0 {
		t.Errorf("only in SQLite: %v", only)
	}
	if only := missing(pgCols, liteCols); len(only) > 0 {
		t.Errorf("only in PostgreSQL: %v", only)
	}
	if len(liteCols) < 50 {
		t.Errorf("SQLite schema has %d columns; the query found too few to compare", len(liteCols))
	}
}

func TestMigrationHistoriesInStep(t *testing.T) {
	names := func(open func() (fs.FS, error)) []string {
		fsys, err := open()
		if err != nil {
			t.Fatal(err)
		}
		names, err := sqlstore.MigrationNames(fsys)
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	lite, pg := names(sqlite.Migrations), names(postgres.Migrations)
	if !slices.Equal(lite, pg) {
		t.Errorf("migrations differ:\n  sqlite:   %v\n  postgres: %v", lite, pg)
	}
	for i, n := range lite {
		if !strings.HasPrefix(n, fmt.Sprintf("%05d_", i+1)) {
			t.Errorf("migration %s: want number %05d, the histories have no gaps", n, i+1)
		}
	}
}

func columns(t *testing.T, ctx context.Context, query func(context.Context, string) ([]string, error), q string) []string {
	t.Helper()
	cols, err := query(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	cols = slices.DeleteFunc(cols, func(c string) bool {
		return slices.Contains(historyTables, strings.SplitN(c, ".", 2)[0])
	})
	slices.Sort(cols)
	return cols
}

// missing returns what a has and b lacks.
func missing(a, b []string) []string {
	var out []string
	for _, c := range a {
		if !slices.Contains(b, c) {
			out = append(out, c)
		}
	}
	return out
}
