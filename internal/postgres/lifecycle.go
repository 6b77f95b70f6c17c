package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

// ExpiringKeys lists the workspace's unrevoked keys expiring in
// (now, now+window] that have no notice for window and their expiry yet.
func (db *DB) ExpiringKeys(ctx context.Context, workspaceID string, now time.Time, window latchkey.Duration, limit int) ([]*latchkey.Key, error) {
	rows, err := db.pool.Query(ctx, keySelect+`WHERE k.workspace_id = $1 AND k.revoked_at IS NULL
		AND k.expires_at > $2 AND k.expires_at <= $3
		AND NOT EXISTS (SELECT 1 FROM key_notices n
			WHERE n.key_id = k.id AND n.window_ns = $4 AND n.expires_at = k.expires_at)
		ORDER BY k.expires_at, k.id LIMIT $5`,
		workspaceID, now, now.Add(time.Duration(window)), int64(window), pageSize(limit))
	if err != nil {
		return nil, wrap(err, "expiring keys")
	}
	return collectKeys(rows)
}

// ExpiredKeys lists the workspace's unrevoked keys expired at or before
// now that have no window-0 notice for their expiry yet.
func (db *DB) ExpiredKeys(ctx context.Context, workspaceID string, now time.Time, limit int) ([]*latchkey.Key, error) {
	rows, err := db.pool.Query(ctx, keySelect+`WHERE k.workspace_id = $1 AND k.revoked_at IS NULL
		AND k.expires_at <= $2
		AND NOT EXISTS (SELECT 1 FROM key_notices n
			WHERE n.key_id = k.id AND n.window_ns = 0 AND n.expires_at = k.expires_at)
		ORDER BY k.expires_at, k.id LIMIT $3`, workspaceID, now, pageSize(limit))
	if err != nil {
		return nil, wrap(err, "expired keys")
	}
	return collectKeys(rows)
}

func collectKeys(rows pgx.Rows) ([]*latchkey.Key, error) {
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.Key, error) { return scanKey(row) })
	return list, wrap(err, "keys")
}

// RecordNotice records the notice, its mails and its event in one
// transaction; ECONFLICT if the notice exists, ENOTFOUND if the key does not.
func (db *DB) RecordNotice(ctx context.Context, n latchkey.Notice, mails []*latchkey.Mail, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO key_notices (key_id, window_ns, expires_at, workspace_id, noticed_at)
			VALUES ($1, $2, $3, $4, $5)`, n.KeyID, int64(n.Window), n.ExpiresAt, n.WorkspaceID, n.At)
		switch {
		case isUnique(err, ""):
			return latchkey.Errorf(latchkey.ECONFLICT, "key %s was already noticed for %s", n.KeyID, n.Window)
		case isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "key not found")
		case err != nil:
			return wrap(err, "record notice")
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
		k, err := scanKey(tx.QueryRow(ctx, keySelect+`WHERE k.id = $1`, n.KeyID))
		if err != nil {
			return notFound(err, "key")
		}
		return enqueueWebhook(ctx, tx, &ev, k)
	})
}

// RecordNotices records the notices that still apply, each with its event
// and webhook, then the mails about those, in one transaction. Each key is
// locked (FOR KEY SHARE) while its notice is written, so it cannot be
// deleted half-way; a notice another runner wrote first is skipped.
func (db *DB) RecordNotices(ctx context.Context, notices []latchkey.Notice, event func(latchkey.Notice) latchkey.Event,
	mails func([]latchkey.Notice) []*latchkey.Mail) ([]latchkey.Notice, error) {
	var recorded []latchkey.Notice
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		recorded = nil
		for _, n := range notices {
			k, err := scanKey(tx.QueryRow(ctx, keySelect+`WHERE k.id = $1 AND k.workspace_id = $2 FOR KEY SHARE OF k`, n.KeyID, n.WorkspaceID))
			if err != nil {
				if err = notFound(err, "key"); latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
					continue // deleted since it was listed
				}
				return err
			}
			if k.RevokedAt != nil || k.ExpiresAt == nil || !k.ExpiresAt.Equal(n.ExpiresAt) {
				continue
			}
			tag, err := tx.Exec(ctx, `INSERT INTO key_notices (key_id, window_ns, expires_at, workspace_id, noticed_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING`, n.KeyID, int64(n.Window), n.ExpiresAt, n.WorkspaceID, n.At)
			if err != nil {
				return wrap(err, "record notice")
			}
			if tag.RowsAffected() == 0 {
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
// records event(k) for each, in one transaction. The rows are locked as
// they are selected, so a concurrent reset either waits for the delete or
// makes the key no longer match.
func (db *DB) DeleteExpiredKeys(ctx context.Context, workspaceID string, expiredBefore, revokedBefore time.Time, limit int,
	event func(*latchkey.Key) latchkey.Event) ([]*latchkey.Key, error) {
	var deleted []*latchkey.Key
	err := db.inTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, keySelect+`WHERE k.workspace_id = $1
			AND ((k.revoked_at IS NULL AND k.expires_at <= $2) OR k.revoked_at <= $3)
			ORDER BY k.id LIMIT $4 FOR UPDATE OF k SKIP LOCKED`, workspaceID, expiredBefore, revokedBefore, pageSize(limit))
		if err != nil {
			return wrap(err, "expired keys")
		}
		keys, err := collectKeys(rows)
		if err != nil {
			return err
		}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `DELETE FROM keys WHERE id = $1`, k.ID); err != nil {
				return wrap(err, "delete key")
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
