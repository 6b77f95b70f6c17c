package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"time"
)

func (b *bench) bare(ctx context.Context, r *result) error {
	args := []string{"-addr", "127.0.0.1:0"}
	if b.o.cpuProfile != "" {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		args = append(args, "-pprof-addr", addr)
	}
	c, err := b.track(start(ctx, b.work, "bare", b.bareBin, "/", args...))
	if err != nil {
		return err
	}
	defer c.stop()
	err = b.measure(ctx, r, measurement{server: c, load: load{Method: "GET", Path: "/"}, halfLoad: true, profile: pprofURL(c)})
	b.bareRPS, b.bareCPU, b.bareHalfP99 = r.RPS, r.CPUPerRequest, r.HalfP99
	r.Ratio, r.CPURatio = 1, 1
	return err
}

// warmServer starts (once) latchkey on a fresh SQLite store holding one
// key, which the warm and cold scenarios verify.
func (b *bench) warmServer(ctx context.Context) (*child, error) {
	if b.warmSrv != nil {
		return b.warmSrv, nil
	}
	var err error
	if b.warm == nil {
		if b.warm, err = initStore(ctx, b.lkBin, b.work, "warm", ""); err != nil {
			return nil, err
		}
	}
	c, err := b.serve(ctx, b.warm, "latchkey-warm")
	if err != nil {
		return nil, err
	}
	if b.warmKey == "" {
		s, err := login(c.URL, b.warm.WorkspaceID)
		if err != nil {
			c.stop()
			return nil, err
		}
		if _, b.warmKey, err = s.createKey("bench warm"); err != nil {
			c.stop()
			return nil, err
		}
	}
	b.warmSrv = c
	return c, nil
}

// serve starts latchkey on st, with a pprof listener when profiles are
// asked for.
func (b *bench) serve(ctx context.Context, st *store, name string, extra ...string) (*child, error) {
	if b.o.cpuProfile != "" {
		addr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		extra = append(extra, "--pprof-addr", addr)
	}
	return b.track(st.serve(ctx, b.lkBin, b.work, name, extra...))
}

// pprofURL is the pprof base URL of a server started with --pprof-addr.
func pprofURL(c *child) string {
	args := c.cmd.Args
	for i, a := range args {
		if (a == "--pprof-addr" || a == "-pprof-addr") && i+1 < len(args) {
			return "http://" + args[i+1]
		}
	}
	return ""
}

// verifyGet is GET /v1/verify with the key in X-API-Key (empty: the keys
// come from a file) and one required scope.
func verifyGet(key string) load {
	l := load{Method: "GET", Path: "/v1/verify?scope=" + benchScope, Headers: map[string]string{}}
	if key != "" {
		l.Headers["X-API-Key"] = key
	}
	return l
}

// verifyPost is POST /v1/keys/verify with the key and one scope in the body.
func verifyPost(key string) load {
	return load{Method: "POST", Path: "/v1/keys/verify",
		Headers: map[string]string{"Content-Type": "application/json"},
		Body:    fmt.Sprintf(`{"key":%q,"scopes":[%q]}`, key, benchScope)}
}

func (b *bench) getWarm(ctx context.Context, r *result) error {
	c, err := b.warmServer(ctx)
	if err != nil {
		return err
	}
	r.Target = "≥ 0.90× bare, ½-peak p99 ≤ 2× bare's"
	err = b.measure(ctx, r, measurement{server: c, load: verifyGet(b.warmKey), halfLoad: true, profile: pprofURL(c)})
	r.check(r.Ratio >= 0.9 && r.HalfP99 > 0 && r.HalfP99 <= 2*b.bareHalfP99)
	return err
}

func (b *bench) postWarm(ctx context.Context, r *result) error {
	c, err := b.warmServer(ctx)
	if err != nil {
		return err
	}
	r.Target = "≥ 0.90× bare, ½-peak p99 ≤ 2× bare's"
	err = b.measure(ctx, r, measurement{server: c, load: verifyPost(b.warmKey), halfLoad: true, profile: pprofURL(c)})
	r.check(r.Ratio >= 0.9 && r.HalfP99 > 0 && r.HalfP99 <= 2*b.bareHalfP99)
	return err
}

func (b *bench) coldSQLite(ctx context.Context, r *result) error {
	if _, err := b.warmServer(ctx); err != nil { // the store and its key
		return err
	}
	b.warmSrv.stop()
	b.warmSrv = nil
	c, err := b.serve(ctx, b.warm, "latchkey-cold", "--verify-cache=false")
	if err != nil {
		return err
	}
	defer c.stop()
	r.Target = "≥ 0.50× bare"
	err = b.measure(ctx, r, measurement{server: c, load: verifyGet(b.warmKey), profile: pprofURL(c)})
	r.check(r.Ratio >= 0.5)
	return err
}

func (b *bench) keys10k(ctx context.Context, r *result) error {
	err := b.manyKeys(ctx, r, 10_000)
	b.keys10kRPS = r.RPS
	return err
}

func (b *bench) keys1m(ctx context.Context, r *result) error {
	if !b.o.keys1m {
		r.Skipped = "-keys1m=false"
		return nil
	}
	err := b.manyKeys(ctx, r, 1_000_000)
	if b.keys10kRPS > 0 {
		r.Target = "≥ 0.95× 10k keys"
		r.check(r.RPS >= 0.95*b.keys10kRPS)
		r.note("%.2f× the 10k-keys throughput", r.RPS/b.keys10kRPS)
	}
	return err
}

// manyKeys seeds a fresh store with n keys (not measured), starts
// latchkey, verifies every key once so that all are cached, then measures
// verify cycling through a random sample of -active-keys of them. The
// sample has the same size whatever n, so that only the size of the store
// and of the cache differ between runs: the usage flush writes one row per
// key used since the last flush, and a larger working set would measure
// that instead.
func (b *bench) manyKeys(ctx context.Context, r *result, n int) error {
	sample := min(n, b.o.activeKeys)
	name := fmt.Sprintf("keys-%d", n)
	st, err := initStore(ctx, b.lkBin, b.work, name, "")
	if err != nil {
		return err
	}
	t := time.Now()
	secrets, err := seedSQLite(ctx, st.dbPath(), st.WorkspaceID, st.UserID, n)
	if err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	seeded := time.Since(t)
	b.logf("   seeded %d keys in %s (not measured)", n, seeded.Round(time.Millisecond))
	r.note("seeding %d keys took %s (not measured)", n, seeded.Round(100*time.Millisecond))

	c, err := b.serve(ctx, st, "latchkey-"+name)
	if err != nil {
		return err
	}
	defer c.stop()
	t = time.Now()
	reqs := make([][]byte, len(secrets))
	for i, s := range secrets {
		reqs[i] = rawRequest("GET", c.Addr(), "/v1/verify?scope="+benchScope, map[string]string{"X-API-Key": s}, "")
	}
	rss0, _ := c.rss()
	if err := prime(ctx, c.Addr(), reqs, b.o.connections); err != nil {
		return fmt.Errorf("priming the cache: %w", err)
	}
	primed := time.Since(t)
	if rss1, err := c.rss(); err == nil && rss0 > 0 {
		r.note("right after priming the server's RSS had grown %.0f bytes per key (%d MB), usage of every key still to flush", float64(rss1-rss0)/float64(n), rss1>>20)
	}
	reqs = nil
	b.logf("   verified all %d keys once (cache filled) in %s: %.0f cold verifications/s", n, primed.Round(time.Millisecond), float64(n)/primed.Seconds())
	r.note("filling the cache with all %d keys took %s (%.0f cold verifications/s)", n, primed.Round(100*time.Millisecond), float64(n)/primed.Seconds())
	// The usage of every key verified while priming is flushed to the
	// store's usage log, then folded into the daily counters, in the
	// background; neither write may land in the run. A million keys' fold
	// takes minutes on two cores.
	if settled, err := c.awaitFold(max(30*time.Second, time.Duration(n/4000)*time.Second)); err != nil {
		r.note("the server was still busy %s after priming (usage flush and fold?): %v", settled.Round(time.Second), err)
	} else if rss2, err := c.rss(); err == nil && rss0 > 0 {
		r.note("once the usage was flushed and folded (%s), the server's RSS had grown %.0f bytes per cached key (%d MB with all %d cached)",
			settled.Round(time.Second), float64(rss2-rss0)/float64(n), rss2>>20, n)
	}
	r.note("%d distinct keys in use during the run", sample)

	picked := rand.Perm(n)[:sample]
	lines := make([]string, sample)
	for i, p := range picked {
		lines[i] = secrets[p]
	}
	keysFile := filepath.Join(b.work, name+".keys")
	if err := os.WriteFile(keysFile, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		return err
	}
	l := verifyGet("")
	l.KeysFile = keysFile
	return b.measure(ctx, r, measurement{server: c, load: l, profile: pprofURL(c)})
}
