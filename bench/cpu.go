package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// clockTick is the unit of /proc/PID/stat times (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuTime is the user+system CPU time a child has used so far. Per request
// it is the least noisy measure of what the server costs: throughput on a
// shared two-core machine moves with whatever else runs there.
func (c *child) cpuTime() (time.Duration, error) {
	return procCPU(c.cmd.Process.Pid)
}

// procCPU is the user+system CPU time process pid has used so far.
func procCPU(pid int) (time.Duration, error) {
	t, err := readProcTimes(pid)
	return t.self, err
}

// procTimes are a process's CPU times, from /proc/PID/stat.
type procTimes struct {
	self   time.Duration // user+system time it has used
	reaped time.Duration // that of the children it has waited for
}

func readProcTimes(pid int) (procTimes, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procTimes{}, err
	}
	// The command name may hold spaces; the fields after it do not.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return procTimes{}, fmt.Errorf("unexpected /proc stat %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 15 {
		return procTimes{}, fmt.Errorf("unexpected /proc stat %q", b)
	}
	var ticks [4]int64 // utime, stime, cutime, cstime
	for j := range ticks {
		if ticks[j], err = strconv.ParseInt(f[11+j], 10, 64); err != nil {
			return procTimes{}, fmt.Errorf("unexpected /proc stat %q", b)
		}
	}
	return procTimes{self: time.Duration(ticks[0]+ticks[1]) * clockTick, reaped: time.Duration(ticks[2]+ticks[3]) * clockTick}, nil
}

// processTimes are the CPU times of every running process whose command
// name is comm, by process id: for PostgreSQL ("postgres"), its
// postmaster, background processes and one backend per connection.
func processTimes(comm string) (map[int]procTimes, error) {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	times := map[int]procTimes{}
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		name, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
		if err != nil || strings.TrimSpace(string(name)) != comm {
			continue // gone, or another program
		}
		if t, err := readProcTimes(pid); err == nil {
			times[pid] = t
		}
	}
	return times, nil
}

// cpuUsed is the CPU time processes used between two snapshots, those
// that started or exited in between included: one that exited counts
// through its parent, which collected its time when it waited for it,
// less what it had used by the first snapshot. Its parent must be among
// the processes, as PostgreSQL's postmaster is for every other.
func cpuUsed(before, after map[int]procTimes) time.Duration {
	var sum time.Duration
	for pid, a := range after {
		b := before[pid]
		sum += a.self - b.self + a.reaped - b.reaped
	}
	for pid, b := range before {
		if _, ok := after[pid]; !ok {
			sum -= b.self
		}
	}
	return sum
}

// cpuOf is the CPU time the processes in pids used between two snapshots,
// as far as both saw them.
func cpuOf(before, after map[int]procTimes, pids []int) time.Duration {
	var sum time.Duration
	for _, pid := range pids {
		if a, ok := after[pid]; ok {
			sum += a.self - before[pid].self
		}
	}
	return sum
}

// selfCPU is the CPU time this process (the open-loop generator) has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// settle waits until the child has used under 5% of a core for half a
// second (a background flush has finished), at most limit; it returns how
// long it waited.
func (c *child) settle(limit time.Duration) (time.Duration, error) {
	start := time.Now()
	for time.Since(start) < limit {
		before, err := c.cpuTime()
		if err != nil {
			return time.Since(start), err
		}
		time.Sleep(500 * time.Millisecond)
		after, err := c.cpuTime()
		if err != nil {
			return time.Since(start), err
		}
		if after-before < 25*time.Millisecond {
			return time.Since(start), nil
		}
	}
	return time.Since(start), fmt.Errorf("still busy after %s", limit)
}

// foldsDone counts the usage folds a server has completed.
const foldsDone = "latchkey_usage_fold_duration_seconds_count"

// awaitFold waits for the server to settle, then for a complete fold of
// the usage log that started after (one runs at most --usage-fold
// later), then to settle again: the fold of what it flushed before, such
// as a priming's usage, is then done. limit bounds each settling.
func (c *child) awaitFold(limit time.Duration) (time.Duration, error) {
	start := time.Now()
	if _, err := c.settle(limit); err != nil {
		return time.Since(start), err
	}
	before, found, err := sampled(c.URL, foldsDone)
	if err != nil || !found {
		return time.Since(start), err // !found: a release that wrote usage without a log
	}
	for deadline := time.Now().Add(2*time.Minute + limit); ; time.Sleep(time.Second) {
		n, err := metric(c.URL, foldsDone)
		if err != nil {
			return time.Since(start), err
		}
		if n > before {
			break
		}
		if time.Now().After(deadline) {
			return time.Since(start), fmt.Errorf("no usage fold completed within %s", time.Since(start).Round(time.Second))
		}
	}
	_, err = c.settle(limit)
	return time.Since(start), err
}

// rss is the child's resident memory in bytes.
func (c *child) rss() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, fmt.Errorf("no VmRSS in /proc/%d/status", c.cmd.Process.Pid)
}
