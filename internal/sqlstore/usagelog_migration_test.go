package sqlstore_test

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"io/fs"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/pressly/goose/v3"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/postgres/pgtest"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// Going back before the usage log (migration 20) folds the entries it
// holds, so that a downgrade loses no count; coming back starts an empty
// log over the same counters.
func TestUsageLogDownFoldsTheLog(t *testing.T) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "latchkey.db")
		st, err := sqlite.Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		raw, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		fsys, err := sqlite.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		testUsageLogDown(t, st, raw, goose.DialectSQLite3, fsys, goose.WithTableName("latchkey_migrations"))
	})
	t.Run("postgres", func(t *testing.T) {
		d := pgtest.New(t)
		st, err := postgres.Open(ctx, d.URL(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		raw, err := sql.Open("pgx", d.URL(nil))
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		fsys, err := postgres.Migrations()
		if err != nil {
			t.Fatal(err)
		}
		testUsageLogDown(t, st, raw, goose.DialectPostgres, fsys)
	})
}

func testUsageLogDown(t *testing.T, st latchkey.Store, raw *sql.DB, dialect goose.Dialect, fsys fs.FS, opts ...goose.ProviderOption) {
	ctx := context.Background()
	now := time.Date(2030, 6, 10, 12, 0, 0, 0, time.UTC)
	day := now.Truncate(24 * time.Hour)
	ws := &latchkey.Workspace{ID: "ws_down", Name: "Down", Settings: latchkey.DefaultSettings(), CreatedAt: now}
	owner := &latchkey.User{ID: "usr_down", Email: "down@example.com", CreatedAt: now}
	if err := st.CreateWorkspace(ctx, ws, owner, latchkey.Event{ID: "evt_down_ws", WorkspaceID: ws.ID, At: now}); err != nil {
		t.Fatal(err)
	}
	k := &latchkey.Key{ID: "key_down", WorkspaceID: ws.ID, Name: "k", Type: latchkey.TypePublicAPI, Environment: latchkey.Production,
		Owner: latchkey.OwnerWorkspace, CreatedBy: owner.ID, CreatedAt: now, Hash: sha256.Sum256([]byte("down"))}
	if err := st.CreateKey(ctx, k, latchkey.Event{ID: "evt_down_key", WorkspaceID: ws.ID, At: now}); err != nil {
		t.Fatal(err)
	}
	entry := func(valid int64, last time.Time) []latchkey.Usage {
		return []latchkey.Usage{{WorkspaceID: ws.ID, KeyID: k.ID, Day: day, Environment: latchkey.Production, Valid: valid, Denied: 1,
			Outcomes: map[string]int64{latchkey.OutcomeValid: valid, string(latchkey.RateLimited): 1},
			Tags:     map[string]latchkey.TagCount{"path=/v1": {Verifications: valid + 1, Valid: valid}}, LastUsedAt: last}}
	}
	// One entry already folded, two still in the log.
	if err := st.AddUsage(ctx, entry(1, now)); err != nil {
		t.Fatal(err)
	}
	if _, err := st.FoldUsage(ctx, "", 10); err != nil {
		t.Fatal(err)
	}
	for i, valid := range []int64{2, 3} {
		if err := st.AddUsage(ctx, entry(valid, now.Add(time.Duration(i+1)*time.Hour))); err != nil {
			t.Fatal(err)
		}
	}
	p, err := goose.NewProvider(dialect, raw, fsys, append(opts, goose.WithDisableGlobalRegistry(true))...)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.DownTo(ctx, 19); err != nil {
		t.Fatalf("down to 19: %v", err)
	}
	if _, err := p.UpTo(ctx, 20); err != nil {
		t.Fatalf("up to 20 again: %v", err)
	}
	days, err := st.Usage(ctx, ws.ID, k.ID, day, day)
	if err != nil {
		t.Fatal(err)
	}
	want := []latchkey.UsageDay{{Day: "2030-06-10", Environment: latchkey.Production, Valid: 6, Denied: 3,
		Outcomes: map[string]int64{latchkey.OutcomeValid: 6, string(latchkey.RateLimited): 3}}}
	if !reflect.DeepEqual(days, want) {
		t.Errorf("usage after going back and forth: got %+v, want %+v", days, want)
	}
	tags, err := st.UsageTags(ctx, ws.ID, k.ID, day, day)
	if err != nil {
		t.Fatal(err)
	}
	if len(tags) != 1 || tags[0].TagCount != (latchkey.TagCount{Verifications: 9, Valid: 6}) {
		t.Errorf("tags after going back and forth: got %+v, want path=/v1 9 verifications, 6 valid", tags)
	}
	got, err := st.Key(ctx, ws.ID, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if want := now.Add(2 * time.Hour); got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) {
		t.Errorf("last_used_at after going back and forth: got %v, want %v", got.LastUsedAt, want)
	}
}
