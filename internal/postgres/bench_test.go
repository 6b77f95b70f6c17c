package postgres

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
)

// fillKeys stores a workspace with n keys whose secrets are "0", "1", …,
// inserted in one statement, and analyzes the table.
func fillKeys(tb testing.TB, db *DB, n int) string {
	tb.Helper()
	ctx := context.Background()
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	ws := &latchkey.Workspace{ID: "ws_bench", Name: "Bench", Settings: latchkey.DefaultSettings(), CreatedAt: now}
	owner := &latchkey.User{ID: "usr_bench", Email: "bench@example.com", CreatedAt: now}
	if err := db.CreateWorkspace(ctx, ws, owner, latchkey.Event{ID: "evt_bench"}); err != nil {
		tb.Fatal(err)
	}
	_, err := db.pool.Exec(ctx, `INSERT INTO keys (id, workspace_id, name, name_lower, type, environment, owner,
			scopes, settings, created_at, hash, previous_hash)
		SELECT 'key_' || lpad(i::text, 8, '0'), $1, 'k', 'k', 'public_api', 'production',
			CASE WHEN i % 2 = 0 THEN 'workspace' ELSE $2 END, '[]', '{}', $3,
			sha256(i::text::bytea), sha256(('previous ' || i)::bytea)
		FROM generate_series(0, $4 - 1) AS i`, ws.ID, owner.ID, now, n)
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := db.pool.Exec(ctx, `ANALYZE`); err != nil {
		tb.Fatal(err)
	}
	return ws.ID
}

// TestQueryPlans checks that the hot and the listing queries use indexes
// once the table holds enough keys for the planner to care.
func TestQueryPlans(t *testing.T) {
	s := newTestServer(t)
	db := open(t, s.schema())
	fillKeys(t, db, 20000)
	h := sha256.Sum256([]byte("1"))
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{rebind(sqlstore.HotQueries[0]), []any{h[:]}},
		{rebind(sqlstore.HotQueries[1]), []any{h[:]}},
		{`SELECT id FROM keys k WHERE k.workspace_id = $1 AND k.id < $2 ORDER BY k.id DESC LIMIT 51`, []any{"ws_bench", "key_00010000"}},
		{`SELECT id FROM keys k WHERE k.workspace_id = $1 AND k.owner = $2 ORDER BY k.id DESC LIMIT 51`, []any{"ws_bench", "usr_bench"}},
	} {
		rows, err := db.pool.Query(context.Background(), "EXPLAIN "+q.sql, q.args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var line string
			rows.Scan(&line)
			plan = append(plan, line)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		t.Logf("%s", text)
		if strings.Contains(text, "Seq Scan on keys") {
			t.Errorf("plan scans every key:\n%s", text)
		}
	}
}

// BenchmarkKeyByHash measures the cold verify path: one lookup by hash
// with the OwnerActive join, over the pool, among 100000 keys.
func BenchmarkKeyByHash(b *testing.B) {
	s := newTestServer(b)
	db := open(b, s.schema())
	const n = 100000
	fillKeys(b, db, n)
	hashes := make([][32]byte, 1000)
	for i := range hashes {
		hashes[i] = sha256.Sum256([]byte(fmt.Sprint(i * (n / len(hashes)))))
	}
	ctx := context.Background()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			if _, err := db.KeyByHash(ctx, hashes[i%len(hashes)]); err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}
