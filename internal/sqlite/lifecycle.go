package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

// ExpiringKeys lists the workspace's unrevoked keys expiring in
// (now, now+window] that have no notice for window and their expiry yet.
func (db *DB) ExpiringKeys(ctx context.Context, workspaceID string, now time.Time, window latchkey.Duration, limit int) ([]*latchkey.Key, error) {
	rows, err := db.read.QueryContext(ctx, keySelect+`WHERE k.workspace_id = ? AND k.revoked_at IS NULL
		AND k.expires_at > ? AND k.expires_at <= ?
		AND NOT EXISTS (SELECT 1 FROM key_notices n
			WHERE n.key_id = k.id AND n.window_ns = ? AND n.expires_at = k.expires_at)
		ORDER BY k.expires_at, k.id LIMIT ?`,
		workspaceID, micros(now), micros(now.Add(time.Duration(window))), int64(window), pageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: expiring keys: %w", err)
	}
	return scanKeys(rows)
}

// ExpiredKeys lists the workspace's unrevoked keys expired at or before
// now that have no window-0 notice for their expiry yet.
func (db *DB) ExpiredKeys(ctx context.Context, workspaceID string, now time.Time, limit int) ([]*latchkey.Key, error) {
	rows, err := db.read.QueryContext(ctx, keySelect+`WHERE k.workspace_id = ? AND k.revoked_at IS NULL
		AND k.expires_at <= ?
		AND NOT EXISTS (SELECT 1 FROM key_notices n
			WHERE n.key_id = k.id AND n.window_ns = 0 AND n.expires_at = k.expires_at)
		ORDER BY k.expires_at, k.id LIMIT ?`, workspaceID, micros(now), pageSize(limit))
	if err != nil {
		return nil, fmt.Errorf("sqlite: expired keys: %w", err)
	}
	return scanKeys(rows)
}

func scanKeys(rows *sql.Rows) ([]*latchkey.Key, error) {
	defer rows.Close()
	var list []*latchkey.Key
	for rows.Next() {
		k, err := scanKey(rows)
		if err != nil {
			return nil, fmt.Errorf("sqlite: scan key: %w", err)
		}
		list = append(list, k)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: keys: %w", err)
	}
	return list, nil
}

// RecordNotice records the notice, its mails and its event in one
// transaction; ECONFLICT if the notice exists, ENOTFOUND if the key does not.
func (db *DB) RecordNotice(ctx context.Context, n latchkey.Notice, mails []*latchkey.Mail, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO key_notices (key_id, window_ns, expires_at, workspace_id, noticed_at)
			VALUES (?, ?, ?, ?, ?)`, n.KeyID, int64(n.Window), micros(n.ExpiresAt), n.WorkspaceID, micros(n.At))
		switch {
		case isUnique(err, ""):
			return latchkey.Errorf(latchkey.ECONFLICT, "key %s was already noticed for %s", n.KeyID, n.Window)
		case isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "key not found")
		case err != nil:
			return fmt.Errorf("sqlite: record notice: %w", err)
		}
		for _, m := range mails {
			if err := insertMail(ctx, tx, m); err != nil {
				return err
			}
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = n.WorkspaceID
		}
		if err := insertEvent(ctx, tx, &ev); err != nil {
			return err
		}
		k, err := scanKey(tx.QueryRowContext(ctx, keySelect+`WHERE k.id = ?`, n.KeyID))
		if err != nil {
			return notFound(err, "key")
		}
		return enqueueWebhook(ctx, tx, &ev, k)
	})
}

// RecordNotices records the notices that still apply, each with its event
// and webhook, then the mails about those, in one transaction (the
// single writer serialises racing runners; the primary key of key_notices
// would stop them anyway).
func (db *DB) RecordNotices(ctx context.Context, notices []latchkey.Notice, event func(latchkey.Notice) latchkey.Event,
	mails func([]latchkey.Notice) []*latchkey.Mail) ([]latchkey.Notice, error) {
	var recorded []latchkey.Notice
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		recorded = nil
		for _, n := range notices {
			k, err := scanKey(tx.QueryRowContext(ctx, keySelect+`WHERE k.id = ? AND k.workspace_id = ?`, n.KeyID, n.WorkspaceID))
			if err != nil {
				if err = notFound(err, "key"); latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
					continue // deleted since it was listed
				}
				return err
			}
			if k.RevokedAt != nil || k.ExpiresAt == nil || !k.ExpiresAt.Equal(n.ExpiresAt) {
				continue
			}
			res, err := tx.ExecContext(ctx, `INSERT INTO key_notices (key_id, window_ns, expires_at, workspace_id, noticed_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, n.KeyID, int64(n.Window), micros(n.ExpiresAt), n.WorkspaceID, micros(n.At))
			if err != nil {
				return fmt.Errorf("sqlite: record notice: %w", err)
			}
			if c, err := res.RowsAffected(); err != nil || c == 0 {
				continue
			}
			ev := event(n)
			if ev.WorkspaceID == "" {
				ev.WorkspaceID = n.WorkspaceID
			}
			if err := insertEvent(ctx, tx, &ev); err != nil {
				return err
			}
			if err := enqueueWebhook(ctx, tx, &ev, k); err != nil {
				return err
			}
			recorded = append(recorded, n)
		}
		if len(recorded) == 0 || mails == nil {
			return nil
		}
		for _, m := range mails(recorded) {
			if err := insertMail(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return recorded, nil
}

// DeleteExpiredKeys deletes up to limit keys past their retention and
// records event(k) for each, in one transaction.
func (db *DB) DeleteExpiredKeys(ctx context.Context, workspaceID string, expiredBefore, revokedBefore time.Time, limit int,
	event func(*latchkey.Key) latchkey.Event) ([]*latchkey.Key, error) {
	var deleted []*latchkey.Key
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, keySelect+`WHERE k.workspace_id = ?
			AND ((k.revoked_at IS NULL AND k.expires_at <= ?) OR k.revoked_at <= ?)
			ORDER BY k.id LIMIT ?`, workspaceID, micros(expiredBefore), micros(revokedBefore), pageSize(limit))
		if err != nil {
			return fmt.Errorf("sqlite: expired keys: %w", err)
		}
		keys, err := scanKeys(rows)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.ExecContext(ctx, `DELETE FROM keys WHERE id = ?`, k.ID); err != nil {
				return fmt.Errorf("sqlite: delete key: %w", err)
			}
			ev := event(k)
			if ev.WorkspaceID == "" {
				ev.WorkspaceID = k.WorkspaceID
			}
			if err := insertEvent(ctx, tx, &ev); err != nil {
				return err
			}
			if err := enqueueWebhook(ctx, tx, &ev, k); err != nil {
				return err
			}
		}
		deleted = keys
		return nil
	})
	if err != nil {
		return nil, err
	}
	return deleted, nil
}
