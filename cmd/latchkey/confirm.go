package main

import (
	"context"
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
// confirmEvery and, each time it comes back, tells the verifier that every
// invalidation committed before it was sent has been applied. That word
// is what lets a cached key answer for up to a minute without a store read
// (instead of cacheMaxAge): a LISTEN connection that breaks without
// noticing stops the word, and cached keys are then read again once
// cacheMaxAge old, as before.
func (m *Main) confirmChannel(ctx context.Context) {
	tick := time.NewTicker(confirmEvery)
	defer tick.Stop()
	failing := false
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		sent := time.Now()
		fctx, cancel := context.WithTimeout(ctx, confirmTimeout)
		err := m.fence(fctx)
		cancel()
		switch {
		case err == nil:
			m.verifier.Heard(sent)
			if failing {
				m.log.Info("the invalidation channel delivers again")
				failing = false
			}
		case ctx.Err() != nil:
			return
		case !failing:
			m.log.Warn("the invalidation channel did not confirm delivery: cached keys are read from the store again every half second until it does", "err", err.Error())
			failing = true
		}
	}
}
