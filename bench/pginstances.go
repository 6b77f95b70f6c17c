package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// instancesKeys is how many keys postgres-instances seeds.
const instancesKeys = 10_000

// pgInstances measures what 1, 2 and 3 latchkey instances sharing one
// PostgreSQL database ask of it under verify load, every key in use
// cached: its transactions, rows and CPU per second and per verification,
// and without load. Each number of instances starts afresh (new
// processes, caches filled just before the run), so that every n is
// measured from the same state. The row's columns are those of 3
// instances.
func (b *bench) pgInstances(ctx context.Context, r *result) error {
	if !b.pg {
		r.Skipped = noPostgres
		return nil
	}
	s, err := b.seedPG(ctx, r, "instances", instancesKeys)
	if err != nil {
		return err
	}
	defer s.db.drop()
	l := verifyGet("")
	l.KeysFile = s.keysFile
	r.note("%d distinct keys in use, every one cached on every instance; -connections split among the instances, one wrk each", len(s.active))
	for n := 1; n <= 3; n++ {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m, err := b.instancesRound(ctx, s, n, l)
		if err != nil {
			return fmt.Errorf("%d instances: %w", n, err)
		}
		r.note("%s", m)
		b.logf("   %s", m)
		r.RPS, r.Requests = m.rps, m.requests
		r.CPUPerRequest = m.perVerification(m.lkCPU)
	}
	if b.bareRPS > 0 {
		r.Ratio = r.RPS / b.bareRPS
	}
	if b.bareCPU > 0 && r.CPUPerRequest > 0 {
		r.CPURatio = b.bareCPU / r.CPUPerRequest
	}
	r.note("req/s and CPU µs/req in the table are those of 3 instances, all of their verifications and all of their CPU")
	return nil
}

// pgStatsIdle is how long PostgreSQL (15 and later) may hold the
// statistics of a backend that has gone idle before publishing them
// (PGSTAT_IDLE_INTERVAL); a backend that keeps working publishes its own
// at most a second late.
const pgStatsIdle = 10 * time.Second

// idleSpan is how long postgres-instances watches PostgreSQL with the
// instances idle, for the background they cost it without load.
const idleSpan = 5 * time.Second

// pgSample is PostgreSQL's counts for a database, and the CPU time of its
// processes, at one moment.
type pgSample struct {
	at  time.Time
	db  dbActivity
	cpu map[int]procTimes
}

func takePGSample(ctx context.Context, db *pgDatabase) (pgSample, error) {
	a, err := db.activity(ctx)
	if err != nil {
		return pgSample{}, err
	}
	cpu, err := processTimes("postgres")
	return pgSample{at: time.Now(), db: a, cpu: cpu}, err
}

// pgUsage is what PostgreSQL did between two samples.
type pgUsage struct {
	xacts, aborted   float64 // transactions (by the instances), of which rolled back
	fetched, written float64 // rows
	cpu              time.Duration
}

func (s pgSample) since(b pgSample) pgUsage {
	return pgUsage{xacts: float64(s.db.xacts - b.db.xacts), aborted: float64(s.db.aborted - b.db.aborted),
		fetched: float64(s.db.fetched - b.db.fetched), written: float64(s.db.written - b.db.written),
		cpu: cpuUsed(b.cpu, s.cpu)}
}

func (u pgUsage) less(v pgUsage) pgUsage {
	return pgUsage{xacts: u.xacts - v.xacts, aborted: u.aborted - v.aborted,
		fetched: u.fetched - v.fetched, written: u.written - v.written, cpu: u.cpu - v.cpu}
}

// scaled is u over a span f times as long, at the same rates.
func (u pgUsage) scaled(f float64) pgUsage {
	return pgUsage{xacts: f * u.xacts, aborted: f * u.aborted,
		fetched: f * u.fetched, written: f * u.written, cpu: time.Duration(f * float64(u.cpu))}
}

// instancesMeasure is what one run of postgres-instances measured.
type instancesMeasure struct {
	n        int
	requests uint64        // verifications, all instances
	rps      float64       // verifications per second, all instances
	window   time.Duration // the run's length
	reads    float64       // store reads by verify, all instances
	// awaited is the lookups that waited for a late confirmation rather
	// than read the store, all instances.
	awaited float64
	lkCPU   time.Duration // the latchkey instances, during the run
	// pg is what PostgreSQL did because of the run: from its start until
	// its statistics were all published, less the idle background of the
	// time after the run. idle is that background over idleSpan.
	pg, idle pgUsage
	// otherCPU is what PostgreSQL's backends of other databases used
	// during the run: another user of a shared server, counted in pg.cpu.
	otherCPU time.Duration
	// confirm is the round trips of the invalidation channel's
	// confirmations during the run, all instances.
	confirm histogram
}

// perVerification is a CPU time per verification, in µs.
func (m *instancesMeasure) perVerification(cpu time.Duration) float64 {
	return float64(cpu) / float64(time.Microsecond) / float64(m.requests)
}

func (m *instancesMeasure) String() string {
	run, idle := m.window.Seconds(), idleSpan.Seconds()
	s := fmt.Sprintf("%d instance(s): %.0f verifications/s in all, %.0f store reads by verify (%.1f/s), latchkey %.1f µs of CPU per verification; "+
		"PostgreSQL %.1f transactions/s, %.0f rows fetched/s, %.0f rows written/s, %.2f cores, %.2f µs of CPU per verification; "+
		"idle, %.1f transactions/s and %.3f cores",
		m.n, m.rps, m.reads, m.reads/run, m.perVerification(m.lkCPU),
		m.pg.xacts/run, m.pg.fetched/run, m.pg.written/run, m.pg.cpu.Seconds()/run, m.perVerification(m.pg.cpu),
		m.idle.xacts/idle, m.idle.cpu.Seconds()/idle)
	if total := m.confirm.count(); total > 0 {
		s += fmt.Sprintf("; channel confirmations: %.0f, 99%% within %s, the slowest within %s",
			total, m.confirm.bound(0.99), m.confirm.bound(1))
	}
	if m.awaited > 0 {
		s += fmt.Sprintf("; %.0f lookups waited for a late confirmation instead of reading the store", m.awaited)
	}
	if m.pg.aborted >= 1 {
		s += fmt.Sprintf("; %.0f transactions rolled back", m.pg.aborted)
	}
	if m.otherCPU > m.window/20 {
		s += fmt.Sprintf(" (backends of other databases used %.2f cores during the run)", m.otherCPU.Seconds()/run)
	}
	return s
}

// instancesRound starts n instances on the seeded database, fills each
// one's cache with the active keys and warms them up together, watches
// PostgreSQL with the instances idle for idleSpan, then runs wrk against
// all of them at once for -duration and waits until PostgreSQL has
// published the run's statistics. The instances are stopped on return.
func (b *bench) instancesRound(ctx context.Context, s *pgSeeded, n int, l load) (*instancesMeasure, error) {
	servers := make([]*child, n)
	for i := range servers {
		c, err := b.serve(ctx, s.st, fmt.Sprintf("latchkey-instances-%d-%d", n, i+1), "--drain-delay", "0")
		if err != nil {
			return nil, err
		}
		servers[i] = c
	}
	defer func() {
		var wg sync.WaitGroup
		for _, c := range servers {
			wg.Go(c.stop)
		}
		wg.Wait()
	}()
	for _, c := range servers {
		if _, err := waitMembership(c, instancesKeys, time.Minute); err != nil {
			return nil, fmt.Errorf("%s: %w", c.name, err)
		}
		if err := primeVerify(ctx, c, s.active, b.o.connections); err != nil {
			return nil, err
		}
	}
	name := fmt.Sprintf("postgres-instances-%d", n)
	if _, err := runWrks(ctx, b.work, name+"-warmup", servers, l, b.o, min(2*time.Second, b.o.duration/5)); err != nil {
		return nil, fmt.Errorf("warm-up: %w", err)
	}
	// The priming's and the warm-up's reads and usage flush are published
	// before the idle span begins.
	if err := sleep(ctx, pgStatsIdle+time.Second); err != nil {
		return nil, err
	}
	quiet, err := takePGSample(ctx, s.db)
	if err != nil {
		return nil, err
	}
	if err := sleep(ctx, idleSpan-time.Since(quiet.at)); err != nil {
		return nil, err
	}
	before, err := takePGSample(ctx, s.db)
	if err != nil {
		return nil, err
	}
	m := &instancesMeasure{n: n, idle: before.since(quiet).scaled(idleSpan.Seconds() / before.at.Sub(quiet.at).Seconds())}

	conf0 := confirmations(servers)
	reads0, err := totalStoreReads(servers)
	if err != nil {
		return nil, err
	}
	awaited0 := totalAwaited(servers)
	lk0, err := totalCPU(servers)
	if err != nil {
		return nil, err
	}
	t := time.Now()
	stats, err := runWrks(ctx, b.work, name, servers, l, b.o, b.o.duration)
	if err != nil {
		return nil, err
	}
	end := time.Now()
	m.window = end.Sub(t)
	lk1, err := totalCPU(servers)
	if err != nil {
		return nil, err
	}
	reads1, err := totalStoreReads(servers)
	if err != nil {
		return nil, err
	}
	m.lkCPU, m.reads, m.awaited = lk1-lk0, reads1-reads0, totalAwaited(servers)-awaited0
	m.confirm = confirmations(servers).since(conf0)
	for _, st := range stats {
		m.requests += st.Requests
		m.rps += st.RPS()
	}
	if others, err := takePGSample(ctx, s.db); err == nil {
		m.otherCPU = cpuOf(before.cpu, others.cpu, others.db.others)
	}

	// The run's statistics, those of backends that went idle with it
	// included, are all published by now; what PostgreSQL did since the
	// run ended is its idle background, and the usage the instances
	// flushed after it, which the run caused.
	if err := sleep(ctx, pgStatsIdle+time.Second); err != nil {
		return nil, err
	}
	after, err := takePGSample(ctx, s.db)
	if err != nil {
		return nil, err
	}
	m.pg = after.since(before).less(m.idle.scaled(after.at.Sub(end).Seconds() / idleSpan.Seconds()))
	return m, nil
}

// sleep waits for d, or until ctx is done.
func sleep(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return nil
	}
	select {
	case <-time.After(d):
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// totalStoreReads sums the store reads of verify over servers.
func totalStoreReads(servers []*child) (float64, error) {
	var sum float64
	for _, c := range servers {
		v, err := storeReads(c)
		if err != nil {
			return 0, fmt.Errorf("%s /metrics: %w", c.name, err)
		}
		sum += v
	}
	return sum, nil
}

// totalAwaited sums the lookups of servers that waited for a late
// confirmation (none from a server that does not wait).
func totalAwaited(servers []*child) float64 {
	var sum float64
	for _, c := range servers {
		v, _ := metric(c.URL, `latchkey_verify_cache_lookups_total{result="awaited"}`)
		sum += v
	}
	return sum
}

// totalCPU sums the CPU time servers have used so far.
func totalCPU(servers []*child) (time.Duration, error) {
	var sum time.Duration
	var errs []error
	for _, c := range servers {
		t, err := c.cpuTime()
		sum += t
		errs = append(errs, err)
	}
	return sum, errors.Join(errs...)
}

// histogram is a Prometheus histogram's cumulative counts by upper bound.
type histogram map[float64]float64

// confirmations adds up the confirmation round-trip histograms of the
// servers (empty for a latchkey without them).
func confirmations(servers []*child) histogram {
	h := histogram{}
	for _, c := range servers {
		resp, err := http.Get(c.URL + "/metrics")
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(resp.Body)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			rest, ok := strings.CutPrefix(sc.Text(), `latchkey_invalidation_confirm_seconds_bucket{le="`)
			if !ok {
				continue
			}
			le, count, ok := strings.Cut(rest, `"} `)
			if !ok {
				continue
			}
			bound, err1 := strconv.ParseFloat(le, 64)
			n, err2 := strconv.ParseFloat(strings.TrimSpace(count), 64)
			if err1 == nil && err2 == nil {
				h[bound] += n
			}
		}
		resp.Body.Close()
	}
	return h
}

func (h histogram) since(before histogram) histogram {
	d := histogram{}
	for b, n := range h {
		d[b] = n - before[b]
	}
	return d
}

func (h histogram) count() float64 { return h[math.Inf(1)] }

// bound is the smallest upper bound holding the q quantile, as text.
func (h histogram) bound(q float64) string {
	bounds := slices.Sorted(maps.Keys(h))
	for _, b := range bounds {
		if h[b] >= q*h.count() {
			if math.IsInf(b, 1) {
				return "more than " + time.Duration(bounds[len(bounds)-2]*float64(time.Second)).Round(time.Millisecond).String()
			}
			return time.Duration(b * float64(time.Second)).Round(10 * time.Microsecond).String()
		}
	}
	return "?"
}
