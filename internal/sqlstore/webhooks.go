package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/latchkey/latchkey"
)

const webhookColumns = `id, workspace_id, key_id, url, type, payload, created_at, delivered_at,
	attempts, last_error, next_attempt_at`

// enqueueWebhook writes the delivery that ev about k calls for, if any, in
// the transaction of ev: a change and its webhook commit together.
func (s *Store) enqueueWebhook(ctx context.Context, tx Conn, ev *latchkey.Event, k *latchkey.Key) error {
	d, err := latchkey.NewWebhookDelivery(*ev, k)
	if err != nil || d == nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, workspace_id, key_id, url, type, payload,
		created_at, attempts, last_error, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, '', ?)`,
		d.ID, d.WorkspaceID, d.KeyID, d.URL, d.Type, string(d.Payload), d.CreatedAt, *d.NextAttemptAt)
	return s.wrap(err, "enqueue webhook")
}

func scanWebhook(row Row) (*latchkey.WebhookDelivery, error) {
	var d latchkey.WebhookDelivery
	var payload []byte
	if err := row.Scan(&d.ID, &d.WorkspaceID, &d.KeyID, &d.URL, &d.Type, &payload, &d.CreatedAt, &d.DeliveredAt,
		&d.Attempts, &d.LastError, &d.NextAttemptAt); err != nil {
		return nil, err
	}
	d.Payload = payload
	return &d, nil
}

// WebhookDeliveries lists a workspace's deliveries, newest first.
func (s *Store) WebhookDeliveries(ctx context.Context, workspaceID string, limit int, cursor string) ([]*latchkey.WebhookDelivery, string, error) {
	after := ""
	if cursor != "" {
		var err error
		if after, err = decodeCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	n := pageSize(limit)
	rows, err := s.read.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_deliveries
		WHERE workspace_id = ?1 AND (?2 = '' OR id < ?2) ORDER BY id DESC LIMIT ?3`, workspaceID, after, n+1)
	list, err := collect(rows, err, scanWebhook)
	if err != nil {
		return nil, "", s.wrap(err, "webhooks")
	}
	if len(list) > n {
		list = list[:n]
		return list, encodeCursor(list[n-1].ID), nil
	}
	return list, "", nil
}

// WebhookAttempts lists a delivery's attempts, oldest first.
func (s *Store) WebhookAttempts(ctx context.Context, deliveryID string) ([]*latchkey.WebhookAttempt, error) {
	rows, err := s.read.Query(ctx, `SELECT delivery_id, at, status_code, error, duration_ns
		FROM webhook_attempts WHERE delivery_id = ? ORDER BY at`, deliveryID)
	list, err := collect(rows, err, func(row Row) (*latchkey.WebhookAttempt, error) {
		var a latchkey.WebhookAttempt
		var dur int64
		if err := row.Scan(&a.DeliveryID, &a.At, &a.StatusCode, &a.Error, &dur); err != nil {
			return nil, err
		}
		a.Duration = time.Duration(dur)
		return &a, nil
	})
	return list, s.wrap(err, "webhook attempts")
}

// ClaimWebhooks returns the undelivered deliveries due at now and
// postpones them by lease; SKIP LOCKED lets several instances claim side by side.
func (s *Store) ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.WebhookDelivery, error) {
	until := now.Add(lease).UTC().Truncate(time.Microsecond)
	var list []*latchkey.WebhookDelivery
	err := s.inTx(ctx, func(tx Conn) error {
		rows, err := tx.Query(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id IN (
			SELECT id FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?
			AND delivered_at IS NULL ORDER BY next_attempt_at, id LIMIT ?`+s.lock("FOR UPDATE SKIP LOCKED")+`)
			RETURNING `+webhookColumns, until, now, pageSize(limit))
		list, err = collect(rows, err, scanWebhook)
		return err
	})
	if err != nil {
		return nil, s.wrap(err, "claim webhooks")
	}
	return list, nil
}

// RecordWebhookAttempt logs a and updates its delivery in one transaction.
func (s *Store) RecordWebhookAttempt(ctx context.Context, a latchkey.WebhookAttempt, delivered bool, retryAt *time.Time) error {
	return s.inTx(ctx, func(tx Conn) error {
		var deliveredAt *time.Time
		if delivered {
			deliveredAt, retryAt = &a.At, nil
		}
		n, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?,
			delivered_at = ?, next_attempt_at = ? WHERE id = ?`, a.Error, deliveredAt, retryAt, a.DeliveryID)
		if err != nil {
			return s.wrap(err, "record webhook attempt")
		}
		if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "webhook delivery %s not found", a.DeliveryID)
		}
		_, err = tx.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ns)
			VALUES (?, ?, ?, ?, ?)`, a.DeliveryID, a.At, a.StatusCode, a.Error, int64(a.Duration))
		return s.wrap(err, "record webhook attempt")
	})
}

// WebhookSecret returns the workspace's signing secret, storing fresh
// first when it has none; ENOTFOUND if the workspace does not exist.
func (s *Store) WebhookSecret(ctx context.Context, workspaceID, fresh string) (string, error) {
	var secret string
	err := s.read.QueryRow(ctx, `SELECT secret FROM webhook_secrets WHERE workspace_id = ?`, workspaceID).Scan(&secret)
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", s.wrap(err, "webhook secret")
	}
	err = s.inTx(ctx, func(tx Conn) error {
		// Of two instances storing a first secret at once, the first
		// wins and both answer with its secret.
		_, err := tx.Exec(ctx, `INSERT INTO webhook_secrets (workspace_id, secret, created_at) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id) DO NOTHING`, workspaceID, fresh, time.Now())
		if s.isForeignKey(err) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		if err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT secret FROM webhook_secrets WHERE workspace_id = ?`, workspaceID).Scan(&secret)
	})
	return secret, s.wrap(err, "webhook secret")
}

// WebhookSecrets returns the workspace's current secret, stored from fresh
// first when it has none, and the previous one while a rotation keeps it.
func (s *Store) WebhookSecrets(ctx context.Context, workspaceID, fresh string) (*latchkey.WebhookSecrets, error) {
	if _, err := s.WebhookSecret(ctx, workspaceID, fresh); err != nil {
		return nil, err
	}
	var ws latchkey.WebhookSecrets
	err := s.read.QueryRow(ctx, `SELECT secret, previous_secret, previous_until FROM webhook_secrets
		WHERE workspace_id = ?`, workspaceID).Scan(&ws.Current, &ws.Previous, &ws.PreviousUntil)
	if err != nil {
		return nil, s.notFound(err, "workspace")
	}
	if ws.Previous == "" {
		ws.PreviousUntil = nil
	}
	return &ws, nil
}

// SetWebhookSecret replaces the workspace's signing secret, keeping the
// one it replaces until keepPreviousUntil, and records ev.
func (s *Store) SetWebhookSecret(ctx context.Context, workspaceID, secret string, keepPreviousUntil time.Time, ev latchkey.Event) error {
	return s.inTx(ctx, func(tx Conn) error {
		var until *time.Time
		if keepPreviousUntil.After(ev.At) {
			until = &keepPreviousUntil
		}
		// The row is created with no previous secret, or updated so that
		// the secret replaced becomes the previous one (none without an
		// overlap); excluded.previous_until carries the overlap's end.
		_, err := tx.Exec(ctx, `INSERT INTO webhook_secrets (workspace_id, secret, created_at, previous_secret, previous_until)
			VALUES (?1, ?2, ?3, '', ?4)
			ON CONFLICT (workspace_id) DO UPDATE SET
				previous_secret = CASE WHEN excluded.previous_until IS NULL THEN '' ELSE webhook_secrets.secret END,
				previous_until = excluded.previous_until,
				secret = excluded.secret, created_at = excluded.created_at`,
			workspaceID, secret, ev.At, until)
		if s.isForeignKey(err) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		if err != nil {
			return s.wrap(err, "set webhook secret")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		return s.insertEvent(ctx, tx, &ev)
	})
}

// ReleaseWebhook makes a claimed delivery due at now if the claim is
// still the one that set next_attempt_at to claimedUntil.
func (s *Store) ReleaseWebhook(ctx context.Context, id string, claimedUntil, now time.Time) error {
	_, err := s.write.Exec(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ?
		WHERE id = ? AND delivered_at IS NULL AND next_attempt_at = ?`, now, id, claimedUntil)
	return s.wrap(err, "release webhook")
}
