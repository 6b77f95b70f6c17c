package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"reflect"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

// creditsRow is the credits row of key_budgets as keySelect reads it
// (LEFT JOIN: every field NULL when the key is unlimited).
type creditsRow struct {
	remaining *int64
	since     *time.Time
	interval  *string
	amount    *int64
}

func (r creditsRow) credits() *latchkey.Credits {
	if r.remaining == nil || r.since == nil {
		return nil
	}
	c := &latchkey.Credits{Remaining: *r.remaining, RefilledAt: r.since.UTC()}
	if r.interval != nil && *r.interval != "" && r.amount != nil {
		c.Refill = &latchkey.Refill{Interval: latchkey.RefillInterval(*r.interval), Amount: *r.amount}
	}
	return c
}

// writeBudgets brings a key's budget rows in line with k after a create
// (old nil) or an update. Credits set again (a new RefilledAt, amount or
// rule) reset the row and void every outstanding lease; the windows of
// named limits start afresh when the limits change. Unchanged budgets are
// left alone, so renaming a key does not touch what instances hold.
func (s *Store) writeBudgets(ctx context.Context, tx Conn, old, k *latchkey.Key) error {
	var was *latchkey.Credits
	if old != nil {
		was = old.Credits
		if !slices.Equal(old.RateLimits, k.RateLimits) {
			if _, err := tx.Exec(ctx, `DELETE FROM key_budgets WHERE key_id = ? AND name <> ''`, k.ID); err != nil {
				return s.wrap(err, "reset rate limit windows")
			}
		}
	}
	c := k.Credits
	switch {
	case c == nil && was == nil:
		return nil
	case c != nil && was != nil && was.Remaining == c.Remaining && was.RefilledAt.Equal(c.RefilledAt) && reflect.DeepEqual(was.Refill, c.Refill):
		return nil
	}
	// The credits change: an UPDATE of keys, so that every instance drops
	// its cached key and voids its leases of the old credits.
	if old != nil {
		if _, err := tx.Exec(ctx, `UPDATE keys SET credits_version = credits_version + 1 WHERE id = ?`, k.ID); err != nil {
			return s.wrap(err, "set credits")
		}
	}
	if c == nil {
		_, err := tx.Exec(ctx, `DELETE FROM key_budgets WHERE key_id = ? AND name = ''`, k.ID)
		return s.wrap(err, "remove credits")
	}
	since := c.RefilledAt.UTC().Truncate(time.Microsecond)
	if since.IsZero() {
		return latchkey.Errorf(latchkey.EINTERNAL, "credits of key %s have no refilled_at", k.ID)
	}
	var interval string
	var amount int64
	if c.Refill != nil {
		interval, amount = string(c.Refill.Interval), c.Refill.Amount
	}
	// The generation only moves forward, also across a removal and a
	// re-creation of the row: it starts from the time in microseconds.
	_, err := tx.Exec(ctx, `INSERT INTO key_budgets (key_id, name, remaining, leased, period_start, generation, refill_interval, refill_amount)
		VALUES (?1, '', ?2, 0, ?3, ?4, ?5, ?6)
		ON CONFLICT (key_id, name) DO UPDATE SET remaining = ?2, leased = 0, period_start = ?3,
			generation = CASE WHEN key_budgets.generation >= ?4 THEN key_budgets.generation + 1 ELSE ?4 END,
			refill_interval = ?5, refill_amount = ?6`,
		k.ID, c.Remaining, since, time.Now().UnixMicro(), interval, amount)
	return s.wrap(err, "set credits")
}

// LeaseBudget grants a block of a key's budget and settles the block the
// caller held before, in one transaction holding the budget's row lock:
// two instances can never be granted the same unit.
//
// A refill or a new window is applied here, when the budget is next asked
// for after its boundary: the row is reset to the budget's amount with a
// new generation, which voids every lease cut before it.
func (s *Store) LeaseBudget(ctx context.Context, r latchkey.LeaseRequest) (latchkey.Lease, error) {
	var out latchkey.Lease
	b := r.Budget
	now := r.Now.UTC()
	start := b.PeriodStart(now).Truncate(time.Microsecond)
	err := s.inTx(ctx, func(tx Conn) error {
		var (
			remaining, leased, gen int64
			since                  time.Time
			err                    error
		)
		// Credits exist only where set; a settle (Want 0) never makes a
		// window's row.
		if b.Name == latchkey.CreditsBudget || r.Want <= 0 {
			err = tx.QueryRow(ctx, `SELECT remaining, leased, period_start, generation FROM key_budgets
				WHERE key_id = ? AND name = ?`+s.lock("FOR UPDATE"), r.KeyID, b.Name).Scan(&remaining, &leased, &since, &gen)
		} else {
			// A window's row is made on first use. The no-op update
			// takes the row lock where a plain insert of an existing
			// row would not.
			// An unknown key inserts nothing and returns no row.
			err = tx.QueryRow(ctx, `INSERT INTO key_budgets (key_id, name, remaining, leased, period_start, generation)
				SELECT id, ?, ?, 0, ?, ? FROM keys WHERE id = ?
				ON CONFLICT (key_id, name) DO UPDATE SET leased = key_budgets.leased
				RETURNING remaining, leased, period_start, generation`,
				b.Name, b.Amount, start, now.UnixMicro(), r.KeyID).Scan(&remaining, &leased, &since, &gen)
		}
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		}
		if err != nil {
			return s.wrap(err, "lease budget")
		}
		out.Found = true
		if b.Refills() && start.After(since) {
			remaining, leased, since = b.Amount, 0, start
			gen++
		}
		// leased covers every unsettled lease of this generation; one
		// that does not fit in it was settled already.
		if h := r.Held; h != nil && h.Found && h.Generation == gen && h.Period.Equal(since) && leased >= h.Granted {
			leased -= h.Granted
			remaining += min(max(r.Unspent, 0), h.Granted)
		}
		out.Granted = grant(remaining, r.Want, r.Min)
		remaining -= out.Granted
		leased += out.Granted
		out.Generation, out.Period, out.Left = gen, since, remaining+leased
		_, err = tx.Exec(ctx, `UPDATE key_budgets SET remaining = ?, leased = ?, period_start = ?, generation = ?
			WHERE key_id = ? AND name = ?`, remaining, leased, since, gen, r.KeyID, b.Name)
		return s.wrap(err, "lease budget")
	})
	return out, err
}

// grant sizes a lease: what was wanted, but at most an eighth of what is
// left (rounded up, and never below min), so that one busy instance
// leaves some for the others and a nearly spent budget goes out one unit
// at a time. Nothing is granted when less than min is left: a
// verification costing min cannot be served from a smaller block.
func grant(left, want, least int64) int64 {
	if want <= 0 || left < least || left <= 0 {
		return 0
	}
	share := max((left+7)/8, least, 1)
	return min(want, share, left)
}
