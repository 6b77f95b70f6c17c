package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// bench holds what the scenarios share: the binaries, the working
// directory, the ceiling's throughput, and the warm store and server.
type bench struct {
	o       options
	log     io.Writer
	work    string
	lkBin   string // binaries
	bareBin string
	pg      bool // latchkey has the PostgreSQL store (--database-url)
	results []*result
	elapsed time.Duration

	bareRPS     float64
	bareCPU     float64 // server CPU µs per request of bare
	bareHalfP99 float64 // bare's p99 at half its peak, ms
	warm        *store
	warmSrv     *child
	warmKey     string
	budgetKey   string  // on the warm store: credits and a named limit
	keys10kRPS  float64 // throughput of verify-10k-keys, the reference of 1M
	children    []*child
}

func newBench(ctx context.Context, o options, log io.Writer) (*bench, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return nil, err
	}
	work, err := os.MkdirTemp("", "latchkey-bench-")
	if err != nil {
		return nil, err
	}
	b := &bench{o: o, log: log, work: work,
		lkBin: filepath.Join(work, "latchkey"), bareBin: filepath.Join(work, "bare")}
	serverCPUs = o.cpus.server
	builds := map[string]string{"./cmd/latchkey": b.lkBin, "./bench/bare": b.bareBin}
	if o.latchkeyBin != "" {
		if b.lkBin, err = filepath.Abs(o.latchkeyBin); err != nil {
			return nil, err
		}
		delete(builds, "./cmd/latchkey")
	}
	b.logf("building the bare handler (and latchkey unless -latchkey-bin) in %s; %s", work, o.cpus)
	for pkg, out := range builds {
		if err := build(ctx, root, pkg, out); err != nil {
			b.close()
			return nil, err
		}
	}
	b.pg = supportsPostgres(ctx, b.lkBin)
	return b, nil
}

// close stops every child still running and removes the working directory.
func (b *bench) close() {
	for _, c := range b.children {
		c.stop()
	}
	if b.o.keep {
		b.logf("kept %s", b.work)
		return
	}
	_ = os.RemoveAll(b.work)
}

// track registers a child so that close stops it even after a failure.
func (b *bench) track(c *child, err error) (*child, error) {
	if err == nil {
		b.children = append(b.children, c)
	}
	return c, err
}

// measurement is one scenario's runs against one server.
type measurement struct {
	server *child
	load   load
	// halfLoad adds an open-loop run at half the ceiling's peak rate.
	halfLoad bool
	// status is the answer every request must get: 0 for any 2xx.
	status int
	// check, when set, also inspects the answer to the first request (the
	// status is checked anyway).
	check func(h http.Header, body []byte) error
	// profile, when set, is the server's pprof base URL: a CPU profile of
	// the measured run is written to the options.cpuProfile directory.
	profile string
	// around, when set, is called just before the measured wrk run, and
	// the function it returns just after it: to read counters over the
	// run alone, without the warm-up.
	around func() (after func())
}

// measure checks that one request answers 200, warms the server up with a
// short wrk run, then measures at full load with wrk and, if asked, at half
// of the ceiling's peak rate with the open-loop generator.
func (b *bench) measure(ctx context.Context, r *result, m measurement) error {
	base := m.server.URL
	if err := checkOnce(base, m.load, m.status, m.check); err != nil {
		return err
	}
	warmup := min(2*time.Second, b.o.duration/5)
	if _, err := runWrk(ctx, b.work, r.Name+"-warmup", base, m.load, b.o, warmup, m.status); err != nil {
		return fmt.Errorf("warm-up: %w", err)
	}
	var profErr chan error
	if m.profile != "" && b.o.cpuProfile != "" {
		profErr = make(chan error, 1)
		secs := max(1, int(b.o.duration.Seconds())-1)
		path := filepath.Join(b.o.cpuProfile, r.Name+".pprof")
		go func() { profErr <- fetchProfile(m.profile, secs, path) }()
	}
	var after func()
	if m.around != nil {
		after = m.around()
	}
	cpu0, cpuErr := m.server.cpuTime()
	st, err := runWrk(ctx, b.work, r.Name, base, m.load, b.o, b.o.duration, m.status)
	if after != nil {
		after()
	}
	if cpu1, err := m.server.cpuTime(); err == nil && cpuErr == nil && st != nil && st.Requests > 0 {
		r.CPUPerRequest = float64(cpu1-cpu0) / float64(time.Microsecond) / float64(st.Requests)
		wall := float64(st.DurationUS) * float64(time.Microsecond)
		r.note("at full load the server used %.2f cores, wrk %.2f cores", float64(cpu1-cpu0)/wall, float64(st.CPU)/wall)
	}
	if st != nil {
		r.RPS, r.Requests = st.RPS(), st.Requests
		r.P50, r.P99 = st.P50/1000, st.P99/1000
		if b.bareRPS > 0 {
			r.Ratio = r.RPS / b.bareRPS
		}
		if b.bareCPU > 0 && r.CPUPerRequest > 0 {
			r.CPURatio = b.bareCPU / r.CPUPerRequest
		}
	}
	if profErr != nil {
		if perr := <-profErr; perr != nil {
			r.note("CPU profile failed: %v", perr)
		} else {
			r.note("CPU profile of the server: %s", filepath.Join(b.o.cpuProfile, r.Name+".pprof"))
		}
	}
	if err != nil {
		return err
	}
	b.logf("   %.0f req/s, p50 %.3f ms, p99 %.3f ms, server CPU %.1f µs/request", r.RPS, r.P50, r.P99, r.CPUPerRequest)
	if !m.halfLoad {
		return nil
	}
	rate := b.bareRPS / 2
	if r.Name == "bare" {
		rate = r.RPS / 2
	}
	if b.bareHalfP99 > 0 {
		defer func() {
			if r.HalfP99 > 0 {
				r.note("p99 at half of bare's peak: %.2f× bare's (%.3f ms vs %.3f ms)", r.HalfP99/b.bareHalfP99, r.HalfP99, b.bareHalfP99)
			}
		}()
	}
	req := rawRequest(m.load.Method, m.server.Addr(), m.load.Path, m.load.Headers, m.load.Body)
	gen0 := selfCPU()
	cpu0, cpuErr = m.server.cpuTime()
	lr, err := openLoop(ctx, m.server.Addr(), [][]byte{req}, rate, b.o.duration, b.o.connections)
	cpu1, cpuErr1 := m.server.cpuTime()
	gen := selfCPU() - gen0
	if err != nil {
		return fmt.Errorf("open-loop run at %.0f req/s: %w", rate, err)
	}
	if lr.Non2xx > 0 {
		return fmt.Errorf("open-loop run: %d of %d answers were not 2xx", lr.Non2xx, lr.Sent)
	}
	r.HalfRate = rate
	r.HalfP50 = ms(lr.Hist.quantile(0.50))
	r.HalfP99 = ms(lr.Hist.quantile(0.99))
	if cpuErr == nil && cpuErr1 == nil && lr.Sent > 0 {
		r.note("at half of the peak rate the server used %.2f cores (%.1f µs/request), the load generator %.2f cores",
			float64(cpu1-cpu0)/float64(lr.Elapsed), float64(cpu1-cpu0)/float64(time.Microsecond)/float64(lr.Sent),
			float64(gen)/float64(lr.Elapsed))
	}
	if got := float64(lr.Sent) / lr.Elapsed.Seconds(); got < 0.95*rate {
		r.note("the open-loop run achieved %.0f of %.0f req/s", got, rate)
	}
	b.logf("   at %.0f req/s (half of the ceiling): p50 %.3f ms, p99 %.3f ms", rate, r.HalfP50, r.HalfP99)
	return nil
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// checkOnce sends the load's request once with Go's client and requires a
// 200: wrk would happily measure a run of fast 401s.
func checkOnce(base string, l load, status int, check func(http.Header, []byte) error) error {
	key := l.Headers["X-API-Key"]
	if l.KeysFile != "" {
		b, err := os.ReadFile(l.KeysFile)
		if err != nil {
			return err
		}
		key, _, _ = strings.Cut(string(b), "\n")
	}
	req, err := http.NewRequest(l.Method, base+l.Path, strings.NewReader(l.Body))
	if err != nil {
		return err
	}
	for k, v := range l.Headers {
		req.Header.Set(k, v)
	}
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if want := max(status, http.StatusOK); resp.StatusCode != want {
		return fmt.Errorf("%s %s answered %d, want %d: %s", l.Method, l.Path, resp.StatusCode, want, body)
	}
	if check != nil {
		if err := check(resp.Header, body); err != nil {
			return fmt.Errorf("%s %s: %w: %s", l.Method, l.Path, err, body)
		}
	}
	return nil
}

// fetchProfile writes a CPU profile of secs seconds from a pprof server.
func fetchProfile(base string, secs int, path string) error {
	resp, err := http.Get(fmt.Sprintf("%s/debug/pprof/profile?seconds=%d", base, secs))
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("pprof answered %s", resp.Status)
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, resp.Body); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
