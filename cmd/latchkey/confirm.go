package main

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// How often an instance on PostgreSQL confirms that its invalidation
// channel delivers, and how long it waits for each confirmation.
// Variables so that a test can change them.
var (
	confirmEvery   = 100 * time.Millisecond
	confirmTimeout = time.Second
)

// confirmChannel sends a fence on the invalidation channel every
// confirmEvery and, each time one comes back, tells the verifier that
// every invalidation committed before it was sent has been applied. That
// word is what lets a cached key answer for up to a minute without a store
// read (instead of cacheMaxAge): a LISTEN connection that breaks without
// noticing stops the word, and cached keys are then read again once
// cacheMaxAge old, as before.
//
// Fences overlap rather than wait for each other, so that a slow round
// trip (a busy database or machine) delays the word by its own latency
// only, not by a queue of fences behind it.
func (m *Main) confirmChannel(ctx context.Context) {
	tick := time.NewTicker(confirmEvery)
	defer tick.Stop()
	maxInflight := int32(max(1, confirmTimeout/confirmEvery))
	var inflight atomic.Int32
	var failing atomic.Bool
	var wg sync.WaitGroup
	defer wg.Wait()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		if inflight.Load() >= maxInflight {
			continue // nothing comes back: more fences would only pile up
		}
		inflight.Add(1)
		sent := time.Now()
		wg.Go(func() {
			defer inflight.Add(-1)
			fctx, cancel := context.WithTimeout(ctx, confirmTimeout)
			defer cancel()
			err := m.fence(fctx)
			switch {
			case err == nil:
				m.confirmTime.Observe(time.Since(sent).Seconds())
				m.verifier.Heard(sent)
				if failing.CompareAndSwap(true, false) {
					m.log.Info("the invalidation channel delivers again")
				}
			case ctx.Err() != nil:
			case failing.CompareAndSwap(false, true):
				m.log.Warn("the invalidation channel did not confirm delivery: cached keys are read from the store again every half second until it does", "err", err.Error())
			}
		})
	}
}
