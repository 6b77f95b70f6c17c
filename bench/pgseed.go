package main

import (
	"bufio"
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"errors"
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

// keys10mPG measures verify against a PostgreSQL store of 10,000,000
// keys, with the server's memory per key once the membership set of all
// of them is loaded.
func (b *bench) keys10mPG(ctx context.Context, r *result) error {
	if !b.o.keys10mPG {
		r.Skipped = "-keys10m-pg=false"
		return nil
	}
	return b.pgKeys(ctx, r, 10_000_000)
}

// keys10kPG is verify-10k-keys on PostgreSQL: with every key cached, what
// is left of the store's cost is the confirmation of the invalidation
// channel, the once-a-minute reread of each key in use and the usage
// flush.
func (b *bench) keys10kPG(ctx context.Context, r *result) error {
	return b.pgKeys(ctx, r, 10_000)
}

// pgKeys measures verify against a PostgreSQL store of n keys, seeded with
// COPY (not measured): the -active-keys in use are verified once (cached),
// then cycled through. It reports the server's memory with the membership
// set of all n loaded, per key, and the server's store reads during the
// run.
func (b *bench) pgKeys(ctx context.Context, r *result, n int) error {
	if !b.pg {
		r.Skipped = noPostgres
		return nil
	}
	name := fmt.Sprintf("keys-%d-pg", n)
	s, err := b.seedPG(ctx, r, name, n)
	if err != nil {
		return err
	}
	defer s.db.drop()
	c, err := b.serve(ctx, s.st, "latchkey-"+name)
	if err != nil {
		return err
	}
	defer c.stop()
	t := time.Now()
	if hashes, err := waitMembership(c, n, 10*time.Minute); err != nil {
		r.note("%v", err)
	} else {
		rss, _ := c.rss()
		r.note("membership set of %d hashes loaded in %s; server RSS %d MB (%.0f bytes per key in the store)",
			int(hashes), time.Since(t).Round(time.Second), rss>>20, float64(rss)/float64(n))
	}
	rss0, _ := c.rss()
	t = time.Now()
	if err := primeVerify(ctx, c, s.active, b.o.connections); err != nil {
		return err
	}
	rss1, _ := c.rss()
	r.note("%d keys verified once (cached) in %s: %.0f cold verifications/s on PostgreSQL; RSS grew %.0f bytes per cached key",
		len(s.active), time.Since(t).Round(time.Millisecond), float64(len(s.active))/time.Since(t).Seconds(), float64(rss1-rss0)/float64(len(s.active)))
	if _, err := c.settle(30 * time.Second); err != nil {
		r.note("still busy after priming: %v", err)
	}
	l := verifyGet("")
	l.KeysFile = s.keysFile
	var reads float64
	readErr := errors.New("not read")
	around := func() func() {
		reads0, err0 := storeReads(c)
		return func() {
			reads1, err1 := storeReads(c)
			reads, readErr = reads1-reads0, errors.Join(err0, err1)
		}
	}
	err = b.measure(ctx, r, measurement{server: c, load: l, profile: pprofURL(c), around: around})
	if readErr == nil && r.Requests > 0 {
		secs := float64(r.Requests) / r.RPS
		r.note("the server read the store %.0f times during the run: %.1f reads/s, %.5f per verification", reads, reads/secs, reads/float64(r.Requests))
	}
	if b.keys10kRPS > 0 && r.RPS > 0 {
		r.note("%.2f× the 10k-keys (SQLite) throughput", r.RPS/b.keys10kRPS)
	}
	return err
}

// pgSeeded is a PostgreSQL database with latchkey's schema and seeded keys.
type pgSeeded struct {
	db *pgDatabase
	st *store
	// active are the secrets of -active-keys of the keys, chosen at
	// random; keysFile holds them one a line, for wrk.
	active   []string
	keysFile string
}

// seedPG creates a database named after name, initialises latchkey's
// schema in it and seeds n keys with COPY, timed in a note. The caller
// drops the database.
func (b *bench) seedPG(ctx context.Context, r *result, name string, n int) (*pgSeeded, error) {
	db, err := createDatabase(ctx, name)
	if err != nil {
		return nil, err
	}
	s := &pgSeeded{db: db, keysFile: filepath.Join(b.work, name+".keys")}
	if s.st, err = initStore(ctx, b.lkBin, b.work, name, db.URL); err == nil {
		t := time.Now()
		if s.active, err = seedPostgres(ctx, b.work, db.name, s.st.WorkspaceID, s.st.UserID, n, b.o.activeKeys); err != nil {
			err = fmt.Errorf("seeding: %w", err)
		} else {
			r.note("seeding %d keys with COPY took %s (not measured)", n, time.Since(t).Round(100*time.Millisecond))
			b.logf("   seeded %d keys in %s", n, time.Since(t).Round(100*time.Millisecond))
			err = os.WriteFile(s.keysFile, []byte(strings.Join(s.active, "\n")+"\n"), 0o600)
		}
	}
	if err != nil {
		db.drop()
		return nil, err
	}
	return s, nil
}

// waitMembership waits until a server's membership set holds n hashes (it
// loads them from the store in the background), at most limit, and
// returns how many it holds.
func waitMembership(c *child, n int, limit time.Duration) (float64, error) {
	t := time.Now()
	for {
		hashes, err := metric(c.URL, `latchkey_verify_membership_hashes`)
		if err == nil && hashes >= float64(n) {
			return hashes, nil
		}
		if time.Since(t) > limit {
			return hashes, fmt.Errorf("the membership set held %.0f of %d hashes after %s", hashes, n, limit)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// primeVerify verifies each secret once on c, so that all are cached.
func primeVerify(ctx context.Context, c *child, secrets []string, conns int) error {
	reqs := make([][]byte, len(secrets))
	for i, s := range secrets {
		reqs[i] = rawRequest("GET", c.Addr(), "/v1/verify?scope="+benchScope, map[string]string{"X-API-Key": s}, "")
	}
	if err := prime(ctx, c.Addr(), reqs, conns); err != nil {
		return fmt.Errorf("priming the cache of %s: %w", c.name, err)
	}
	return nil
}

// storeReads is how many times a latchkey server's verify has read the
// store: its cache misses, and its lookups that bypass the cache (while
// the invalidation channel is down).
func storeReads(c *child) (float64, error) {
	miss, err1 := metric(c.URL, `latchkey_verify_cache_lookups_total{result="miss"}`)
	bypass, err2 := metric(c.URL, `latchkey_verify_cache_lookups_total{result="bypass"}`)
	// Background reads of entries past a minute; a server without them
	// reports none.
	refresh, _ := metric(c.URL, `latchkey_verify_cache_lookups_total{result="refresh"}`)
	return miss + bypass + refresh, errors.Join(err1, err2)
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
	path := filepath.Join(work, dbName+".csv")
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
