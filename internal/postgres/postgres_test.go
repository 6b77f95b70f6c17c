package postgres

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/postgres/pgtest"
	"github.com/latchkey/latchkey/internal/storetest"
)

// testServer is a database of its own for one test (see pgtest), in which
// each store gets a fresh schema.
type testServer struct {
	*pgtest.Database
	t     testing.TB
	admin *pgx.Conn
	name  string
	n     atomic.Int64 // schemas made so far
}

func newTestServer(t testing.TB) *testServer {
	t.Helper()
	d := pgtest.New(t)
	return &testServer{Database: d, t: t, admin: d.Admin, name: d.Name}
}

// url returns the URL of the test's database with extra parameters.
func (s *testServer) url(params map[string]string) string { return s.URL(params) }

// schema creates an empty schema in the test's database and returns the
// URL of a store that lives in it.
func (s *testServer) schema() string {
	s.t.Helper()
	name := fmt.Sprintf("s%d", s.n.Add(1))
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, s.url(nil))
	if err != nil {
		s.t.Fatalf("connect: got %v, want nil", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+name); err != nil {
		s.t.Fatalf("CREATE SCHEMA: got %v, want nil", err)
	}
	return s.url(map[string]string{"search_path": name})
}

// open opens a store at dsn, closed when t ends.
func open(t testing.TB, dsn string) *DB {
	t.Helper()
	db, err := Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("Open: got %v, want nil", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// TestStore runs the contract suite, each subtest on an empty schema of
// one database: a schema costs a fraction of a database to create.
func TestStore(t *testing.T) {
	s := newTestServer(t)
	start := time.Now()
	storetest.Run(t, func(t *testing.T) latchkey.Store { return open(t, s.schema()) })
	t.Logf("%d stores in %v", s.n.Load(), time.Since(start).Round(time.Millisecond))
}

func TestMigrate(t *testing.T) {
	s := newTestServer(t)
	dsn := s.schema()
	ctx := context.Background()

	// Instances that start together migrate one at a time and all succeed.
	errs := make(chan error, 3)
	for range 3 {
		go func() {
			db, err := Open(ctx, dsn)
			if err == nil {
				db.Close()
			}
			errs <- err
		}()
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Fatalf("concurrent Open: got %v, want nil", err)
		}
	}
	db := open(t, dsn)
	if err := db.Migrate(ctx); err != nil {
		t.Fatalf("Migrate again: got %v, want nil", err)
	}
	all, _ := Migrations()
	files, _ := fs.Glob(all, "*.sql")
	var version, last int64
	fmt.Sscanf(path.Base(files[len(files)-1]), "%05d", &last) // the newest file's number
	if err := db.pool.QueryRow(ctx, `SELECT max(version_id) FROM goose_db_version`).Scan(&version); err != nil || version != last {
		t.Fatalf("schema version: got %d, %v, want %d", version, err, last)
	}

	if _, err := Open(ctx, "postgres://user:secret@127.0.0.1:1/x?connect_timeout=1"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Open(unreachable): got %v, want an error without the password", err)
	}
	if _, err := Open(ctx, "postgres://user:secret@[::1"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Fatalf("Open(malformed): got %v, want an error without the password", err)
	}
}

// TestUnstorableText checks what PostgreSQL cannot hold and SQLite can:
// NUL characters. Writes answer EINVALID, lookups ENOTFOUND, filters
// nothing, never an internal error.
func TestUnstorableText(t *testing.T) {
	s := newTestServer(t)
	db := open(t, s.schema())
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ws := &latchkey.Workspace{ID: "ws_1", Name: "Acme", Settings: latchkey.DefaultSettings(), CreatedAt: now}
	owner := &latchkey.User{ID: "usr_1", Email: "ann@acme.test", CreatedAt: now}
	if err := db.CreateWorkspace(ctx, ws, owner, latchkey.Event{ID: "evt_1"}); err != nil {
		t.Fatalf("CreateWorkspace: got %v, want nil", err)
	}
	k := &latchkey.Key{ID: "key_1", WorkspaceID: ws.ID, Name: "nul\x00name", Type: "public_api",
		Environment: latchkey.Production, Owner: latchkey.OwnerWorkspace, CreatedAt: now, Hash: [32]byte{1}}
	if err := db.CreateKey(ctx, k, latchkey.Event{ID: "evt_2"}); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("CreateKey(NUL in name): got %v, want EINVALID", err)
	}
	k.Name, k.Settings = "ok", map[string]any{"x": "nul\x00value"}
	if err := db.CreateKey(ctx, k, latchkey.Event{ID: "evt_3"}); latchkey.ErrorCode(err) != latchkey.EINVALID {
		t.Fatalf("CreateKey(NUL in settings): got %v, want EINVALID", err)
	}
	if _, err := db.Key(ctx, ws.ID, "key\x00"); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		t.Fatalf("Key(NUL in id): got %v, want ENOTFOUND", err)
	}
	if _, err := db.User(ctx, "usr\xff"); latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		t.Fatalf("User(invalid UTF-8 id): got %v, want ENOTFOUND", err)
	}
	list, _, err := db.Keys(ctx, latchkey.KeyFilter{WorkspaceID: ws.ID, Query: "a\x00"})
	if err != nil || len(list) != 0 {
		t.Fatalf("Keys(NUL in query): got %v, %v, want none", list, err)
	}
	evs, _, err := db.Events(ctx, latchkey.EventFilter{WorkspaceID: ws.ID, Target: "\x00"})
	if err != nil || len(evs) != 0 {
		t.Fatalf("Events(NUL in target): got %v, %v, want none", evs, err)
	}
}
