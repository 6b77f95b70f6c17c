package main

import (
	"context"
	"time"

	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/storeguard"
	"github.com/spf13/pflag"
)

// FailureConfig bounds how latchkey fails when its store does.
type FailureConfig struct {
	// StoreTimeout bounds each management, console and SCIM store call
	// (storeguard.DefaultTimeout when zero).
	StoreTimeout time.Duration
	// VerifyStoreTimeout bounds verify's cold key lookup
	// (storeguard.DefaultLookupTimeout when zero).
	VerifyStoreTimeout time.Duration
	// ServeStaleOnOutage keeps accepting keys the store answered for
	// within this long while it cannot be reached (0: off).
	ServeStaleOnOutage time.Duration
}

func (fc *FailureConfig) register(f *pflag.FlagSet) {
	f.DurationVar(&fc.StoreTimeout, "store-timeout", storeguard.DefaultTimeout,
		"longest wait for one store call of the management API, console and SCIM; past it the call answers 503 unavailable")
	f.DurationVar(&fc.VerifyStoreTimeout, "verify-store-timeout", storeguard.DefaultLookupTimeout,
		"longest wait for verify's store lookup of a key not in the cache; past it verify answers 503 (or serves stale, see --serve-stale-on-outage)")
	f.DurationVar(&fc.ServeStaleOnOutage, "serve-stale-on-outage", 0,
		"while the store cannot be reached, keep accepting keys the store confirmed within this duration, marked X-Latchkey-Stale: 1 (0: off; a revocation the instance cannot read may go unnoticed this long)")
	fromEnv(f, "store-timeout", "verify-store-timeout", "serve-stale-on-outage")
}

// guardStore bounds every call to st with the configured deadlines and
// classifies its failures with the store package's own error codes.
func guardStore(st opened, fc FailureConfig) *storeguard.Store {
	classify := sqlite.Unavailable
	if st.pg != nil {
		classify = postgres.Unavailable
	}
	return storeguard.New(st.Store, storeguard.Config{
		Timeout: fc.StoreTimeout, LookupTimeout: fc.VerifyStoreTimeout, Classify: classify,
	})
}

// readiness is /readyz's check: the store answers a read, and its last
// write did not fail for lack of space or a read-only database.
func readiness(g *storeguard.Store) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		if err := g.Ready(); err != nil {
			return err
		}
		_, err := g.Initialized(ctx)
		return err
	}
}
