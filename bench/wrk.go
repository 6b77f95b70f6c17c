package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// wrkPath is Debian's wrk (package wrk).
const wrkPath = "/usr/bin/wrk"

// load is the request mix of a wrk run: one fixed request, or a file of
// API keys cycled through (one per line) for the many-keys scenarios.
type load struct {
	Method  string
	Path    string
	Headers map[string]string
	Body    string
	// KeysFile, when set, holds the secrets sent as X-API-Key in turn.
	KeysFile string
}

// wrkStats is what the Lua done() hook reports; latencies in µs.
type wrkStats struct {
	Requests   uint64  `json:"requests"`
	DurationUS uint64  `json:"duration_us"`
	Non2xx     uint64  `json:"non2xx"`
	Connect    uint64  `json:"connect_errors"`
	Read       uint64  `json:"read_errors"`
	Write      uint64  `json:"write_errors"`
	Timeouts   uint64  `json:"timeouts"`
	P50        float64 `json:"p50_us"`
	P99        float64 `json:"p99_us"`
	Max        float64 `json:"max_us"`
	// CPU is the CPU time wrk itself used.
	CPU time.Duration `json:"-"`
}

// RPS is the throughput of the run.
func (s *wrkStats) RPS() float64 {
	return float64(s.Requests) / (float64(s.DurationUS) / 1e6)
}

// luaScript sets the request in Lua rather than with -H, which drops any
// header not written "Name: value", and reports the counts and percentiles
// as one JSON line. Status counts come from summary.errors.status (answers
// of 400 and above); the harness also checks one answer itself before each
// run, since a run of 401s would otherwise look like a fast success.
func luaScript(l load, host string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "wrk.method = %q\n", l.Method)
	fmt.Fprintf(&b, "wrk.path = %q\n", l.Path)
	for k, v := range l.Headers {
		fmt.Fprintf(&b, "wrk.headers[%q] = %q\n", k, v)
	}
	if l.Body != "" {
		fmt.Fprintf(&b, "wrk.body = %q\n", l.Body)
	}
	if l.KeysFile != "" {
		// Requests are formatted once per thread, so each request costs
		// wrk one table index; threads start at different places. Host is
		// explicit: wrk.format adds it only once wrk.host is set, which is
		// after the script is loaded.
		fmt.Fprintf(&b, `local reqs = {}
for line in io.lines(%q) do
  local h = {}
  for k, v in pairs(wrk.headers) do h[k] = v end
  h["Host"] = %q
  h["X-API-Key"] = line
  reqs[#reqs + 1] = wrk.format(nil, nil, h)
end
local i, threads = 0, 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end
function init(args)
  i = (tid * 104729) %% #reqs
end
function request()
  i = i %% #reqs + 1
  return reqs[i]
end
`, l.KeysFile, host)
	}
	b.WriteString(`function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format('LATCHKEY_BENCH {"requests":%d,"duration_us":%d,"non2xx":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,"timeouts":%d,"p50_us":%.1f,"p99_us":%.1f,"max_us":%.1f}\n',
    summary.requests, summary.duration, e.status, e.connect, e.read, e.write, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.max))
end
`)
	return b.String()
}

var non2xxLine = regexp.MustCompile(`Non-2xx or 3xx responses: (\d+)`)

// runWrk runs wrk against base+l.Path for d and returns its statistics;
// any non-2xx answer or socket error fails the run.
func runWrk(ctx context.Context, work, name, base string, l load, o options, d time.Duration, status int) (*wrkStats, error) {
	script := filepath.Join(work, name+".lua")
	if err := os.WriteFile(script, []byte(luaScript(l, strings.TrimPrefix(base, "http://"))), 0o600); err != nil {
		return nil, err
	}
	args := []string{"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.connections),
		"-d", fmt.Sprintf("%ds", max(1, int(d.Round(time.Second).Seconds()))), "--timeout", "5s", "-s", script, base + l.Path}
	bin, args := pinned(o.cpus.load, wrkPath, args)
	cmd := exec.CommandContext(ctx, bin, args...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return nil, fmt.Errorf("wrk: %v\n%s", err, out)
	}
	var st wrkStats
	st.CPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	_, line, ok := strings.Cut(string(out), "LATCHKEY_BENCH ")
	if !ok {
		return nil, fmt.Errorf("wrk printed no statistics:\n%s", out)
	}
	line, _, _ = strings.Cut(line, "\n")
	if err := json.Unmarshal([]byte(line), &st); err != nil {
		return nil, fmt.Errorf("wrk statistics %q: %v", line, err)
	}
	if m := non2xxLine.FindStringSubmatch(string(out)); m != nil {
		n, _ := strconv.ParseUint(m[1], 10, 64)
		st.Non2xx = max(st.Non2xx, n)
	}
	switch {
	case st.Requests == 0:
		return &st, fmt.Errorf("wrk completed no request:\n%s", out)
	case status >= 400 && st.Non2xx != st.Requests:
		return &st, fmt.Errorf("%d of %d answers were refusals, want all (%d)", st.Non2xx, st.Requests, status)
	case status < 400 && st.Non2xx > 0:
		return &st, fmt.Errorf("%d of %d answers were not 2xx: the run did not measure successful verifications", st.Non2xx, st.Requests)
	case st.Connect+st.Read+st.Write+st.Timeouts > 0:
		return &st, fmt.Errorf("socket errors: connect %d, read %d, write %d, timeout %d", st.Connect, st.Read, st.Write, st.Timeouts)
	}
	return &st, nil
}

// runWrks runs one wrk per server at once for d, each sending l to its own
// server, the -connections split among them (and the wrk threads, at least
// one each), and returns each one's statistics; the first failure fails
// the whole.
func runWrks(ctx context.Context, work, name string, servers []*child, l load, o options, d time.Duration) ([]*wrkStats, error) {
	n := len(servers)
	if o.connections < n {
		return nil, fmt.Errorf("-connections %d cannot be split among %d servers", o.connections, n)
	}
	stats := make([]*wrkStats, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, c := range servers {
		oi := o
		oi.connections = o.connections / n
		if i < o.connections%n {
			oi.connections++
		}
		oi.threads = max(1, min(oi.connections, o.threads/n))
		wg.Go(func() {
			stats[i], errs[i] = runWrk(ctx, work, fmt.Sprintf("%s-%d", name, i+1), c.URL, l, oi, d, 0)
			if errs[i] != nil {
				errs[i] = fmt.Errorf("%s: %w (the server's refusals so far: %s)", c.name, errs[i], refusals(c.URL))
			}
		})
	}
	wg.Wait()
	return stats, errors.Join(errs...)
}
