// Package storeguard bounds every call to a latchkey.Store with a deadline
// and turns the store's failures into the codes callers answer with, so a
// database that hangs, refuses connections or runs out of disk gives a fast
// 503 instead of a hang or an opaque 500.
//
// A call that does not finish within its deadline, or fails because the
// database cannot be reached, returns latchkey.EUNAVAILABLE; a write the
// database refuses for lack of space or because it is read-only returns
// latchkey.ESTORAGE and makes Ready fail until a write succeeds again.
//
// The guard sits above the store: the store packages only say, through
// their Unavailable function, which of their errors mean what.
package storeguard

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/latchkey/latchkey"
)

// Defaults of Config.
const (
	DefaultTimeout       = 5 * time.Second
	DefaultLookupTimeout = time.Second
)

// Config configures a Store.
type Config struct {
	// Timeout bounds each call (DefaultTimeout when zero). A transaction
	// with its callback counts as one call.
	Timeout time.Duration
	// LookupTimeout bounds KeyByHash, the verify path's cold lookup
	// (DefaultLookupTimeout when zero): shorter, because the caller's own
	// request waits on it and a retry elsewhere beats a slow answer.
	LookupTimeout time.Duration
	// Classify is the store package's Unavailable function: which errors
	// mean the store cannot be reached (EUNAVAILABLE) or cannot take
	// writes (ESTORAGE). Nil classifies nothing but deadlines.
	Classify func(error) latchkey.Code
}

// Store wraps a latchkey.Store. Methods it does not override (added to
// the interface later) reach the wrapped store unguarded.
type Store struct {
	latchkey.Store
	timeout, lookup time.Duration
	classify        func(error) latchkey.Code
	// writeFailed holds the last write's storage error until a write
	// succeeds; nil while writes work.
	writeFailed atomic.Pointer[error]
}

var _ latchkey.Store = (*Store)(nil)

// New wraps s.
func New(s latchkey.Store, cfg Config) *Store {
	g := &Store{Store: s, timeout: cfg.Timeout, lookup: cfg.LookupTimeout, classify: cfg.Classify}
	if g.timeout <= 0 {
		g.timeout = DefaultTimeout
	}
	if g.lookup <= 0 {
		g.lookup = DefaultLookupTimeout
	}
	return g
}

// Ready reports why the store cannot serve, or nil: the last write failed
// for storage reasons (disk full, read-only) and none has succeeded since.
// Reads are probed separately by the readiness check's own store call.
func (g *Store) Ready() error {
	if p := g.writeFailed.Load(); p != nil {
		return fmt.Errorf("the store refuses writes: %w", *p)
	}
	return nil
}

// Unwrap returns the guarded store.
func (g *Store) Unwrap() latchkey.Store { return g.Store }

// errTimeout is the cause of the guard's own deadline, told apart from
// the caller's: a caller that went away is not an outage.
var errTimeout = errors.New("the store did not answer in time")

// guard runs f under the deadline d and translates its error.
func guard[T any](g *Store, ctx context.Context, d time.Duration, write bool, f func(context.Context) (T, error)) (T, error) {
	cctx, cancel := context.WithTimeoutCause(ctx, d, errTimeout)
	defer cancel()
	v, err := f(cctx)
	if err == nil {
		if write {
			g.writeFailed.Store(nil)
		}
		return v, nil
	}
	return v, g.translate(ctx, cctx, write, err)
}

// exec is guard for calls that return only an error.
func exec(g *Store, ctx context.Context, d time.Duration, write bool, f func(context.Context) error) error {
	_, err := guard(g, ctx, d, write, func(ctx context.Context) (struct{}, error) { return struct{}{}, f(ctx) })
	return err
}

func (g *Store) translate(parent, cctx context.Context, write bool, err error) error {
	var le *latchkey.Error
	if errors.As(err, &le) && le.Code != latchkey.EINTERNAL {
		// The store's or a callback's own answer (not found, conflict…).
		return err
	}
	code := latchkey.Code("")
	if g.classify != nil {
		code = g.classify(err)
	}
	if code == "" && parent.Err() == nil && context.Cause(cctx) == errTimeout {
		code = latchkey.EUNAVAILABLE
	}
	switch code {
	case latchkey.ESTORAGE:
		if write {
			g.writeFailed.Store(&err)
		}
		return fmt.Errorf("%w: %w", latchkey.Errorf(latchkey.ESTORAGE,
			"the store refuses writes (disk full or read-only database); retry once an operator has freed space"), err)
	case latchkey.EUNAVAILABLE:
		return fmt.Errorf("%w: %w", latchkey.Errorf(latchkey.EUNAVAILABLE,
			"the store does not answer; retry shortly"), err)
	}
	return err
}
