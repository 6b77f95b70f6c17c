package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/latchkey/latchkey"
)

const webhookSelect = `SELECT id, workspace_id, key_id, url, type, payload, created_at, delivered_at,
	attempts, last_error, next_attempt_at FROM webhook_deliveries `

// enqueueWebhook writes the delivery that ev about k calls for, if any, in
// the transaction of ev: a change and its webhook commit together.
func enqueueWebhook(ctx context.Context, tx *sql.Tx, ev *latchkey.Event, k *latchkey.Key) error {
	d, err := latchkey.NewWebhookDelivery(*ev, k)
	if err != nil || d == nil {
		return err
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO webhook_deliveries (id, workspace_id, key_id, url, type, payload,
		created_at, attempts, last_error, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, '', ?)`,
		d.ID, d.WorkspaceID, d.KeyID, d.URL, d.Type, string(d.Payload), micros(d.CreatedAt), micros(*d.NextAttemptAt))
	if err != nil {
		return fmt.Errorf("sqlite: enqueue webhook: %w", err)
	}
	return nil
}

func scanWebhooks(rows *sql.Rows) ([]*latchkey.WebhookDelivery, error) {
	defer rows.Close()
	list := []*latchkey.WebhookDelivery{}
	for rows.Next() {
		var d latchkey.WebhookDelivery
		var created int64
		var payload string
		var delivered, next sql.NullInt64
		if err := rows.Scan(&d.ID, &d.WorkspaceID, &d.KeyID, &d.URL, &d.Type, &payload, &created, &delivered,
			&d.Attempts, &d.LastError, &next); err != nil {
			return nil, fmt.Errorf("sqlite: scan webhook: %w", err)
		}
		d.Payload = []byte(payload)
		d.CreatedAt, d.DeliveredAt, d.NextAttemptAt = fromMicros(created), fromNullMicros(delivered), fromNullMicros(next)
		list = append(list, &d)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: webhooks: %w", err)
	}
	return list, nil
}

// WebhookDeliveries lists a workspace's deliveries, newest first.
func (db *DB) WebhookDeliveries(ctx context.Context, workspaceID string, limit int, cursor string) ([]*latchkey.WebhookDelivery, string, error) {
	after := "\U0010FFFF"
	if cursor != "" {
		var err error
		if after, err = decodeCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	n := pageSize(limit)
	rows, err := db.read.QueryContext(ctx, webhookSelect+`WHERE workspace_id = ? AND id < ? ORDER BY id DESC LIMIT ?`,
		workspaceID, after, n+1)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: webhooks: %w", err)
	}
	list, err := scanWebhooks(rows)
	if err != nil {
		return nil, "", err
	}
	if len(list) > n {
		list = list[:n]
		return list, encodeCursor(list[n-1].ID), nil
	}
	return list, "", nil
}

// WebhookAttempts lists a delivery's attempts, oldest first.
func (db *DB) WebhookAttempts(ctx context.Context, deliveryID string) ([]*latchkey.WebhookAttempt, error) {
	rows, err := db.read.QueryContext(ctx, `SELECT delivery_id, at, status_code, error, duration_ns
		FROM webhook_attempts WHERE delivery_id = ? ORDER BY at, rowid`, deliveryID)
	if err != nil {
		return nil, fmt.Errorf("sqlite: webhook attempts: %w", err)
	}
	defer rows.Close()
	list := []*latchkey.WebhookAttempt{}
	for rows.Next() {
		var a latchkey.WebhookAttempt
		var at, dur int64
		if err := rows.Scan(&a.DeliveryID, &at, &a.StatusCode, &a.Error, &dur); err != nil {
			return nil, fmt.Errorf("sqlite: webhook attempts: %w", err)
		}
		a.At, a.Duration = fromMicros(at), time.Duration(dur)
		list = append(list, &a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: webhook attempts: %w", err)
	}
	return list, nil
}

// ClaimWebhooks returns the undelivered deliveries due at now and
// postpones them by lease.
func (db *DB) ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.WebhookDelivery, error) {
	var list []*latchkey.WebhookDelivery
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, webhookSelect+`WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?
			AND delivered_at IS NULL ORDER BY next_attempt_at, id LIMIT ?`, micros(now), pageSize(limit))
		if err != nil {
			return fmt.Errorf("sqlite: claim webhooks: %w", err)
		}
		if list, err = scanWebhooks(rows); err != nil {
			return err
		}
		until := now.Add(lease).UTC().Truncate(time.Microsecond)
		for _, d := range list {
			if _, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET next_attempt_at = ? WHERE id = ?`, micros(until), d.ID); err != nil {
				return fmt.Errorf("sqlite: claim webhooks: %w", err)
			}
			d.NextAttemptAt = &until
		}
		return nil
	})
	return list, err
}

// RecordWebhookAttempt logs a and updates its delivery in one transaction.
func (db *DB) RecordWebhookAttempt(ctx context.Context, a latchkey.WebhookAttempt, delivered bool, retryAt *time.Time) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		var deliveredAt sql.NullInt64
		if delivered {
			deliveredAt, retryAt = sql.NullInt64{Int64: micros(a.At), Valid: true}, nil
		}
		res, err := tx.ExecContext(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = ?,
			delivered_at = ?, next_attempt_at = ? WHERE id = ?`, a.Error, deliveredAt, nullMicros(retryAt), a.DeliveryID)
		if err != nil {
			return fmt.Errorf("sqlite: record webhook attempt: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: record webhook attempt: %w", err)
		} else if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "webhook delivery %s not found", a.DeliveryID)
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ns)
			VALUES (?, ?, ?, ?, ?)`, a.DeliveryID, micros(a.At), a.StatusCode, a.Error, int64(a.Duration))
		if err != nil {
			return fmt.Errorf("sqlite: record webhook attempt: %w", err)
		}
		return nil
	})
}

// WebhookSecret returns the workspace's signing secret, storing fresh
// first when it has none; ENOTFOUND if the workspace does not exist.
func (db *DB) WebhookSecret(ctx context.Context, workspaceID, fresh string) (string, error) {
	var secret string
	err := db.read.QueryRowContext(ctx, `SELECT secret FROM webhook_secrets WHERE workspace_id = ?`, workspaceID).Scan(&secret)
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("sqlite: webhook secret: %w", err)
	}
	err = db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_secrets (workspace_id, secret, created_at) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id) DO NOTHING`, workspaceID, fresh, micros(time.Now().UTC()))
		if isForeignKey(err) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		if err != nil {
			return fmt.Errorf("sqlite: webhook secret: %w", err)
		}
		if err := tx.QueryRowContext(ctx, `SELECT secret FROM webhook_secrets WHERE workspace_id = ?`, workspaceID).Scan(&secret); err != nil {
			return fmt.Errorf("sqlite: webhook secret: %w", err)
		}
		return nil
	})
	return secret, err
}

// SetWebhookSecret replaces the workspace's signing secret and records ev.
func (db *DB) SetWebhookSecret(ctx context.Context, workspaceID, secret string, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO webhook_secrets (workspace_id, secret, created_at) VALUES (?, ?, ?)
			ON CONFLICT (workspace_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at`,
			workspaceID, secret, micros(ev.At))
		if isForeignKey(err) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		if err != nil {
			return fmt.Errorf("sqlite: set webhook secret: %w", err)
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		return insertEvent(ctx, tx, &ev)
	})
}
