package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

// RecordLeak records a leaked secret once and, in the same transaction,
// revokes its key (by the normal key update, so that PostgreSQL's trigger
// tells every instance), records the events with their webhooks and
// enqueues the mails. The insert comes first and does nothing on a hash
// already recorded: of two reports racing on several instances one
// inserts, the other finds the row and writes nothing.
func (s *Store) RecordLeak(ctx context.Context, l latchkey.Leak, revokedBy string, events func(*latchkey.Key) []latchkey.Event, mails func(*latchkey.Key) []*latchkey.Mail) (*latchkey.Key, bool, error) {
	if l.Action != latchkey.LeakRevoked && l.Action != latchkey.LeakNotified {
		return nil, false, fmt.Errorf("record leak: unknown action %q", l.Action)
	}
	var out *latchkey.Key
	recorded := false
	err := s.inTx(ctx, func(tx Conn) error {
		load := func(lock string) (*latchkey.Key, error) {
			k, err := scanKey(tx.QueryRow(ctx, keySelect+`WHERE k.id = ? AND k.workspace_id = ?`+lock, l.KeyID, l.WorkspaceID))
			if err != nil {
				return nil, s.notFound(err, "key")
			}
			return k, nil
		}
		k, err := load(s.lock("FOR NO KEY UPDATE OF k"))
		if err != nil {
			return err
		}
		if k.Hash != l.Hash && (k.PreviousHash == nil || *k.PreviousHash != l.Hash) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "key not found")
		}
		n, err := tx.Exec(ctx, `INSERT INTO key_leaks (hash, workspace_id, key_id, token_type, url, source,
			reporter, action, reported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (hash) DO NOTHING`,
			l.Hash[:], l.WorkspaceID, l.KeyID, l.TokenType, l.URL, l.Source, l.Reporter, l.Action, l.ReportedAt)
		if err != nil {
			return s.wrap(err, "record leak")
		}
		if n == 0 {
			return nil // reported before: acted on then
		}
		if l.Action == latchkey.LeakRevoked && k.RevokedAt == nil {
			at := l.ReportedAt
			if _, err := tx.Exec(ctx, `UPDATE keys SET revoked_at = ?, revoked_by = ? WHERE id = ? AND workspace_id = ?`,
				&at, revokedBy, l.KeyID, l.WorkspaceID); err != nil {
				return s.wrap(err, "revoke leaked key")
			}
		}
		if k, err = load(""); err != nil {
			return err
		}
		for _, ev := range events(k) {
			if ev.WorkspaceID == "" {
				ev.WorkspaceID = l.WorkspaceID
			}
			if err := s.insertEvent(ctx, tx, &ev); err != nil {
				return err
			}
			if err := s.enqueueWebhook(ctx, tx, &ev, k); err != nil {
				return err
			}
		}
		for _, m := range mails(k) {
			if err := s.insertMail(ctx, tx, m); err != nil {
				return err
			}
		}
		out, recorded = k, true
		return nil
	})
	if err != nil {
		return nil, false, err
	}
	return out, recorded, nil
}

// Leaks lists the leaks recorded for a key of the workspace, oldest first.
func (s *Store) Leaks(ctx context.Context, workspaceID, keyID string) ([]*latchkey.Leak, error) {
	rows, err := s.read.Query(ctx, `SELECT hash, workspace_id, key_id, token_type, url, source, reporter, action,
		reported_at FROM key_leaks WHERE workspace_id = ? AND key_id = ? ORDER BY reported_at, hash`, workspaceID, keyID)
	list, err := collect(rows, err, func(row Row) (*latchkey.Leak, error) {
		var l latchkey.Leak
		var hash []byte
		var at time.Time
		if err := row.Scan(&hash, &l.WorkspaceID, &l.KeyID, &l.TokenType, &l.URL, &l.Source, &l.Reporter, &l.Action, &at); err != nil {
			return nil, err
		}
		if len(hash) != 32 {
			return nil, fmt.Errorf("leak of key %s has a malformed hash", l.KeyID)
		}
		l.Hash, l.ReportedAt = [32]byte(hash), at
		return &l, nil
	})
	return list, s.wrap(err, "leaks")
}
