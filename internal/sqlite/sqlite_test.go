package sqlite

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storetest"
)

func open(t *testing.T, path string) *DB {
	t.Helper()
	db, err := Open(context.Background(), path)
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestStore(t *testing.T) {
	storetest.Run(t, func(t *testing.T) latchkey.Store {
		return open(t, filepath.Join(t.TempDir(), "latchkey.db"))
	})
}

func TestReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "latchkey.db")
	db, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ws := &latchkey.Workspace{ID: "ws_01JD0000000000000000000001", Name: "Acme", Settings: latchkey.DefaultSettings(), CreatedAt: now}
	owner := &latchkey.User{ID: "usr_01JD0000000000000000000001", Email: "ann@acme.test", CreatedAt: now}
	ev := latchkey.Event{ID: "evt_01JD0000000000000000000001", At: now, Action: latchkey.EventWorkspaceCreated}
	if err := db.CreateWorkspace(ctx, ws, owner, ev); err != nil {
		t.Fatalf("CreateWorkspace: got %v, want nil", err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("Close: got %v, want nil", err)
	}

	// A second Open of the same file migrates nothing and finds the data.
	db = open(t, path)
	got, err := db.Workspace(ctx, ws.ID)
	if err != nil || got.Name != "Acme" {
		t.Fatalf("Workspace after reopen: got %v, %v, want Acme", got, err)
	}
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: got %v, want nil", err)
	}
	if ok, err := db.Initialized(ctx); err != nil || !ok {
		t.Fatalf("Initialized after reopen: got %v, %v, want true", ok, err)
	}
}

func TestPragmas(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "latchkey.db"))
	tests := []struct {
		pool   string
		pragma string
		want   string
	}{
		{"write", "journal_mode", "wal"},
		{"write", "synchronous", "2"}, // FULL
		{"write", "foreign_keys", "1"},
		{"write", "busy_timeout", "5000"},
		{"read", "journal_mode", "wal"},
		{"read", "query_only", "1"},
		{"read", "busy_timeout", "5000"},
	}
	for _, tt := range tests {
		pool := db.write
		if tt.pool == "read" {
			pool = db.read
		}
		var got string
		if err := pool.QueryRow("PRAGMA " + tt.pragma).Scan(&got); err != nil || got != tt.want {
			t.Errorf("%s PRAGMA %s: got %q, %v, want %q", tt.pool, tt.pragma, got, err, tt.want)
		}
	}
	// The read pool refuses writes, so nothing bypasses the single writer.
	if _, err := db.read.Exec(`DELETE FROM users`); err == nil {
		t.Errorf("write on the read pool: got nil error, want an error")
	}
}
