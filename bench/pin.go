package main

import (
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// layout says which cores the servers and the load generators run on: ""
// for any (the scheduler shares them), else a taskset list such as "0" or
// "2-5". With both set and disjoint, the server and the load generator no
// longer steal each other's cores, as on separate machines.
type layout struct {
	server, load string
}

func (l layout) String() string {
	if l.server == "" && l.load == "" {
		return "servers and load generators share every core"
	}
	return fmt.Sprintf("servers on CPUs %s, load generators (wrk and this process) on CPUs %s", orAny(l.server), orAny(l.load))
}

func orAny(s string) string {
	if s == "" {
		return "any"
	}
	return s
}

// pinned returns the command line that runs bin with args on cpus, through
// taskset (which execs bin: the process id, whose CPU time the harness
// reads, stays the same).
func pinned(cpus, bin string, args []string) (string, []string) {
	if cpus == "" {
		return bin, args
	}
	return tasksetPath, append([]string{"-c", cpus, bin}, args...)
}

const tasksetPath = "/usr/bin/taskset"

// pinSelf moves every thread of this process (the open-loop generator and
// the cache priming run here) onto cpus; threads started later inherit it.
func pinSelf(cpus string) error {
	if cpus == "" {
		return nil
	}
	out, err := exec.Command(tasksetPath, "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset -a -p -c %s: %v: %s", cpus, err, out)
	}
	return nil
}
