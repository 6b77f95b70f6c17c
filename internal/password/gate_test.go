package password

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// TestAttackParallelHashesExhaustMemory: 40 hashes at once (logins,
// invitations, password changes from anyone) used to run 40 × 64 MiB at
// once. At most Concurrency run, a few wait briefly, the rest are refused
// at once with rate_limited.
func TestAttackParallelHashesExhaustMemory(t *testing.T) {
	SetConcurrency(2)
	t.Cleanup(func() { SetConcurrency(0) })
	var peak atomic.Int64
	var refused atomic.Int64
	var wg sync.WaitGroup
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() { // sample how many slots are taken
		defer close(sampled)
		for {
			select {
			case <-stop:
				return
			default:
				if n := int64(len(current.Load().slots)); n > peak.Load() {
					peak.Store(n)
				}
				time.Sleep(time.Millisecond)
			}
		}
	}()
	for range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := Verify(context.Background(), "a long enough secret", dummy)
			if err != nil {
				if latchkey.ErrorCode(err) != latchkey.ERATELIMITED {
					t.Errorf("got %v, want rate_limited", err)
				}
				if e := err.(*latchkey.Error); e.Details["retry_after_seconds"] != 1 {
					t.Errorf("details %v, want retry_after_seconds", e.Details)
				}
				refused.Add(1)
			}
		}()
	}
	wg.Wait()
	close(stop)
	<-sampled
	if p := peak.Load(); p > 2 {
		t.Errorf("%d hashes ran at once, want at most 2", p)
	}
	// 2 run and 8 may wait: at least 30 are refused.
	if refused.Load() < 30 {
		t.Errorf("%d refused, want at least 30", refused.Load())
	}
	if _, err := Hash("a long enough secret"); err != nil {
		t.Errorf("after the burst: %v", err)
	}
}

// TestExcessRefusedWithoutQueueing: with every slot taken and the queue
// full, the next caller is refused at once, without hashing.
func TestExcessRefusedWithoutQueueing(t *testing.T) {
	SetConcurrency(2)
	t.Cleanup(func() { SetConcurrency(0) })
	g := current.Load()
	var releases []func()
	for range 2 {
		r, err := acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		releases = append(releases, r)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); _, _ = acquire(ctx) }()
	}
	for g.waiting.Load() < 8 {
		time.Sleep(time.Millisecond)
	}
	start := time.Now()
	ok, err := Verify(context.Background(), "a long enough secret", dummy)
	if took := time.Since(start); ok || latchkey.ErrorCode(err) != latchkey.ERATELIMITED || took > 50*time.Millisecond {
		t.Errorf("with the queue full: got %v, %v after %v; want rate_limited at once", ok, err, took)
	}
	if _, err := HashContext(context.Background(), "a long enough secret"); latchkey.ErrorCode(err) != latchkey.ERATELIMITED {
		t.Errorf("Hash with the queue full: got %v, want rate_limited", err)
	}
	cancel()
	wg.Wait()
	for _, r := range releases {
		r()
	}
}

func TestHashWaitsForAFreeSlot(t *testing.T) {
	SetConcurrency(1)
	t.Cleanup(func() { SetConcurrency(0) })
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); _, errs[i] = Hash("a long enough secret") }()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("hash %d: %v, want it to wait its turn", i, err)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	release, _ := acquire(context.Background())
	if _, err := HashContext(ctx, "a long enough secret"); err != context.Canceled {
		t.Errorf("cancelled while waiting: got %v, want context.Canceled", err)
	}
	release()
}
