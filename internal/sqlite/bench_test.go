package sqlite

import (
	"context"
	"crypto/sha256"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlstore"
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
