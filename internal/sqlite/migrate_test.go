package sqlite

import (
	"context"
	"database/sql"
	"io/fs"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/latchkey/latchkey"
)

// legacyStore makes the store an earlier release left at its migration
// oldVersion, when SQLite's history was numbered without PostgreSQL's
// migration 3 and kept in goose_db_version.
func legacyStore(t *testing.T, path string, oldVersion int64) {
	t.Helper()
	ctx := context.Background()
	w, err := sql.Open("sqlite", dsn(path, "", "foreign_keys(1)"))
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	fsys, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	p, err := goose.NewProvider(goose.DialectSQLite3, w, fsys, goose.WithDisableGlobalRegistry(true))
	if err != nil {
		t.Fatal(err)
	}
	version := oldVersion
	if version >= 3 {
		version++ // today's migration 3 changes nothing on SQLite
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM goose_db_version WHERE version_id = 3`,
		`UPDATE goose_db_version SET version_id = version_id - 1 WHERE version_id > 3`,
		`INSERT INTO workspaces (id, name, settings, created_at) VALUES ('ws_legacy', 'Legacy', '{}', 0)`,
	} {
		if _, err := w.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func TestLegacyHistoryRenumbered(t *testing.T) {
	ctx := context.Background()
	all, err := Migrations()
	if err != nil {
		t.Fatal(err)
	}
	files, err := fs.Glob(all, "*.sql")
	if err != nil {
		t.Fatal(err)
	}
	for _, old := range []int64{2, 3, 5, int64(len(files) - 1)} {
		path := filepath.Join(t.TempDir(), "latchkey.db")
		legacyStore(t, path, old)
		db := open(t, path) // migrates
		var versions []int64
		rows, err := db.read.QueryContext(ctx, `SELECT version_id FROM `+historyTable+` ORDER BY id`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var v int64
			rows.Scan(&v)
			versions = append(versions, v)
		}
		rows.Close()
		// The files' own numbers: a number reserved for a migration not
		// merged yet leaves a gap.
		want := []int64{0}
		for _, f := range files {
			v, _ := strconv.ParseInt(filepath.Base(f)[:5], 10, 64)
			want = append(want, v)
		}
		if !slices.Equal(versions, want) {
			t.Errorf("from version %d: history %v, want %v", old, versions, want)
		}
		var legacy int
		db.read.QueryRowContext(ctx, `SELECT COUNT(*) FROM sqlite_master WHERE name = 'goose_db_version'`).Scan(&legacy)
		if legacy != 0 {
			t.Errorf("from version %d: goose_db_version still there", old)
		}
		if ws, err := db.Workspace(ctx, "ws_legacy"); err != nil || ws.Name != "Legacy" {
			t.Errorf("from version %d: workspace made before the upgrade: got %v, %v", old, ws, err)
		}
		// Every migration ran once: the store takes a workspace with an
		// owner, which needs every table.
		now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
		ws := &latchkey.Workspace{ID: "ws_new", Name: "New", Settings: latchkey.DefaultSettings(), CreatedAt: now}
		owner := &latchkey.User{ID: "usr_new", Email: "new@acme.test", CreatedAt: now}
		if err := db.CreateWorkspace(ctx, ws, owner, latchkey.Event{ID: "evt_new", At: now, Action: latchkey.EventWorkspaceCreated}); err != nil {
			t.Errorf("from version %d: CreateWorkspace after the upgrade: %v", old, err)
		}
	}
}
