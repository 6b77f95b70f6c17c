package sqlstore

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/latchkey/latchkey"
)

// ExpiringKeys lists the workspace's unrevoked keys expiring in
// (now, now+window] that have no notice for window and their expiry yet.
// Keys created inside the window are left out: their expiry is no news
// (Key.CreatedInside), and listing them on every run would let a page of
// them hide the keys that do need a notice.
func (s *Store) ExpiringKeys(ctx context.Context, workspaceID string, now time.Time, window latchkey.Duration, limit int) ([]*latchkey.Key, error) {
	rows, err := s.read.Query(ctx, keySelect+`WHERE k.workspace_id = ? AND k.revoked_at IS NULL
		AND k.expires_at > ? AND k.expires_at <= ? AND `+s.db.Micros("k.expires_at", "k.created_at")+` > ?
		AND NOT EXISTS (SELECT 1 FROM key_notices n
			WHERE n.key_id = k.id AND n.window_ns = ? AND n.expires_at = k.expires_at)
		ORDER BY k.expires_at, k.id LIMIT ?`,
		workspaceID, now, now.Add(time.Duration(window)), time.Duration(window).Microseconds(), int64(window), pageSize(limit))
	list, err := collect(rows, err, scanKey)
	return list, s.wrap(err, "expiring keys")
}

// ExpiredKeys lists the workspace's unrevoked keys expired at or before
// now that have no window-0 notice for their expiry yet.
func (s *Store) ExpiredKeys(ctx context.Context, workspaceID string, now time.Time, limit int) ([]*latchkey.Key, error) {
	rows, err := s.read.Query(ctx, keySelect+`WHERE k.workspace_id = ? AND k.revoked_at IS NULL
		AND k.expires_at <= ?
		AND NOT EXISTS (SELECT 1 FROM key_notices n
			WHERE n.key_id = k.id AND n.window_ns = 0 AND n.expires_at = k.expires_at)
		ORDER BY k.expires_at, k.id LIMIT ?`, workspaceID, now, pageSize(limit))
	list, err := collect(rows, err, scanKey)
	return list, s.wrap(err, "expired keys")
}

// RecordNotice records the notice, its mails and its event in one
// transaction; ECONFLICT if the notice exists, ENOTFOUND if the key does not.
func (s *Store) RecordNotice(ctx context.Context, n latchkey.Notice, mails []*latchkey.Mail, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		_, err := tx.Exec(ctx, `INSERT INTO key_notices (key_id, window_ns, expires_at, workspace_id, noticed_at)
			VALUES (?, ?, ?, ?, ?)`, n.KeyID, int64(n.Window), n.ExpiresAt, n.WorkspaceID, n.At)
		switch {
		case s.isUnique(err, AnyConstraint):
			return latchkey.Errorf(latchkey.ECONFLICT, "key %s was already noticed for %s", n.KeyID, n.Window)
		case s.isForeignKey(err):
			return latchkey.Errorf(latchkey.ENOTFOUND, "key not found")
		case err != nil:
			return s.wrap(err, "record notice")
		}
		for _, m := range mails {
			if err := s.insertMail(ctx, tx, m); err != nil {
				return err
			}
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = n.WorkspaceID
		}
		if err := s.insertEvent(ctx, tx, &ev); err != nil {
			return err
		}
		k, err := scanKey(tx.QueryRow(ctx, keySelect+`WHERE k.id = ?`, n.KeyID))
		if err != nil {
			return s.notFound(err, "key")
		}
		return s.enqueueWebhook(ctx, tx, &ev, k)
	})
}

// RecordNotices records the notices that still apply, each with its event,
// one webhook per key (for its shortest window, naming the others), then
// the mails about those, in one transaction. Every key
// is locked first, so none can be deleted half-way and no key lock is
// awaited while the workspace's event chain is held; a notice another
// runner wrote first is skipped.
func (s *Store) RecordNotices(ctx context.Context, notices []latchkey.Notice, event func(latchkey.Notice) latchkey.Event,
	mails func([]latchkey.Notice) []*latchkey.Mail) ([]latchkey.Notice, error) {
	var recorded []latchkey.Notice
	err := s.inTx(ctx, func(tx Conn) error {
		recorded = nil
		type due struct {
			n latchkey.Notice
			k *latchkey.Key
		}
		var apply []due
		for _, n := range notices {
			k, err := scanKey(tx.QueryRow(ctx, keySelect+`WHERE k.id = ? AND k.workspace_id = ?`+s.lock("FOR KEY SHARE OF k"), n.KeyID, n.WorkspaceID))
			if err != nil {
				if err = s.notFound(err, "key"); latchkey.ErrorCode(err) == latchkey.ENOTFOUND {
					continue // deleted since it was listed
				}
				return err
			}
			if k.RevokedAt != nil || k.ExpiresAt == nil || !k.ExpiresAt.Equal(n.ExpiresAt) {
				continue
			}
			apply = append(apply, due{n, k})
		}
		// The notices written here, by key in the order listed: a key
		// that entered several windows at once gets one key.expiring
		// webhook, for the shortest window, naming every window it stands
		// for, as it gets one line in one digest.
		var order []string
		byKey := map[string][]due{}
		for _, d := range apply {
			n := d.n
			added, err := tx.Exec(ctx, `INSERT INTO key_notices (key_id, window_ns, expires_at, workspace_id, noticed_at)
				VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING`, n.KeyID, int64(n.Window), n.ExpiresAt, n.WorkspaceID, n.At)
			if err != nil {
				return s.wrap(err, "record notice")
			}
			if added == 0 {
				continue
			}
			recorded = append(recorded, n)
			if _, ok := byKey[n.KeyID]; !ok {
				order = append(order, n.KeyID)
			}
			byKey[n.KeyID] = append(byKey[n.KeyID], d)
		}
		for _, keyID := range order {
			ds := byKey[keyID]
			slices.SortStableFunc(ds, func(a, b due) int { return cmp.Compare(a.n.Window, b.n.Window) })
			windows := make([]string, len(ds))
			for i, d := range ds {
				windows[i] = d.n.Window.String()
			}
			for i, d := range ds {
				ev := event(d.n)
				if ev.WorkspaceID == "" {
					ev.WorkspaceID = d.n.WorkspaceID
				}
				if i == 0 && len(ds) > 1 {
					data := maps.Clone(ev.Data)
					if data == nil {
						data = map[string]any{}
					}
					data["windows"] = windows
					ev.Data = data
				}
				if err := s.insertEvent(ctx, tx, &ev); err != nil {
					return err
				}
				if i == 0 {
					if err := s.enqueueWebhook(ctx, tx, &ev, d.k); err != nil {
						return err
					}
				}
			}
		}
		if len(recorded) == 0 || mails == nil {
			return nil
		}
		for _, m := range mails(recorded) {
			if err := s.insertMail(ctx, tx, m); err != nil {
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
func (s *Store) DeleteExpiredKeys(ctx context.Context, workspaceID string, expiredBefore, revokedBefore time.Time, limit int,
	event func(*latchkey.Key) latchkey.Event) ([]*latchkey.Key, error) {
	var deleted []*latchkey.Key
	err := s.inTx(ctx, func(tx Conn) error {
		const due = `WHERE k.workspace_id = ? AND ((k.revoked_at IS NULL AND k.expires_at <= ?) OR k.revoked_at <= ?)
			ORDER BY k.id LIMIT ?`
		// Their usage stays, the log's entries folded first (see foldKeys).
		rows, err := tx.Query(ctx, `SELECT k.id FROM keys k `+due, workspaceID, expiredBefore, revokedBefore, pageSize(limit))
		ids, err := collect(rows, err, scanString)
		if err != nil {
			return s.wrap(err, "expired keys")
		}
		if err := s.foldKeys(ctx, tx, workspaceID, ids); err != nil {
			return err
		}
		rows, err = tx.Query(ctx, keySelect+due+s.lock("FOR UPDATE OF k SKIP LOCKED"), workspaceID, expiredBefore, revokedBefore, pageSize(limit))
		keys, err := collect(rows, err, scanKey)
		if err != nil {
			return s.wrap(err, "expired keys")
		}
		for _, k := range keys {
			if _, err := tx.Exec(ctx, `DELETE FROM keys WHERE id = ?`, k.ID); err != nil {
				return s.wrap(err, "delete key")
			}
			ev := event(k)
			if ev.WorkspaceID == "" {
				ev.WorkspaceID = k.WorkspaceID
			}
			if err := s.insertEvent(ctx, tx, &ev); err != nil {
				return err
			}
			if err := s.enqueueWebhook(ctx, tx, &ev, k); err != nil {
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
