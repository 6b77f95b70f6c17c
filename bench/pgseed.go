package main

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/token"
)

// keys10mPG measures verify against a PostgreSQL store of 10,000,000 keys,
// seeded with COPY (not measured): the -active-keys in use are verified
// once (cached), then cycled through. It reports the server's memory with
// the membership set of all 10M loaded, per key.
func (b *bench) keys10mPG(ctx context.Context, r *result) error {
	if !b.o.keys10mPG {
		r.Skipped = "-keys10m-pg=false"
		return nil
	}
	if !b.pg {
		r.Skipped = noPostgres
		return nil
	}
	const n = 10_000_000
	db, err := createDatabase(ctx, "keys10m")
	if err != nil {
		return err
	}
	defer db.drop()
	st, err := initStore(ctx, b.lkBin, b.work, "keys10m-postgres", db.URL)
	if err != nil {
		return err
	}
	t := time.Now()
	active, err := seedPostgres(ctx, b.work, db.name, st.WorkspaceID, st.UserID, n, b.o.activeKeys)
	if err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	r.note("seeding %d keys with COPY took %s (not measured)", n, time.Since(t).Round(time.Second))
	b.logf("   seeded %d keys in %s", n, time.Since(t).Round(time.Second))
	c, err := b.serve(ctx, st, "latchkey-keys10m")
	if err != nil {
		return err
	}
	defer c.stop()
	t = time.Now()
	for {
		hashes, _ := metric(c.URL, `latchkey_verify_membership_hashes`)
		if hashes >= n {
			rss, _ := c.rss()
			r.note("membership set of %d hashes loaded in %s; server RSS %d MB (%.0f bytes per key in the store)",
				int(hashes), time.Since(t).Round(time.Second), rss>>20, float64(rss)/n)
			break
		}
		if time.Since(t) > 10*time.Minute {
			r.note("the membership set held %.0f hashes after 10 minutes", hashes)
			break
		}
		time.Sleep(time.Second)
	}
	rss0, _ := c.rss()
	reqs := make([][]byte, len(active))
	for i, s := range active {
		reqs[i] = rawRequest("GET", c.Addr(), "/v1/verify?scope="+benchScope, map[string]string{"X-API-Key": s}, "")
	}
	t = time.Now()
	if err := prime(ctx, c.Addr(), reqs, b.o.connections); err != nil {
		return fmt.Errorf("priming the cache: %w", err)
	}
	rss1, _ := c.rss()
	r.note("%d keys verified once (cached) in %s: %.0f cold verifications/s on PostgreSQL; RSS grew %.0f bytes per cached key",
		len(active), time.Since(t).Round(time.Millisecond), float64(len(active))/time.Since(t).Seconds(), float64(rss1-rss0)/float64(len(active)))
	if _, err := c.settle(30 * time.Second); err != nil {
		r.note("still busy after priming: %v", err)
	}
	keysFile := filepath.Join(b.work, "keys10m.keys")
	if err := os.WriteFile(keysFile, []byte(strings.Join(active, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	l := verifyGet("")
	l.KeysFile = keysFile
	err = b.measure(ctx, r, measurement{server: c, load: l, profile: pprofURL(c)})
	if b.keys10kRPS > 0 && r.RPS > 0 {
		r.note("%.2f× the 10k-keys (SQLite) throughput", r.RPS/b.keys10kRPS)
	}
	return err
}

// seedPostgres writes n keys as CSV and loads them with psql's \copy, then
// returns the secrets of a random sample of active of them.
func seedPostgres(ctx context.Context, work, dbName, ws, createdBy string, n, active int) ([]string, error) {
	var seed [32]byte
	if _, err := crand.Read(seed[:]); err != nil {
		return nil, err
	}
	rnd := rand.NewChaCha8(seed)
	format, err := token.NewFormat(token.DefaultPrefix)
	if err != nil {
		return nil, err
	}
	path := filepath.Join(work, "keys10m.csv")
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	defer os.Remove(path)
	w := bufio.NewWriterSize(f, 1<<20)
	ids := id.NewGenerator(nil, rnd)
	now := time.Now().UTC()
	created, expires := now.Format(time.RFC3339Nano), now.AddDate(1, 0, 0).Format(time.RFC3339Nano)
	pick := rand.New(rnd)
	var sample []string
	for i := range n {
		secret, start, err := format.New(rnd, latchkey.Production)
		if err != nil {
			f.Close()
			return nil, err
		}
		h := token.Hash(secret)
		name := "Seeded key " + strconv.Itoa(i)
		fmt.Fprintf(w, "%s,%s,%s,%s,\"\",public_api,production,workspace,\"[\"\"%s\"\"]\",{},%s,%s,%s,%s,\\x%s\n",
			ids.New(id.Key), ws, name, strings.ToLower(name), benchScope, createdBy, created, expires, start, hex.EncodeToString(h[:]))
		// Reservoir sampling: a uniform sample without holding n secrets.
		if len(sample) < active {
			sample = append(sample, secret)
		} else if j := pick.IntN(i + 1); j < active {
			sample[j] = secret
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, err
	}
	if err := f.Close(); err != nil {
		return nil, err
	}
	cp := `\copy keys (id, workspace_id, name, name_lower, description, type, environment, owner, scopes, settings, created_by, created_at, expires_at, start, hash) FROM '` + path + `' WITH (FORMAT csv)`
	out, err := exec.CommandContext(ctx, "psql", "-h", "127.0.0.1", "-U", "postgres", "-d", dbName, "-v", "ON_ERROR_STOP=1",
		"-c", "SET session_replication_role = replica", "-c", cp, "-c", "ANALYZE keys").CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("psql \\copy: %v: %s", err, out)
	}
	return sample, nil
}
