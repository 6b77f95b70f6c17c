package postgres

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

const dayFormat = "2006-01-02"

// AddUsage adds the counts of a batch to the daily counters and advances
// each key's last_used_at, in one transaction and one round trip, so a
// flush is never half applied. Entries whose key no longer exists in their
// workspace (deleted since the verification) are skipped, not an error.
func (db *DB) AddUsage(ctx context.Context, batch []latchkey.Usage) error {
	if len(batch) == 0 {
		return nil
	}
	// Instances flush concurrently. Rows are locked in one global order
	// (every counter by key, day and environment, then every key by id),
	// so two flushes wait for each other but never deadlock.
	entries := slices.Clone(batch)
	slices.SortFunc(entries, func(a, b latchkey.Usage) int {
		return cmp.Or(cmp.Compare(a.KeyID, b.KeyID), cmp.Compare(a.Day.UTC().Format(dayFormat), b.Day.UTC().Format(dayFormat)),
			cmp.Compare(a.Environment, b.Environment))
	})
	type use struct {
		workspaceID, keyID string
		at                 time.Time
	}
	var used []use // the latest use per key, in key order
	b := &pgx.Batch{}
	for _, u := range entries {
		if unmatchable(u.WorkspaceID, u.KeyID, string(u.Environment)) {
			continue // no such key
		}
		// The WHERE EXISTS both skips deleted keys and keeps an entry from
		// counting against a key of another workspace.
		b.Queue(`INSERT INTO key_usage (workspace_id, key_id, day, environment, valid, denied)
			SELECT $1, $2, $3::date, $4, $5, $6 WHERE EXISTS (SELECT 1 FROM keys WHERE id = $2 AND workspace_id = $1)
			ON CONFLICT (key_id, day, environment)
			DO UPDATE SET valid = key_usage.valid + excluded.valid, denied = key_usage.denied + excluded.denied`,
			u.WorkspaceID, u.KeyID, u.Day.UTC().Format(dayFormat), string(u.Environment), u.Valid, u.Denied)
		if u.LastUsedAt.IsZero() {
			continue
		}
		if n := len(used); n > 0 && used[n-1].keyID == u.KeyID && used[n-1].workspaceID == u.WorkspaceID {
			if u.LastUsedAt.After(used[n-1].at) {
				used[n-1].at = u.LastUsedAt
			}
			continue
		}
		used = append(used, use{u.WorkspaceID, u.KeyID, u.LastUsedAt})
	}
	for _, u := range used {
		// Batches from several instances arrive in any order: last_used_at
		// only moves forward.
		b.Queue(`UPDATE keys SET last_used_at = $1
			WHERE id = $2 AND workspace_id = $3 AND (last_used_at IS NULL OR last_used_at < $1)`,
			u.at, u.keyID, u.workspaceID)
	}
	if b.Len() == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx pgx.Tx) error {
		return wrap(tx.SendBatch(ctx, b).Close(), "add usage")
	})
}

// Usage returns a key's daily counts for the UTC days from from to to,
// both included, oldest first (production before demo within a day). It
// never answers ENOTFOUND: counts outlive a deleted key for billing, and a
// key of another workspace simply has no counts here.
func (db *DB) Usage(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]latchkey.UsageDay, error) {
	if unmatchable(workspaceID, keyID) {
		return []latchkey.UsageDay{}, nil
	}
	rows, err := db.pool.Query(ctx, `SELECT day, environment, valid, denied FROM key_usage
		WHERE workspace_id = $1 AND key_id = $2 AND day >= $3::date AND day <= $4::date
		ORDER BY day, environment DESC`,
		workspaceID, keyID, from.UTC().Format(dayFormat), to.UTC().Format(dayFormat))
	if err != nil {
		return nil, wrap(err, "usage")
	}
	days, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (latchkey.UsageDay, error) {
		var d latchkey.UsageDay
		var day time.Time
		err := row.Scan(&day, &d.Environment, &d.Valid, &d.Denied)
		d.Day = day.Format(dayFormat)
		return d, err
	})
	if err != nil {
		return nil, wrap(err, "usage")
	}
	return days, nil
}
