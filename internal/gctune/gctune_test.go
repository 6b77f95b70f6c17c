package gctune

import (
	"context"
	"runtime/debug"
	"testing"
	"time"
)

func TestPercent(t *testing.T) {
	for _, tc := range []struct {
		live, floor uint64
		want        int
	}{
		{0, Floor, 100_000},         // nothing live yet: capped
		{64 << 10, Floor, 100_000},  // 64 KB: capped
		{640 << 10, Floor, 10_240},  // 640 KB
		{16 << 20, Floor, 400},      // 16 MB live: grow by 64 MB
		{40 << 20, Floor, 160},      // rounded down
		{63 << 20, Floor, 101},      // just below the floor
		{64 << 20, Floor, 100},      // from here on, Go's default
		{2 << 30, Floor, 100},       // a cache of a million keys
		{10 << 20, 0, 100},          // no floor
		{1 << 62, 1 << 63, 200},     // no overflow
		{1<<64 - 1, 1<<64 - 1, 100}, // none at the edge either
	} {
		if got := Percent(tc.live, tc.floor); got != tc.want {
			t.Errorf("Percent(%d, %d) = %d, want %d", tc.live, tc.floor, got, tc.want)
		}
	}
}

// Run raises the percentage above the default while the live heap is
// below the floor, restores the default when it ends, and leaves an
// operator's GOGC alone.
func TestRun(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); Run(ctx, 1<<40, time.Millisecond) }()
	deadline := time.Now().Add(5 * time.Second)
	for gcPercent() <= 100 {
		if time.Now().After(deadline) {
			t.Fatal("the percentage stayed at the default with a heap far below the floor")
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	<-done
	if p := gcPercent(); p != 100 {
		t.Fatalf("after Run: GOGC %d, want 100", p)
	}

	t.Setenv("GOGC", "150")
	debug.SetGCPercent(150)
	defer debug.SetGCPercent(100)
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	Run(ctx, 1<<40, time.Millisecond)
	if p := gcPercent(); p != 150 {
		t.Fatalf("with GOGC=150 set: GOGC %d after Run, want 150", p)
	}
}

// gcPercent reads the collector's percentage (SetGCPercent is the only
// way), putting it back as it was.
func gcPercent() int {
	p := debug.SetGCPercent(100)
	debug.SetGCPercent(p)
	return p
}
