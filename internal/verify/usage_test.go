package verify

import (
	"context"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestUsageCountedAndFlushed(t *testing.T) {
	f := newFixture(t)
	tok, k := f.key()
	demo, d := f.key(func(k *latchkey.Key) { k.Environment = latchkey.Demo })
	f.v.Check(f.ctx, tok, Request{})
	f.clock.Add(time.Minute)
	f.v.Check(f.ctx, tok, Request{})
	f.v.Check(f.ctx, tok, Request{Type: "scim"})
	f.v.Check(f.ctx, demo, Request{})

	// A failed flush keeps the counts for the next one.
	dead, cancel := context.WithCancel(f.ctx)
	cancel()
	if err := f.v.Flush(dead); err == nil {
		t.Fatal("Flush with a cancelled context: got nil, want an error")
	}
	f.v.Check(f.ctx, tok, Request{}) // counted between the two flushes
	if err := f.v.Flush(f.ctx); err != nil {
		t.Fatalf("Flush: got %v, want nil", err)
	}
	days, err := f.db.Usage(f.ctx, f.ws, k.ID, t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(days) != 1 || days[0].Valid != 3 || days[0].Denied != 1 || days[0].Environment != latchkey.Production {
		t.Errorf("production usage: got %+v, want 3 valid, 1 denied", days)
	}
	days, _ = f.db.Usage(f.ctx, f.ws, d.ID, t0, t0)
	if len(days) != 1 || days[0].Valid != 1 || days[0].Environment != latchkey.Demo {
		t.Errorf("demo usage: got %+v, want 1 valid in demo", days)
	}
	// last_used_at waits for the fold of the usage log.
	if stored, _ := f.db.Key(f.ctx, f.ws, k.ID); stored.LastUsedAt != nil {
		t.Errorf("last_used_at before the fold: got %v, want none", stored.LastUsedAt)
	}
	if err := f.v.Fold(f.ctx); err != nil {
		t.Fatalf("Fold: got %v, want nil", err)
	}
	stored, _ := f.db.Key(f.ctx, f.ws, k.ID)
	if stored.LastUsedAt == nil || !stored.LastUsedAt.Equal(t0.Add(time.Minute)) {
		t.Errorf("last_used_at: got %v, want %v", stored.LastUsedAt, t0.Add(time.Minute))
	}
	if days, _ := f.db.Usage(f.ctx, f.ws, k.ID, t0, t0); len(days) != 1 || days[0].Valid != 3 {
		t.Errorf("usage after the fold: got %+v, want 3 valid", days)
	}
	// Nothing is sent twice.
	if err := f.v.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	days, _ = f.db.Usage(f.ctx, f.ws, k.ID, t0, t0)
	if days[0].Valid != 3 {
		t.Errorf("after an empty flush: got %d valid, want 3", days[0].Valid)
	}
}

func TestRunFlushesOnShutdown(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.FlushEvery = time.Hour })
	tok, k := f.key()
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error)
	go func() { done <- f.v.Run(ctx) }()
	f.v.Check(f.ctx, tok, Request{})
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
	days, _ := f.db.Usage(f.ctx, f.ws, k.ID, t0, t0)
	if len(days) != 1 || days[0].Valid != 1 {
		t.Errorf("usage after shutdown: got %+v, want 1 valid", days)
	}
	// And folds it: last_used_at is written.
	if stored, _ := f.db.Key(f.ctx, f.ws, k.ID); stored.LastUsedAt == nil {
		t.Error("last_used_at after shutdown: got none, want the use folded")
	}
}

// TestRunFolds: Run folds the usage log every FoldEvery while it runs.
func TestRunFolds(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.FlushEvery, c.FoldEvery = 5*time.Millisecond, 5*time.Millisecond })
	tok, k := f.key()
	ctx, cancel := context.WithCancel(f.ctx)
	done := make(chan error)
	go func() { done <- f.v.Run(ctx) }()
	f.v.Check(f.ctx, tok, Request{})
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		if stored, _ := f.db.Key(f.ctx, f.ws, k.ID); stored.LastUsedAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("last_used_at never written: Run does not fold")
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("Run: got %v, want nil", err)
	}
}

func TestMetrics(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key()
	f.v.Check(f.ctx, tok, Request{})
	f.v.Check(f.ctx, "", Request{})
	f.v.Check(f.ctx, "", Request{})
	// A second Verifier on the same registry shares the collectors.
	New(Config{Store: f.db, Registerer: f.reg}).Check(f.ctx, "", Request{})
	got := map[string]float64{}
	families, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range families {
		for _, m := range mf.GetMetric() {
			switch mf.GetName() {
			case "latchkey_verify_results_total":
				got[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			case "latchkey_verify_duration_seconds":
				got["observations"] = float64(m.GetHistogram().GetSampleCount())
			}
		}
	}
	want := map[string]float64{"valid": 1, "key_missing": 3, "observations": 4, "unavailable": 0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s: got %v, want %v", k, got[k], v)
		}
	}
}

// failSecond is the real store, failing the second AddUsage call once.
type failSecond struct {
	UsageSink
	calls int
}

func (s *failSecond) AddUsage(ctx context.Context, batch []latchkey.Usage) error {
	if s.calls++; s.calls == 2 {
		return latchkey.Errorf(latchkey.EUNAVAILABLE, "the store went away")
	}
	return s.UsageSink.AddUsage(ctx, batch)
}

// TestFlushInChunks: a flush larger than one chunk is written in chunks;
// when one fails, the chunks written stay written and the rest is kept for
// the next flush, so every count lands exactly once.
func TestFlushInChunks(t *testing.T) {
	sink := &failSecond{}
	f := newFixture(t, func(c *Config) { c.Usage = sink })
	sink.UsageSink = f.db
	defer func(n int) { flushChunk = n }(flushChunk)
	flushChunk = 2
	var toks []string
	var keys []*latchkey.Key
	for range 5 {
		tok, k := f.key()
		toks, keys = append(toks, tok), append(keys, k)
	}
	for i, tok := range toks {
		for range i + 1 {
			f.v.Check(f.ctx, tok, Request{})
		}
	}
	if err := f.v.Flush(f.ctx); err == nil {
		t.Fatal("Flush with the second chunk failing: got nil, want the error")
	}
	if err := f.v.Flush(f.ctx); err != nil {
		t.Fatalf("second Flush: %v", err)
	}
	for i, k := range keys {
		days, err := f.db.Usage(f.ctx, f.ws, k.ID, t0, t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 1 || days[0].Valid != int64(i+1) {
			t.Errorf("key %d: got %+v, want %d valid, counted once", i, days, i+1)
		}
	}
	if sink.calls != 4 {
		t.Errorf("store writes: got %d, want 4 (2 chunks, the second failing; then the 3 counters left in 2)", sink.calls)
	}
}

// slowFold is the real store, each FoldUsage call taking at least 10ms
// and recorded.
type slowFold struct {
	UsageSink
	calls [][2]time.Time // start and end of each call
}

func (s *slowFold) FoldUsage(ctx context.Context, after string, limit int) (string, error) {
	start := time.Now()
	time.Sleep(10 * time.Millisecond)
	last, err := s.UsageSink.FoldUsage(ctx, after, limit)
	s.calls = append(s.calls, [2]time.Time{start, time.Now()})
	return last, err
}

// TestPacedFoldRests: the fold Run makes rests after each write as long
// as the write took, leaving the store to verification meanwhile; the
// fold at shutdown does not.
func TestPacedFoldRests(t *testing.T) {
	sink := &slowFold{}
	f := newFixture(t, func(c *Config) { c.Usage = sink })
	sink.UsageSink = f.db
	defer func(n int) { foldChunk = n }(foldChunk)
	foldChunk = 1
	for range 3 {
		tok, _ := f.key()
		f.v.Check(f.ctx, tok, Request{})
	}
	if err := f.v.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	if err := f.v.fold(f.ctx, true); err != nil {
		t.Fatalf("fold: got %v, want nil", err)
	}
	if len(sink.calls) != 4 { // a key per call, then the call that finds none left
		t.Fatalf("FoldUsage calls: got %d, want 4", len(sink.calls))
	}
	for i := 1; i < len(sink.calls); i++ {
		prev, cur := sink.calls[i-1], sink.calls[i]
		if rest, took := cur[0].Sub(prev[1]), prev[1].Sub(prev[0]); rest < took {
			t.Errorf("rest after write %d: got %v, want at least the %v it took", i, rest, took)
		}
	}
}
