package sqlite

import (
	"context"
	"crypto/sha256"
	"fmt"
	mathrand "math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
	"github.com/latchkey/latchkey/internal/storetest"
)

// BenchmarkKeyByHash measures the cold verify path: one lookup by hash on
// the read pool, with the OwnerActive join.
func BenchmarkKeyByHash(b *testing.B) { benchKeyByHash(b, false) }

// BenchmarkKeyByHashDeadline calls KeyByHash as storeguard does, under a
// deadline: a cancellable context makes database/sql and the driver each
// watch it for the length of the query. The difference from
// BenchmarkKeyByHash is what that watching costs.
func BenchmarkKeyByHashDeadline(b *testing.B) { benchKeyByHash(b, true) }

var benchNow = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)

// benchDB opens a store in a temporary directory, closed when b ends,
// holding one workspace and its owner.
func benchDB(b *testing.B) (*DB, *latchkey.Workspace, *latchkey.User) {
	db, err := Open(context.Background(), filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	ws := &latchkey.Workspace{ID: "ws_bench", Name: "Bench", Settings: latchkey.DefaultSettings(), CreatedAt: benchNow}
	owner := &latchkey.User{ID: "usr_bench", Email: "bench@example.com", CreatedAt: benchNow}
	if err := db.CreateWorkspace(context.Background(), ws, owner, latchkey.Event{ID: "evt_bench"}); err != nil {
		b.Fatal(err)
	}
	return db, ws, owner
}

func benchKeyByHash(b *testing.B, deadline bool) {
	ctx := context.Background()
	db, ws, owner := benchDB(b)
	const n = 1000
	var hashes [n][32]byte
	for i := range n {
		hashes[i] = sha256.Sum256([]byte(fmt.Sprint(i)))
		k := &latchkey.Key{ID: fmt.Sprintf("key_%05d", i), WorkspaceID: ws.ID, Name: "k", Type: "public_api",
			Environment: latchkey.Production, Owner: owner.ID, CreatedAt: benchNow, Hash: hashes[i],
			Scopes: []string{"items:read"}}
		if err := db.CreateKey(ctx, k, latchkey.Event{ID: fmt.Sprintf("evt_%05d", i)}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			qctx, cancel := ctx, context.CancelFunc(func() {})
			if deadline {
				qctx, cancel = context.WithTimeout(ctx, time.Second)
			}
			_, err := db.KeyByHash(qctx, hashes[i%n])
			cancel()
			if err != nil {
				b.Error(err)
				return
			}
			i++
		}
	})
}

func TestQueryPlans(t *testing.T) {
	db := open(t, filepath.Join(t.TempDir(), "latchkey.db"))
	for _, q := range []string{
		strings.Replace(sqlstore.HotQueries[0], "?", "x'00'", 1),
		strings.Replace(sqlstore.HotQueries[1], "?", "x'00'", 1),
		`SELECT id FROM keys k WHERE k.workspace_id = 'ws' AND k.id < 'key_z' ORDER BY k.id DESC LIMIT 51`,
		`SELECT id FROM events WHERE workspace_id = 'ws' AND target = 'x' ORDER BY id DESC LIMIT 51`,
	} {
		rows, err := db.read.Query("EXPLAIN QUERY PLAN " + q)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id, parent, unused int
			var detail string
			rows.Scan(&id, &parent, &unused, &detail)
			t.Logf("%s", detail)
		}
		rows.Close()
	}
}

// BenchmarkAddUsage measures a usage flush: one AddUsage of 2,000 keys'
// counts (the verifier's flush chunk), each with a last use a minute after
// the one before, so that every key's row is written too.
func BenchmarkAddUsage(b *testing.B) {
	ctx := context.Background()
	db, ws, _ := benchDB(b)
	const n = 2000
	batch := make([]latchkey.Usage, n)
	for i := range n {
		k := &latchkey.Key{ID: fmt.Sprintf("key_%05d", i), WorkspaceID: ws.ID, Name: "k", Type: "public_api",
			Environment: latchkey.Production, Owner: latchkey.OwnerWorkspace, CreatedAt: benchNow, Hash: sha256.Sum256([]byte(fmt.Sprint(i)))}
		if err := db.CreateKey(ctx, k, latchkey.Event{ID: fmt.Sprintf("evt_%05d", i)}); err != nil {
			b.Fatal(err)
		}
		batch[i] = latchkey.Usage{WorkspaceID: ws.ID, KeyID: k.ID, Day: benchNow, Environment: latchkey.Production, Valid: 3, Denied: 1}
	}
	b.ResetTimer()
	for i := range b.N {
		for j := range batch {
			batch[j].LastUsedAt = benchNow.Add(time.Duration(i) * latchkey.LastUsedStep)
		}
		if err := db.AddUsage(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*n), "µs/key")
}

// BenchmarkUsageFlushLargeStore is one instance's usage flush in a store
// of many keys, each with a row of today's usage (as after a day of
// traffic): 10,000 keys in use, spread over the whole store, each with
// its counts and a last use. It is the flush's share of the million-key
// row of the load harness, per key.
func BenchmarkUsageFlushLargeStore(b *testing.B) {
	for _, stored := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", stored), func(b *testing.B) {
			db, batch := largeUsageStore(b, stored)
			for b.Loop() {
				flushBatch(b, db, batch)
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(batch)), "µs/key")
		})
	}
}

// BenchmarkUsageFoldLargeStore is a fold of a minute of one instance's
// flushes (12, one every 5 seconds) in the same stores: the daily
// counters and last_used_at of each of the 10,000 keys in use are written
// once. µs/key is per key in use.
func BenchmarkUsageFoldLargeStore(b *testing.B) {
	for _, stored := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("keys=%d", stored), func(b *testing.B) {
			db, batch := largeUsageStore(b, stored)
			minute := 0
			var folding time.Duration
			for b.Loop() {
				b.StopTimer()
				minute++
				for range 12 {
					for j := range batch {
						batch[j].LastUsedAt = benchNow.Add(time.Duration(minute) * latchkey.LastUsedStep)
					}
					flushBatch(b, db, batch)
				}
				b.StartTimer()
				t := time.Now()
				if err := storetest.FoldAll(context.Background(), db, 1000); err != nil {
					b.Fatal(err)
				}
				folding += time.Since(t)
			}
			b.ReportMetric(float64(folding.Microseconds())/float64(b.N*len(batch)), "µs/key")
		})
	}
}

// largeUsageStore seeds a store of stored keys and returns the usage of
// 10,000 of them, picked at random, sorted as the verifier flushes.
func largeUsageStore(b *testing.B, stored int) (*DB, []latchkey.Usage) {
	db, ws, _ := benchDB(b)
	seedUsage(b, db, ws.ID, stored)
	const active = 10_000
	batch := make([]latchkey.Usage, active)
	for i, p := range mathrand.Perm(stored)[:active] {
		batch[i] = latchkey.Usage{WorkspaceID: ws.ID, KeyID: fmt.Sprintf("key_%08d", p), Day: benchNow,
			Environment: latchkey.Production, Valid: 10, Outcomes: map[string]int64{latchkey.OutcomeValid: 10},
			LastUsedAt: benchNow}
	}
	slices.SortFunc(batch, func(a, b latchkey.Usage) int { return strings.Compare(a.KeyID, b.KeyID) })
	return db, batch
}

// flushBatch writes batch as the verifier does, in chunks of 2,000.
func flushBatch(b *testing.B, db *DB, batch []latchkey.Usage) {
	for c := range slices.Chunk(batch, 2000) {
		if err := db.AddUsage(context.Background(), c); err != nil {
			b.Fatal(err)
		}
	}
}

// seedUsage inserts n keys named key_00000000 on, each with a row of
// usage today, in one transaction of plain inserts.
func seedUsage(b *testing.B, db *DB, ws string, n int) {
	ctx := context.Background()
	tx, err := db.write.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	for _, q := range []string{
		`INSERT INTO keys (id, workspace_id, name, name_lower, description, type, environment, owner, scopes, settings,
			created_by, created_at, expires_at, start, hash)
			VALUES (?1, ?2, 'k', 'k', '', 'public_api', 'production', 'workspace', '[]', '{}', 'usr_bench', 0, NULL, 'lk_prod_x', ?3)`,
		`INSERT INTO key_usage (workspace_id, key_id, day, environment, valid, denied) VALUES (?2, ?1, ?4, 'production', 1, 0)`,
		`INSERT INTO key_usage_outcomes (workspace_id, key_id, day, environment, outcome, n) VALUES (?2, ?1, ?4, 'production', 'valid', 1)`,
	} {
		st, err := tx.PrepareContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		for i := range n {
			h := sha256.Sum256([]byte(fmt.Sprint(i)))
			if _, err := st.ExecContext(ctx, fmt.Sprintf("key_%08d", i), ws, h[:], benchNow.Format("2006-01-02")); err != nil {
				b.Fatal(err)
			}
		}
		st.Close()
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
