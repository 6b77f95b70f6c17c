// Command bench is latchkey's load harness (`make bench`): in one run on
// loopback it measures a bare net/http handler (the ceiling) and latchkey's
// verify endpoints, warm and cold, with few and many keys, and prints each
// scenario's throughput as a ratio to the ceiling with its latencies.
//
// Servers run as child processes (the bare handler from bench/bare, and
// latchkey built from cmd/latchkey); the load comes from Debian's wrk, and
// for fixed-rate latency from an open-loop generator in this process. See
// bench/README.md for what each scenario measures and the targets.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"regexp"
	"runtime"
	"syscall"
	"time"
)

// options are the command-line flags.
type options struct {
	duration    time.Duration
	connections int
	threads     int
	only        *regexp.Regexp
	keys1m      bool
	activeKeys  int
	asJSON      bool
	cpuProfile  string
	keep        bool
	cpus        layout
	latchkeyBin string
	flood       int
	keys10mPG   bool
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o options
	var only string
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured duration of each run")
	fs.IntVar(&o.connections, "connections", 64, "concurrent connections")
	fs.IntVar(&o.threads, "threads", 2, "wrk threads")
	fs.StringVar(&only, "only", "", "run only the scenarios whose name matches this regular expression (bare always runs: it is the reference)")
	fs.BoolVar(&o.keys1m, "keys1m", true, "run the one-million-keys scenario (seeding and filling the cache take about two minutes)")
	fs.IntVar(&o.activeKeys, "active-keys", 10_000, "distinct keys the many-keys scenarios cycle through")
	fs.BoolVar(&o.asJSON, "json", false, "print the results as JSON instead of a table")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of each server during its measured run into this directory")
	fs.BoolVar(&o.keep, "keep", false, "keep the working directory (stores, logs, Lua scripts)")
	fs.StringVar(&o.cpus.server, "server-cpus", "", "run the servers on these CPUs only (a taskset list: 0, 0-3, 0,2); default any")
	fs.StringVar(&o.cpus.load, "load-cpus", "", "run wrk and the harness's own load generator on these CPUs only; default any")
	fs.StringVar(&o.latchkeyBin, "latchkey-bin", "", "measure this latchkey binary instead of building ./cmd/latchkey (to compare two versions with one harness)")
	fs.IntVar(&o.flood, "flood-tokens", 200_000, "distinct unknown tokens the unknown-key flood cycles through (more than the negative cache holds)")
	fs.BoolVar(&o.keys10mPG, "keys10m-pg", false, "also run verify-10m-keys-postgres: 10,000,000 keys seeded into PostgreSQL with COPY (about 15 minutes and 6 GB of memory)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	re, err := regexp.Compile(only)
	if err != nil {
		fmt.Fprintln(stderr, "bench: -only:", err)
		return 2
	}
	o.only = re
	if o.duration < time.Second || o.connections < 1 || o.threads < 1 || o.threads > o.connections || o.activeKeys < 1 {
		fmt.Fprintln(stderr, "bench: -duration must be at least 1s; -connections, -threads and -active-keys positive; threads ≤ connections")
		return 2
	}
	if o.cpuProfile != "" {
		if err := os.MkdirAll(o.cpuProfile, 0o755); err != nil {
			fmt.Fprintln(stderr, "bench: -cpuprofile:", err)
			return 2
		}
	}
	if o.cpus.server != "" || o.cpus.load != "" {
		if _, err := os.Stat(tasksetPath); err != nil {
			fmt.Fprintf(stderr, "bench: -server-cpus and -load-cpus need %s (util-linux)\n", tasksetPath)
			return 2
		}
		if err := pinSelf(o.cpus.load); err != nil {
			fmt.Fprintln(stderr, "bench:", err)
			return 2
		}
	}
	if _, err := os.Stat(wrkPath); err != nil {
		fmt.Fprintf(stderr, "bench: %s not found: apt-get install wrk\n", wrkPath)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	b, err := newBench(ctx, o, stderr)
	if err != nil {
		fmt.Fprintln(stderr, "bench:", err)
		return 1
	}
	defer b.close()
	b.runAll(ctx)

	rep := b.report()
	if o.asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(rep)
	} else {
		rep.print(stdout)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return 1
	}
	for _, r := range rep.Results {
		if r.Error != "" {
			return 1
		}
	}
	return 0
}

// scenario is one row of the table (or several rows sharing a setup).
type scenario struct {
	name string
	what string
	run  func(b *bench, ctx context.Context, r *result) error
}

// scenarios are run in this order; later ones reuse what earlier ones set
// up (the bare peak rate, the warm store).
var scenarios = []scenario{
	{"bare", "net/http handler answering 60 bytes of JSON: the ceiling", (*bench).bare},
	{"verify-get-warm", "GET /v1/verify, X-API-Key header, key cached", (*bench).getWarm},
	{"verify-post-warm", "POST /v1/keys/verify, key and scope in the body, key cached", (*bench).postWarm},
	{"verify-get-warm-budgeted", "GET /v1/verify as verify-get-warm, the key spending credits and a named rate limit", (*bench).getWarmBudgeted},
	{"verify-post-warm-budgeted", "POST /v1/keys/verify as verify-post-warm, the key spending credits and a named rate limit", (*bench).postWarmBudgeted},
	{"verify-cold-sqlite", "GET /v1/verify with the cache disabled: one SQLite lookup per request", (*bench).coldSQLite},
	{"verify-cold-postgres", "GET /v1/verify with the cache disabled: one PostgreSQL lookup per request", (*bench).coldPostgres},
	{"verify-10k-keys", "GET /v1/verify, a store of 10,000 keys, all cached, -active-keys of them in use", (*bench).keys10k},
	{"verify-1m-keys", "GET /v1/verify, a store of 1,000,000 keys, all cached, -active-keys of them in use", (*bench).keys1m},
	{"verify-unknown-flood", "GET /v1/verify cycling through -flood-tokens distinct well-formed tokens no key has (401), counting the server's store reads", (*bench).unknownFlood},
	{"verify-10k-keys-postgres", "GET /v1/verify as verify-10k-keys, PostgreSQL holding 10,000 keys (seeded with COPY), counting the server's store reads", (*bench).keys10kPG},
	{"verify-10m-keys-postgres", "GET /v1/verify, PostgreSQL holding 10,000,000 keys (seeded with COPY), -active-keys of them cached and in use; -keys10m-pg", (*bench).keys10mPG},
	{"postgres-instances", "1, 2 and 3 instances on one PostgreSQL under verify load, 10,000 keys cached: PostgreSQL's transactions, rows and CPU per second and per verification", (*bench).pgInstances},
	{"revocation-propagation", "revoke on instance A, time until B and C both reject (3 instances, one PostgreSQL)", (*bench).propagation},
}

func (b *bench) runAll(ctx context.Context) {
	started := time.Now()
	for _, s := range scenarios {
		if s.name != "bare" && !b.o.only.MatchString(s.name) {
			continue
		}
		r := &result{Name: s.name, What: s.what}
		b.results = append(b.results, r)
		if ctx.Err() != nil {
			r.Error = "interrupted"
			continue
		}
		b.logf("── %s: %s", s.name, s.what)
		t := time.Now()
		if err := s.run(b, ctx, r); err != nil {
			r.Error, r.Met = err.Error(), nil // a failed run has no verdict
			b.logf("   FAILED: %v", err)
		}
		b.logf("   done in %s", time.Since(t).Round(time.Second))
	}
	b.elapsed = time.Since(started)
}

func (b *bench) logf(format string, args ...any) {
	fmt.Fprintf(b.log, format+"\n", args...)
}

// environment describes the machine and the settings of the run.
func (b *bench) environment() map[string]any {
	return map[string]any{
		"go": runtime.Version(), "num_cpu": runtime.NumCPU(), "gomaxprocs": runtime.GOMAXPROCS(0),
		"duration": b.o.duration.String(), "connections": b.o.connections, "wrk_threads": b.o.threads,
		"elapsed": b.elapsed.Round(time.Second).String(), "layout": b.o.cpus.String(),
	}
}
