// Package jobs runs latchkey's background lifecycle work: expiry notices,
// the key.expired record of keys whose expiry passed, deletion of keys
// past delete_after_expiry, and deletion of revoked keys past
// revoked_retention (SPEC §1, §5). The store enqueues each one's webhook
// with its event; internal/webhook delivers them.
//
// It exists so that a workspace's expiration policy holds without anyone
// acting: the store records each notice together with its mails and event,
// so a tick that crashes half-way is simply repeated by the next one, and
// never sends a notice twice. With several instances on one PostgreSQL
// database, each tick runs under an advisory lock, so only one instance
// does the work at a time.
package jobs

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// Store is what the jobs read and write.
type Store interface {
	Workspaces(ctx context.Context) ([]*latchkey.Workspace, error)
	Members(ctx context.Context, workspaceID string) ([]*latchkey.Member, error)
	latchkey.LifecycleStore
}

// Locker takes a lock shared by every instance (internal/postgres.DB).
type Locker interface {
	TryAdvisoryLock(ctx context.Context, key int64) (release func(), ok bool, err error)
}

// Invalidator forgets a deleted key in the verify cache.
type Invalidator interface {
	InvalidateKey(keyID string)
}

// LockKey is the advisory lock the ticks take ("lkjobs" in ASCII); goose
// uses another.
const LockKey int64 = 0x6c6b6a6f6273

// batch is how many keys one transaction handles, so a backlog never holds
// the (SQLite: single) writer for long.
const batch = 100

// Config configures a Runner.
type Config struct {
	Store Store
	// Locker is nil where one process owns the store (SQLite).
	Locker Locker
	// Invalidator may be nil (nothing caches).
	Invalidator Invalidator
	// Interval between ticks; one minute when zero.
	Interval time.Duration
	// BaseURL is the console's address, for the links in mails.
	BaseURL string
	Now     func() time.Time
	Logger  *slog.Logger
	// Registerer receives the job metrics; none are kept when nil.
	Registerer prometheus.Registerer
}

// Runner runs the lifecycle jobs on every tick.
type Runner struct {
	cfg     Config
	ids     *id.Generator
	metrics *metrics
}

// New returns a Runner; Run starts it.
func New(cfg Config) *Runner {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Interval <= 0 {
		cfg.Interval = time.Minute
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Runner{cfg: cfg, ids: id.NewGenerator(cfg.Now, nil), metrics: newMetrics(cfg.Registerer)}
}

// Run ticks until ctx is cancelled, starting with one tick at once. A
// failed tick is logged and retried on the next one.
func (r *Runner) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Interval)
	defer t.Stop()
	for {
		if err := r.RunOnce(ctx); err != nil && ctx.Err() == nil {
			r.cfg.Logger.Error("lifecycle jobs failed", "err", err.Error())
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce runs one tick: notices, then deletions. On a shared database it
// does nothing when another instance holds the lock.
func (r *Runner) RunOnce(ctx context.Context) error {
	if r.cfg.Locker != nil {
		release, ok, err := r.cfg.Locker.TryAdvisoryLock(ctx, LockKey)
		if err != nil {
			for _, j := range jobNames {
				r.metrics.ran(j, err)
			}
			return err
		}
		if !ok {
			r.metrics.skipped()
			return nil
		}
		defer release()
	}
	wss, err := r.cfg.Store.Workspaces(ctx)
	if err != nil {
		for _, j := range jobNames {
			r.metrics.ran(j, err)
		}
		return err
	}
	// Each job's outcome over every workspace: one failure marks the run
	// failed, the other workspaces are still served.
	jobErrs := map[string][]error{}
	for _, ws := range wss {
		jobErrs[jobNotices] = appendErr(jobErrs[jobNotices], r.notices(ctx, ws))
		jobErrs[jobExpired] = appendErr(jobErrs[jobExpired], r.expired(ctx, ws))
		jobErrs[jobDeletions] = appendErr(jobErrs[jobDeletions], r.deletions(ctx, ws))
		if ctx.Err() != nil {
			break
		}
	}
	var errs []error
	for _, j := range jobNames {
		err := errors.Join(jobErrs[j]...)
		if err == nil && ctx.Err() != nil {
			err = ctx.Err() // cut short: not a success
		}
		r.metrics.ran(j, err)
		errs = append(errs, jobErrs[j]...)
	}
	return errors.Join(errs...)
}

func appendErr(errs []error, err error) []error {
	if err != nil {
		return append(errs, err)
	}
	return errs
}

// deletions removes the workspace's keys past their retention, in batches.
func (r *Runner) deletions(ctx context.Context, ws *latchkey.Workspace) error {
	p := ws.Settings.Expiration
	now := r.cfg.Now()
	expiredBefore := now.Add(-time.Duration(p.DeleteAfterExpiry))
	revokedBefore := now.Add(-time.Duration(p.RevokedRetention))
	event := func(k *latchkey.Key) latchkey.Event {
		reason, data := "expired", map[string]any{"name": k.Name}
		if k.RevokedAt != nil {
			reason = "revoked_retention"
		}
		data["reason"] = reason
		return latchkey.Event{ID: r.ids.New(id.Event), WorkspaceID: ws.ID, At: now,
			Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventKeyDeleted, Target: k.ID, Data: data}
	}
	for {
		deleted, err := r.cfg.Store.DeleteExpiredKeys(ctx, ws.ID, expiredBefore, revokedBefore, batch, event)
		if err != nil {
			return err
		}
		for _, k := range deleted {
			if r.cfg.Invalidator != nil {
				r.cfg.Invalidator.InvalidateKey(k.ID)
			}
			r.cfg.Logger.Info("deleted a key", "workspace_id", ws.ID, "key_id", k.ID, "reason", event(k).Data["reason"])
		}
		if len(deleted) < batch {
			return nil
		}
	}
}
