package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testBudgets(t *testing.T, open func(t *testing.T) latchkey.Store) {
	credits := func(n int64) func(*latchkey.Key) {
		return func(k *latchkey.Key) { k.Credits = &latchkey.Credits{Remaining: n, RefilledAt: now} }
	}
	lease := func(f *fixture, k *latchkey.Key, b latchkey.Budget, want int64, held *latchkey.Lease, unspent int64, at time.Time) latchkey.Lease {
		f.t.Helper()
		l, err := f.s.LeaseBudget(f.ctx, latchkey.LeaseRequest{KeyID: k.ID, Budget: b, Want: want, Min: 1, Held: held, Unspent: unspent, Now: at})
		wantCode(f.t, "LeaseBudget", err, "")
		return l
	}
	remaining := func(f *fixture, k *latchkey.Key) int64 {
		f.t.Helper()
		got, err := f.s.Key(f.ctx, k.WorkspaceID, k.ID)
		wantCode(f.t, "Key", err, "")
		if got.Credits == nil {
			f.t.Fatalf("Key: credits are nil, want set")
		}
		return got.Credits.Remaining
	}

	t.Run("LeaseAndSettle", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "metered", credits(100))
		b := k.Credits.Budget()
		l := lease(f, k, b, 10, nil, 0, now)
		if !l.Found || l.Granted != 10 || l.Left != 100 {
			t.Fatalf("first lease: got %+v, want found, 10 granted, 100 left", l)
		}
		// Reads count leased credits as unspent: an upper bound.
		if got := remaining(f, k); got != 100 {
			t.Fatalf("remaining with a lease out: got %d, want 100", got)
		}
		// 6 of 10 spent: 4 come back; at most an eighth of 94 is granted.
		l2 := lease(f, k, b, 50, &l, 4, now)
		if l2.Granted != 12 || l2.Left != 94 {
			t.Fatalf("second lease: got %+v, want 12 granted, 94 left", l2)
		}
		// Settling only (want 0) returns the unspent part and grants nothing.
		l3 := lease(f, k, b, 0, &l2, 12, now)
		if l3.Granted != 0 || l3.Left != 94 || remaining(f, k) != 94 {
			t.Fatalf("settle: got %+v, remaining %d; want nothing granted, 94 left", l3, remaining(f, k))
		}
		// A lease settled twice gives nothing back the second time.
		if l4 := lease(f, k, b, 0, &l2, 12, now); l4.Left != 94 {
			t.Fatalf("second settle of one lease: got %+v, want 94 left", l4)
		}
	})

	t.Run("NeverMoreThanThereIs", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "metered", credits(100))
		var wg sync.WaitGroup
		var mu sync.Mutex
		var total int64
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for {
					l, err := f.s.LeaseBudget(f.ctx, latchkey.LeaseRequest{KeyID: k.ID, Budget: k.Credits.Budget(), Want: 7, Min: 1, Now: now})
					if err != nil {
						t.Errorf("LeaseBudget: %v", err)
						return
					}
					if l.Granted == 0 {
						return
					}
					mu.Lock()
					total += l.Granted
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if total != 100 {
			t.Fatalf("8 concurrent leasers were granted %d credits in all, want exactly 100", total)
		}
		if l := lease(f, k, k.Credits.Budget(), 5, nil, 0, now); l.Granted != 0 || !l.Found {
			t.Fatalf("lease of a spent budget: got %+v, want found and nothing granted", l)
		}
	})

	t.Run("MinIsAllOrNothing", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "metered", credits(3))
		l, err := f.s.LeaseBudget(f.ctx, latchkey.LeaseRequest{KeyID: k.ID, Budget: k.Credits.Budget(), Want: 5, Min: 5, Now: now})
		wantCode(t, "LeaseBudget", err, "")
		if l.Granted != 0 || l.Left != 3 {
			t.Fatalf("lease of 5 from 3: got %+v, want nothing granted, 3 left", l)
		}
	})

	t.Run("RefillAtTheBoundaryVoidsOldLeases", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "daily", func(k *latchkey.Key) {
			k.Credits = &latchkey.Credits{Remaining: 5, RefilledAt: now,
				Refill: &latchkey.Refill{Interval: latchkey.RefillDaily, Amount: 50}}
		})
		b := k.Credits.Budget()
		l := lease(f, k, b, 5, nil, 0, now)
		if l.Granted != 1 { // an eighth of 5, rounded up
			t.Fatalf("lease: got %+v, want 1 granted", l)
		}
		midnight := time.Date(now.Year(), now.Month(), now.Day()+1, 0, 0, 0, 0, time.UTC)
		if l := lease(f, k, b, 0, nil, 0, midnight.Add(-time.Microsecond)); l.Left != 5 {
			t.Fatalf("just before midnight: got %+v, want 5 left", l)
		}
		// After midnight the budget is 50 again, and the old lease's
		// unspent credit does not top it up.
		l2 := lease(f, k, b, 1, &l, 1, midnight)
		if l2.Generation == l.Generation || l2.Left != 50 || l2.Granted != 1 {
			t.Fatalf("after midnight: got %+v, want a new generation, 1 granted, 50 left", l2)
		}
		if got := remaining(f, k); got != 50 {
			t.Fatalf("remaining after the refill: got %d, want 50", got)
		}
	})

	t.Run("EditVoidsLeases", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "metered", credits(800))
		l := lease(f, k, k.Credits.Budget(), 100, nil, 0, now)
		// A rename leaves the budget and its leases alone.
		_, err := f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.Name = "renamed"
			ev := f.event(ws.ID, latchkey.EventKeyUpdated, k.ID)
			return &ev, nil
		})
		wantCode(t, "UpdateKey", err, "")
		if got := remaining(f, k); got != 800 {
			t.Fatalf("remaining after a rename: got %d, want 800", got)
		}
		// Setting the credits voids the outstanding lease.
		_, err = f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.Credits = &latchkey.Credits{Remaining: 10, RefilledAt: now.Add(time.Second)}
			ev := f.event(ws.ID, latchkey.EventKeyUpdated, k.ID)
			return &ev, nil
		})
		wantCode(t, "UpdateKey", err, "")
		l2 := lease(f, k, k.Credits.Budget(), 0, &l, l.Granted, now.Add(2*time.Second))
		if l2.Left != 10 || l2.Generation == l.Generation {
			t.Fatalf("settling a lease cut before the edit: got %+v, want 10 left and a new generation", l2)
		}
		// Removing the credits makes the key unlimited.
		_, err = f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.Credits = nil
			ev := f.event(ws.ID, latchkey.EventKeyUpdated, k.ID)
			return &ev, nil
		})
		wantCode(t, "UpdateKey", err, "")
		if l := lease(f, k, latchkey.Budget{}, 1, nil, 0, now); l.Found {
			t.Fatalf("lease of removed credits: got %+v, want not found", l)
		}
	})

	t.Run("Windows", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		limit := latchkey.NamedLimit{Name: "minute", Limit: 10, Duration: latchkey.Duration(time.Minute)}
		k := f.key(ws.ID, "limited", func(k *latchkey.Key) { k.RateLimits = []latchkey.NamedLimit{limit} })
		b := limit.Budget()
		var total int64
		for {
			l := lease(f, k, b, 3, nil, 0, now.Add(10*time.Second))
			if l.Granted == 0 {
				break
			}
			total += l.Granted
		}
		if total != 10 {
			t.Fatalf("one window granted %d, want 10", total)
		}
		if l := lease(f, k, b, 3, nil, 0, now.Add(70*time.Second)); l.Granted != 2 || l.Left != 10 {
			t.Fatalf("next window: got %+v, want 2 granted of 10", l)
		}
		// Changing the limits starts the windows afresh.
		_, err := f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.RateLimits = []latchkey.NamedLimit{{Name: "minute", Limit: 20, Duration: latchkey.Duration(time.Minute)}}
			ev := f.event(ws.ID, latchkey.EventKeyUpdated, k.ID)
			return &ev, nil
		})
		wantCode(t, "UpdateKey", err, "")
		b.Amount = 20
		if l := lease(f, k, b, 100, nil, 0, now.Add(75*time.Second)); l.Granted != 3 || l.Left != 20 {
			t.Fatalf("after raising the limit: got %+v, want 3 granted of 20", l)
		}
	})

	t.Run("NoSuchKey", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		plain := f.key(ws.ID, "plain")
		for _, tt := range []struct {
			name string
			k    *latchkey.Key
			b    latchkey.Budget
		}{
			{"credits of an unlimited key", plain, latchkey.Budget{}},
			{"credits of an unknown key", &latchkey.Key{ID: "key_unknown"}, latchkey.Budget{}},
			{"window of an unknown key", &latchkey.Key{ID: "key_unknown"}, latchkey.Budget{Name: "x", Every: time.Second, Amount: 5}},
		} {
			if l := lease(f, tt.k, tt.b, 1, nil, 0, now); l.Found || l.Granted != 0 {
				t.Errorf("%s: got %+v, want not found", tt.name, l)
			}
		}
		k := f.key(ws.ID, "metered", credits(5))
		if err := f.s.DeleteKey(f.ctx, ws.ID, k.ID, f.event(ws.ID, latchkey.EventKeyDeleted, k.ID)); err != nil {
			t.Fatal(err)
		}
		if l := lease(f, k, k.Credits.Budget(), 1, nil, 0, now); l.Found {
			t.Fatalf("credits of a deleted key: got %+v, want not found", l)
		}
	})
}
