package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

const dayFormat = "2006-01-02"

// AddUsage adds the counts of a batch to the daily counters and advances
// each key's last_used_at, all in one transaction so a flush is never half
// applied. Entries whose key no longer exists in their workspace (deleted
// since the verification) are skipped, not an error.
func (db *DB) AddUsage(ctx context.Context, batch []latchkey.Usage) error {
	if len(batch) == 0 {
		return nil
	}
	return db.inTx(ctx, func(tx *sql.Tx) error {
		// The WHERE EXISTS both skips deleted keys and keeps an entry from
		// counting against a key of another workspace.
		add, err := tx.PrepareContext(ctx, `INSERT INTO key_usage (workspace_id, key_id, day, environment, valid, denied)
			SELECT ?, ?, ?, ?, ?, ? WHERE EXISTS (SELECT 1 FROM keys WHERE id = ? AND workspace_id = ?)
			ON CONFLICT (key_id, day, environment)
			DO UPDATE SET valid = key_usage.valid + excluded.valid, denied = key_usage.denied + excluded.denied`)
		if err != nil {
			return fmt.Errorf("sqlite: add usage: %w", err)
		}
		defer add.Close()
		// Batches from several instances arrive in any order: last_used_at
		// only moves forward.
		used, err := tx.PrepareContext(ctx, `UPDATE keys SET last_used_at = ?
			WHERE id = ? AND workspace_id = ? AND (last_used_at IS NULL OR last_used_at < ?)`)
		if err != nil {
			return fmt.Errorf("sqlite: add usage: %w", err)
		}
		defer used.Close()
		for _, u := range batch {
			day := u.Day.UTC().Format(dayFormat)
			_, err := add.ExecContext(ctx, u.WorkspaceID, u.KeyID, day, string(u.Environment), u.Valid, u.Denied,
				u.KeyID, u.WorkspaceID)
			if err != nil {
				return fmt.Errorf("sqlite: add usage: %w", err)
			}
			if !u.LastUsedAt.IsZero() {
				at := micros(u.LastUsedAt)
				if _, err := used.ExecContext(ctx, at, u.KeyID, u.WorkspaceID, at); err != nil {
					return fmt.Errorf("sqlite: last used: %w", err)
				}
			}
		}
		return nil
	})
}

// Usage returns a key's daily counts for the UTC days from from to to,
// both included, oldest first (production before demo within a day). It
// never answers ENOTFOUND: counts outlive a deleted key for billing, and a
// key of another workspace simply has no counts here; callers that need a
// 404 for an unknown key look the key up first.
func (db *DB) Usage(ctx context.Context, workspaceID, keyID string, from, to time.Time) ([]latchkey.UsageDay, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT day, environment, valid, denied FROM key_usage
		WHERE workspace_id = ? AND key_id = ? AND day >= ? AND day <= ?
		ORDER BY day, environment DESC`,
		workspaceID, keyID, from.UTC().Format(dayFormat), to.UTC().Format(dayFormat))
	if err != nil {
		return nil, fmt.Errorf("sqlite: usage: %w", err)
	}
	defer rows.Close()
	days := []latchkey.UsageDay{}
	for rows.Next() {
		var d latchkey.UsageDay
		if err := rows.Scan(&d.Day, &d.Environment, &d.Valid, &d.Denied); err != nil {
			return nil, fmt.Errorf("sqlite: usage: %w", err)
		}
		days = append(days, d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: usage: %w", err)
	}
	return days, nil
}
