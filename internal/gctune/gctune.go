// Package gctune gives Go's garbage collector a floor of headroom.
//
// With the default GOGC=100 the heap is collected each time it has doubled
// since the last collection. latchkey's live heap is small (tens of
// megabytes without a large key cache) next to what its request rate
// allocates, so the collector would run many times a second, and marking
// was about a tenth of a warm verification's CPU. Letting the heap grow at
// least Floor between collections costs at most Floor of memory and makes
// those collections rare; once the live heap is larger than Floor (a cache
// of a million keys), GOGC=100 applies as usual.
package gctune

import (
	"context"
	"os"
	"runtime/debug"
	"runtime/metrics"
	"time"
)

// Floor is the least the heap may grow between two collections.
const Floor = 64 << 20

// Percent is the GOGC value that lets a live heap of live bytes grow by
// floor, and never less than Go's default of 100.
func Percent(live, floor uint64) int {
	const most = 100_000
	if live == 0 || floor/live >= most/100 {
		return most
	}
	return max(100, int(float64(floor)*100/float64(live)))
}

// Run sets the collector's percentage from the live heap every interval
// until ctx ends, then restores the default. It does nothing when the
// operator set GOGC: their setting stands.
func Run(ctx context.Context, floor uint64, every time.Duration) {
	if _, set := os.LookupEnv("GOGC"); set {
		return
	}
	sample := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	current := 100
	defer func() { debug.SetGCPercent(100) }()
	tick := time.NewTicker(every)
	defer tick.Stop()
	for {
		metrics.Read(sample)
		if sample[0].Value.Kind() == metrics.KindUint64 {
			if p := Percent(sample[0].Value.Uint64(), floor); p != current {
				debug.SetGCPercent(p)
				current = p
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}
