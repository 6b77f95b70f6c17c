package storetest

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testConcurrency(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("UpdateKey loses no update", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "contended", func(k *latchkey.Key) { k.Description = "" })
		const n = 20
		var wg sync.WaitGroup
		errs := make(chan error, 2*n)
		for range n {
			wg.Go(func() {
				_, err := f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
					k.Description += "x"
					return ptr(f.event(ws.ID, latchkey.EventKeyUpdated, k.ID)), nil
				})
				errs <- err
			})
		}
		// Readers run beside the writers: the read path must not block on them.
		for range n {
			wg.Go(func() {
				if _, err := f.s.KeyByHash(f.ctx, k.Hash); err != nil {
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			if err != nil {
				t.Fatalf("concurrent call: got %v, want nil", err)
			}
		}
		got, err := f.s.Key(f.ctx, ws.ID, k.ID)
		wantCode(t, "Key", err, "")
		if want := strings.Repeat("x", n); got.Description != want {
			t.Fatalf("Description: got %q (%d updates), want %q", got.Description, len(got.Description), want)
		}
		if evs := f.eventsFor(ws.ID, k.ID); len(evs) != n+1 {
			t.Fatalf("events: got %d, want %d", len(evs), n+1)
		}
	})
}

func testPanic(t *testing.T, open func(t *testing.T) latchkey.Store) {
	// A panic in fn (recovered by an HTTP middleware, say) must roll the
	// transaction back and leave the store usable for the next write.
	f := newFixture(t, open)
	ws, _ := f.workspace("A", "a@example.com")
	k := f.key(ws.ID, "panicky")
	func() {
		defer func() {
			if recover() == nil {
				t.Fatalf("UpdateKey: got no panic, want fn's panic")
			}
		}()
		f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.Description = "not stored"
			panic("boom")
		})
	}()
	// A bounded wait turns a store left stuck in the transaction into a
	// failure rather than a hung test.
	ctx, cancel := context.WithTimeout(f.ctx, 10*time.Second)
	defer cancel()
	got, err := f.s.UpdateKey(ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
		k.Name = "after the panic"
		return ptr(f.event(ws.ID, latchkey.EventKeyUpdated, k.ID)), nil
	})
	if err != nil || got.Name != "after the panic" || got.Description != k.Description {
		t.Fatalf("UpdateKey after a panic: got %v, %v, want the rename only", got, err)
	}
}
