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
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", c.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces; the fields after it do not.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0, fmt.Errorf("unexpected /proc stat %q", b)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, fmt.Errorf("unexpected /proc stat %q", b)
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc stat %q", b)
	}
	return time.Duration(utime+stime) * clockTick, nil
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
