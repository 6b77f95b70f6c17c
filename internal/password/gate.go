package password

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey"
)

// Every argon2id hash takes 64 MiB for as long as it runs, and anyone on
// the internet can start one (a login, an invitation, a password change).
// Nothing else bounds how many run at once, so this package does, for the
// whole process: at most Concurrency hashes run, a few more callers may
// wait briefly for a slot, and the rest are refused at once with
// ERATELIMITED rather than queued. The bound is process-wide because the
// memory it protects is; it is the one piece of package state, set once by
// the server's configuration (SetConcurrency) before it serves.

// DefaultConcurrency is the bound used until SetConcurrency is called:
// max(2, GOMAXPROCS). More would not finish sooner (each hash keeps a core
// busy) and would only hold more memory.
func DefaultConcurrency() int { return max(2, runtime.GOMAXPROCS(0)) }

// MaxWait is how long a caller waits for a free slot before it is refused.
const MaxWait = 5 * time.Second

// waitersPerSlot bounds the queue: beyond it callers are refused without
// waiting, so a burst costs goroutines for at most MaxWait, never memory.
const waitersPerSlot = 4

type gate struct {
	slots   chan struct{}
	waiting atomic.Int64
	maxWait int64
}

func newGate(n int) *gate {
	if n < 1 {
		n = 1
	}
	return &gate{slots: make(chan struct{}, n), maxWait: int64(n * waitersPerSlot)}
}

var current atomic.Pointer[gate]

func init() { current.Store(newGate(DefaultConcurrency())) }

// SetConcurrency sets how many hashes and verifications may run at once in
// this process (n < 1 means DefaultConcurrency). Call it at start-up:
// hashes already running finish under the old bound.
func SetConcurrency(n int) {
	if n < 1 {
		n = DefaultConcurrency()
	}
	current.Store(newGate(n))
}

// Concurrency returns the bound in force.
func Concurrency() int { return cap(current.Load().slots) }

// errBusy is the answer when every slot is taken and the queue is full.
func errBusy() error {
	return latchkey.Errorf(latchkey.ERATELIMITED, "too many password checks at once; try again in a moment").
		WithDetail("retry_after_seconds", 1)
}

// acquire takes a slot, waiting at most MaxWait and only while fewer than
// waitersPerSlot callers per slot wait; it returns the release function.
func acquire(ctx context.Context) (func(), error) {
	g := current.Load()
	release := func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	if g.waiting.Add(1) > g.maxWait {
		g.waiting.Add(-1)
		return nil, errBusy()
	}
	defer g.waiting.Add(-1)
	t := time.NewTimer(MaxWait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, errBusy()
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
