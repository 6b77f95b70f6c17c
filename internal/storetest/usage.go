package storetest

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// usageBothWays runs a usage test twice, on stores that must answer the
// same: once reading the batches from the usage log (appended only), once
// from the daily counters (the log folded after every batch).
func usageBothWays(run func(t *testing.T, f *fixture)) func(*testing.T, func(*testing.T) latchkey.Store) {
	return func(t *testing.T, open func(*testing.T) latchkey.Store) {
		for _, folded := range []bool{false, true} {
			name := "logged"
			if folded {
				name = "folded"
			}
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, open)
				f.foldUsage = folded
				run(t, f)
			})
		}
	}
}

// addUsage appends batch, and folds the whole log after it where the
// test reads folded counters.
func (f *fixture) addUsage(t *testing.T, what string, batch []latchkey.Usage) {
	t.Helper()
	wantCode(t, what, f.s.AddUsage(f.ctx, batch), "")
	if f.foldUsage {
		f.foldAll(t)
	}
}

// foldAll folds the whole usage log as the verifier does.
func (f *fixture) foldAll(t *testing.T) {
	t.Helper()
	wantCode(t, "FoldUsage", f.fold(), "")
}

// fold walks the keys of the usage log two per call, so that the walk
// crosses calls.
func (f *fixture) fold() error { return FoldAll(f.ctx, f.s, 2) }

// FoldAll folds the whole usage log of s, limit keys per FoldUsage call,
// as the verifier does, and fails if a call does not move on.
func FoldAll(ctx context.Context, s latchkey.UsageStore, limit int) error {
	for after := ""; ; {
		last, err := s.FoldUsage(ctx, after, limit)
		if err != nil || last == "" {
			return err
		}
		if last <= after {
			return fmt.Errorf("FoldUsage after %q: got %q, want a later key", after, last)
		}
		after = last
	}
}

func testUsage(t *testing.T, f *fixture) {
	a, _ := f.workspace("A", "a@example.com")
	b, _ := f.workspace("B", "b@example.com")
	k := f.key(a.ID, "counted")
	other := f.key(b.ID, "counted")
	gone := f.key(a.ID, "deleted before the flush")
	wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, a.ID, gone.ID, f.event(a.ID, latchkey.EventKeyDeleted, gone.ID)), "")

	day := func(n int) time.Time { return time.Date(2030, 6, 10+n, 0, 0, 0, 0, time.UTC) }
	use := func(key *latchkey.Key, d int, env latchkey.Environment, valid, denied int64, last time.Time) latchkey.Usage {
		return latchkey.Usage{WorkspaceID: key.WorkspaceID, KeyID: key.ID, Day: day(d), Environment: env,
			Valid: valid, Denied: denied, Outcomes: outcomes(valid, denied), LastUsedAt: last}
	}
	batch1 := []latchkey.Usage{
		use(k, 0, latchkey.Production, 1, 0, now.Add(-2*time.Hour)),
		use(k, 0, latchkey.Production, 2, 1, now.Add(-time.Hour)), // same counter in one batch
		use(k, 0, latchkey.Demo, 5, 0, time.Time{}),
		use(k, 1, latchkey.Production, 0, 3, time.Time{}),
		use(gone, 0, latchkey.Production, 9, 9, now),  // key deleted meanwhile
		use(other, 0, latchkey.Production, 7, 0, now), // another workspace's key
	}
	f.addUsage(t, "AddUsage(batch 1)", batch1)
	batch2 := []latchkey.Usage{
		use(k, 0, latchkey.Production, 10, 0, now.Add(-3*time.Hour)), // older: last_used_at stays
		use(k, 3, latchkey.Production, 1, 0, time.Time{}),
	}
	f.addUsage(t, "AddUsage(batch 2)", batch2)
	f.addUsage(t, "AddUsage(empty)", nil)

	t.Run("counts", func(t *testing.T) {
		tests := []struct {
			name     string
			ws, key  string
			from, to time.Time
			want     []latchkey.UsageDay
		}{
			{"all days, oldest first", a.ID, k.ID, day(0), day(3), []latchkey.UsageDay{
				{Day: "2030-06-10", Environment: latchkey.Production, Valid: 13, Denied: 1, Outcomes: outcomes(13, 1)},
				{Day: "2030-06-10", Environment: latchkey.Demo, Valid: 5, Outcomes: outcomes(5, 0)},
				{Day: "2030-06-11", Environment: latchkey.Production, Denied: 3, Outcomes: outcomes(0, 3)},
				{Day: "2030-06-13", Environment: latchkey.Production, Valid: 1, Outcomes: outcomes(1, 0)},
			}},
			{"range is inclusive", a.ID, k.ID, day(1), day(1).Add(23 * time.Hour), []latchkey.UsageDay{
				{Day: "2030-06-11", Environment: latchkey.Production, Denied: 3, Outcomes: outcomes(0, 3)},
			}},
			{"empty range", a.ID, k.ID, day(4), day(9), nil},
			{"other workspace's key", b.ID, other.ID, day(0), day(0), []latchkey.UsageDay{
				{Day: "2030-06-10", Environment: latchkey.Production, Valid: 7, Outcomes: outcomes(7, 0)},
			}},
			{"key of another workspace", b.ID, k.ID, day(0), day(3), nil},
			{"deleted key", a.ID, gone.ID, day(0), day(3), nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := f.s.Usage(f.ctx, tt.ws, tt.key, tt.from, tt.to)
				wantCode(t, "Usage", err, "")
				if len(got) != len(tt.want) {
					t.Fatalf("Usage: got %v, want %v", got, tt.want)
				}
				for i := range got {
					if !reflect.DeepEqual(got[i], tt.want[i]) {
						t.Fatalf("Usage[%d]: got %+v, want %+v", i, got[i], tt.want[i])
					}
				}
			})
		}
	})

	t.Run("last used", func(t *testing.T) {
		// Appending leaves last_used_at to the fold.
		f.foldAll(t)
		got, err := f.s.Key(f.ctx, a.ID, k.ID)
		wantCode(t, "Key", err, "")
		if want := now.Add(-time.Hour); got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) {
			t.Fatalf("LastUsedAt: got %v, want %v (the latest of the batches)", got.LastUsedAt, want)
		}
		f.addUsage(t, "AddUsage(later)", []latchkey.Usage{use(k, 0, latchkey.Demo, 1, 0, now)})
		f.foldAll(t)
		got, _ = f.s.Key(f.ctx, a.ID, k.ID)
		if got.LastUsedAt == nil || !got.LastUsedAt.Equal(now) {
			t.Fatalf("LastUsedAt: got %v, want %v", got.LastUsedAt, now)
		}
		// To the minute: a use less than LastUsedStep later is not
		// written; one at least that much later is.
		for _, step := range []struct {
			at, want time.Time
		}{
			{now.Add(latchkey.LastUsedStep - time.Second), now},
			{now.Add(latchkey.LastUsedStep), now.Add(latchkey.LastUsedStep)},
		} {
			f.addUsage(t, "AddUsage(step)", []latchkey.Usage{use(k, 0, latchkey.Production, 1, 0, step.at)})
			f.foldAll(t)
			got, _ = f.s.Key(f.ctx, a.ID, k.ID)
			if got.LastUsedAt == nil || !got.LastUsedAt.Equal(step.want) {
				t.Fatalf("LastUsedAt after a use at %v: got %v, want %v", step.at, got.LastUsedAt, step.want)
			}
		}
		// A key never used keeps a nil LastUsedAt after a batch of denials.
		fresh := f.key(a.ID, "denied only")
		f.addUsage(t, "AddUsage(denied)", []latchkey.Usage{use(fresh, 0, latchkey.Production, 0, 4, time.Time{})})
		f.foldAll(t)
		got, _ = f.s.Key(f.ctx, a.ID, fresh.ID)
		if got.LastUsedAt != nil {
			t.Fatalf("LastUsedAt: got %v, want nil", got.LastUsedAt)
		}
	})
}

// outcomes is the breakdown the suite's batches carry: valid ones and
// denials by rate limit.
func outcomes(valid, denied int64) map[string]int64 {
	m := map[string]int64{}
	if valid != 0 {
		m[latchkey.OutcomeValid] = valid
	}
	if denied != 0 {
		m[string(latchkey.RateLimited)] = denied
	}
	return m
}
