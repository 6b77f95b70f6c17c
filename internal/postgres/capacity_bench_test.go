package postgres

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/storetest"
)

// The figures of docs/scaling.md that concern PostgreSQL itself:
//
//	go test -run XXX -bench 'Capacity' ./internal/postgres

// BenchmarkCapacityUsageFlush is one instance's usage flush: one entry
// per key used since the last flush, appended to the usage log in one call.
func BenchmarkCapacityUsageFlush(b *testing.B) {
	for _, keys := range []int{100, 1000, 10000} {
		b.Run("keys="+strconv.Itoa(keys), func(b *testing.B) {
			s := newTestServer(b)
			db := open(b, s.schema())
			batch, day := usageOfKeys(b, db, keys)
			for i := range batch {
				batch[i].LastUsedAt = day
			}
			ctx := context.Background()
			for b.Loop() {
				if err := db.AddUsage(ctx, batch); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N)/float64(keys), "µs/key")
		})
	}
}

// BenchmarkCapacityUsageFold is a fold of a minute of usage: 12 flushes
// of the same keys (one instance, every 5 s), each key's counters and row
// written once. µs/key is per key in use.
func BenchmarkCapacityUsageFold(b *testing.B) {
	for _, keys := range []int{1000, 10000} {
		b.Run("keys="+strconv.Itoa(keys), func(b *testing.B) {
			s := newTestServer(b)
			db := open(b, s.schema())
			batch, day := usageOfKeys(b, db, keys)
			ctx := context.Background()
			var folding time.Duration
			minute := 0
			for b.Loop() {
				b.StopTimer()
				minute++
				for i := range batch {
					batch[i].LastUsedAt = day.Add(time.Duration(minute) * latchkey.LastUsedStep)
				}
				for range 12 {
					if err := db.AddUsage(ctx, batch); err != nil {
						b.Fatal(err)
					}
				}
				b.StartTimer()
				t := time.Now()
				if err := storetest.FoldAll(ctx, db, 1000); err != nil {
					b.Fatal(err)
				}
				folding += time.Since(t)
			}
			b.ReportMetric(float64(folding.Microseconds())/float64(b.N)/float64(keys), "µs/key")
		})
	}
}

// usageOfKeys fills db with n keys and returns a flush's entry for each:
// ten valid verifications on day.
func usageOfKeys(b *testing.B, db *DB, n int) (batch []latchkey.Usage, day time.Time) {
	ws := fillKeys(b, db, n)
	day = time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	batch = make([]latchkey.Usage, n)
	for i := range batch {
		batch[i] = latchkey.Usage{WorkspaceID: ws, KeyID: fmt.Sprintf("key_%08d", i), Day: day,
			Environment: latchkey.Production, Valid: 10, Outcomes: map[string]int64{latchkey.OutcomeValid: 10}}
	}
	return batch, day
}

// BenchmarkCapacityNotifyRoundTrip is the cost of one change announced
// through LISTEN/NOTIFY, from pg_notify to its delivery to a listener: a
// membership fence, or a key change reaching one instance.
func BenchmarkCapacityNotifyRoundTrip(b *testing.B) {
	s := newTestServer(b)
	db := open(b, s.schema())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	got := make(chan string, 1)
	up := make(chan bool, 4)
	go db.Listen(ctx, InvalidationChannel, func(p string) { got <- p }, func(c bool) { up <- c })
	if !<-up {
		b.Fatal("not listening")
	}
	i := 0
	for b.Loop() {
		i++
		p := "sync:bench:" + strconv.Itoa(i)
		if err := db.Notify(ctx, InvalidationChannel, p); err != nil {
			b.Fatal(err)
		}
		for <-got != p {
		}
	}
}

// BenchmarkCapacityKeyHashes is the membership set's load: paging through
// every key's hashes, per key.
func BenchmarkCapacityKeyHashes(b *testing.B) {
	s := newTestServer(b)
	db := open(b, s.schema())
	const n = 200_000
	fillKeys(b, db, n)
	ctx := context.Background()
	for b.Loop() {
		after, total := "", 0
		for {
			page, err := db.KeyHashes(ctx, after, 10_000)
			if err != nil {
				b.Fatal(err)
			}
			total += len(page)
			if len(page) < 10_000 {
				break
			}
			after = page[len(page)-1].ID
		}
		if total != n {
			b.Fatalf("%d keys, want %d", total, n)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/n, "ns/key")
}
