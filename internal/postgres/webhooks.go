package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

const webhookColumns = `id, workspace_id, key_id, url, type, payload, created_at, delivered_at,
	attempts, last_error, next_attempt_at`

// enqueueWebhook writes the delivery that ev about k calls for, if any, in
// the transaction of ev: a change and its webhook commit together.
func enqueueWebhook(ctx context.Context, tx pgx.Tx, ev *latchkey.Event, k *latchkey.Key) error {
	d, err := latchkey.NewWebhookDelivery(*ev, k)
	if err != nil || d == nil {
		return err
	}
	_, err = tx.Exec(ctx, `INSERT INTO webhook_deliveries (id, workspace_id, key_id, url, type, payload,
		created_at, attempts, last_error, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, '', $8)`,
		d.ID, d.WorkspaceID, d.KeyID, d.URL, d.Type, string(d.Payload), d.CreatedAt, *d.NextAttemptAt)
	return wrap(err, "enqueue webhook")
}

func collectWebhooks(rows pgx.Rows) ([]*latchkey.WebhookDelivery, error) {
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.WebhookDelivery, error) {
		var d latchkey.WebhookDelivery
		var payload string
		if err := row.Scan(&d.ID, &d.WorkspaceID, &d.KeyID, &d.URL, &d.Type, &payload, &d.CreatedAt, &d.DeliveredAt,
			&d.Attempts, &d.LastError, &d.NextAttemptAt); err != nil {
			return nil, err
		}
		d.Payload = []byte(payload)
		d.CreatedAt, d.DeliveredAt, d.NextAttemptAt = utc(d.CreatedAt), utcPtr(d.DeliveredAt), utcPtr(d.NextAttemptAt)
		return &d, nil
	})
	if list == nil && err == nil {
		list = []*latchkey.WebhookDelivery{}
	}
	return list, wrap(err, "webhooks")
}

// WebhookDeliveries lists a workspace's deliveries, newest first.
func (db *DB) WebhookDeliveries(ctx context.Context, workspaceID string, limit int, cursor string) ([]*latchkey.WebhookDelivery, string, error) {
	after := ""
	if cursor != "" {
		var err error
		if after, err = decodeCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	n := pageSize(limit)
	rows, err := db.pool.Query(ctx, `SELECT `+webhookColumns+` FROM webhook_deliveries
		WHERE workspace_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`, workspaceID, after, n+1)
	if err != nil {
		return nil, "", wrap(err, "webhooks")
	}
	list, err := collectWebhooks(rows)
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
	rows, err := db.pool.Query(ctx, `SELECT delivery_id, at, status_code, error, duration_ns
		FROM webhook_attempts WHERE delivery_id = $1 ORDER BY at, ctid`, deliveryID)
	if err != nil {
		return nil, wrap(err, "webhook attempts")
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.WebhookAttempt, error) {
		var a latchkey.WebhookAttempt
		var dur int64
		if err := row.Scan(&a.DeliveryID, &a.At, &a.StatusCode, &a.Error, &dur); err != nil {
			return nil, err
		}
		a.At, a.Duration = utc(a.At), time.Duration(dur)
		return &a, nil
	})
	if list == nil && err == nil {
		list = []*latchkey.WebhookAttempt{}
	}
	return list, wrap(err, "webhook attempts")
}

// ClaimWebhooks returns the undelivered deliveries due at now and
// postpones them by lease; SKIP LOCKED lets several instances claim side by side.
func (db *DB) ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.WebhookDelivery, error) {
	until := now.Add(lease).UTC().Truncate(time.Microsecond)
	rows, err := db.pool.Query(ctx, `UPDATE webhook_deliveries SET next_attempt_at = $1 WHERE id IN (
		SELECT id FROM webhook_deliveries WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $2
		AND delivered_at IS NULL ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING `+webhookColumns, until, now, pageSize(limit))
	if err != nil {
		return nil, wrap(err, "claim webhooks")
	}
	return collectWebhooks(rows)
}

// RecordWebhookAttempt logs a and updates its delivery in one transaction.
func (db *DB) RecordWebhookAttempt(ctx context.Context, a latchkey.WebhookAttempt, delivered bool, retryAt *time.Time) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		var deliveredAt *time.Time
		if delivered {
			deliveredAt, retryAt = &a.At, nil
		}
		tag, err := tx.Exec(ctx, `UPDATE webhook_deliveries SET attempts = attempts + 1, last_error = $1,
			delivered_at = $2, next_attempt_at = $3 WHERE id = $4`, a.Error, deliveredAt, retryAt, a.DeliveryID)
		if err != nil {
			return wrap(err, "record webhook attempt")
		}
		if tag.RowsAffected() == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "webhook delivery %s not found", a.DeliveryID)
		}
		_, err = tx.Exec(ctx, `INSERT INTO webhook_attempts (delivery_id, at, status_code, error, duration_ns)
			VALUES ($1, $2, $3, $4, $5)`, a.DeliveryID, a.At, a.StatusCode, a.Error, int64(a.Duration))
		return wrap(err, "record webhook attempt")
	})
}

// WebhookSecret returns the workspace's signing secret, storing fresh
// first when it has none; ENOTFOUND if the workspace does not exist.
func (db *DB) WebhookSecret(ctx context.Context, workspaceID, fresh string) (string, error) {
	var secret string
	err := db.pool.QueryRow(ctx, `SELECT secret FROM webhook_secrets WHERE workspace_id = $1`, workspaceID).Scan(&secret)
	if err == nil {
		return secret, nil
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return "", wrap(err, "webhook secret")
	}
	_, err = db.pool.Exec(ctx, `INSERT INTO webhook_secrets (workspace_id, secret, created_at) VALUES ($1, $2, now())
		ON CONFLICT (workspace_id) DO NOTHING`, workspaceID, fresh)
	if isForeignKey(err) {
		return "", latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	if err != nil {
		return "", wrap(err, "webhook secret")
	}
	err = db.pool.QueryRow(ctx, `SELECT secret FROM webhook_secrets WHERE workspace_id = $1`, workspaceID).Scan(&secret)
	return secret, wrap(err, "webhook secret")
}

// SetWebhookSecret replaces the workspace's signing secret and records ev.
func (db *DB) SetWebhookSecret(ctx context.Context, workspaceID, secret string, ev latchkey.Event) error {
	return db.inTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO webhook_secrets (workspace_id, secret, created_at) VALUES ($1, $2, $3)
			ON CONFLICT (workspace_id) DO UPDATE SET secret = excluded.secret, created_at = excluded.created_at`,
			workspaceID, secret, ev.At)
		if isForeignKey(err) {
			return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
		}
		if err != nil {
			return wrap(err, "set webhook secret")
		}
		if ev.WorkspaceID == "" {
			ev.WorkspaceID = workspaceID
		}
		return insertEvent(ctx, tx, &ev)
	})
}
