package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
)

const mailSelect = `SELECT id, workspace_id, recipient, subject, body, created_at, sent_at, attempts,
	last_error, next_attempt_at FROM mails `

func insertMail(ctx context.Context, tx pgx.Tx, m *latchkey.Mail) error {
	next := m.NextAttemptAt
	if next == nil && m.SentAt == nil {
		next = &m.CreatedAt // due at once
	}
	_, err := tx.Exec(ctx, `INSERT INTO mails (id, workspace_id, recipient, subject, body, created_at,
		sent_at, attempts, last_error, next_attempt_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
		m.ID, m.WorkspaceID, m.To, m.Subject, m.Body, m.CreatedAt, m.SentAt, m.Attempts, m.LastError, next)
	switch {
	case isUnique(err, ""):
		return latchkey.Errorf(latchkey.ECONFLICT, "mail %s already exists", m.ID)
	case isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	return wrap(err, "insert mail")
}

func collectMails(rows pgx.Rows) ([]*latchkey.Mail, error) {
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (*latchkey.Mail, error) {
		var m latchkey.Mail
		if err := row.Scan(&m.ID, &m.WorkspaceID, &m.To, &m.Subject, &m.Body, &m.CreatedAt, &m.SentAt,
			&m.Attempts, &m.LastError, &m.NextAttemptAt); err != nil {
			return nil, err
		}
		m.CreatedAt, m.SentAt, m.NextAttemptAt = utc(m.CreatedAt), utcPtr(m.SentAt), utcPtr(m.NextAttemptAt)
		return &m, nil
	})
	if list == nil && err == nil {
		list = []*latchkey.Mail{}
	}
	return list, wrap(err, "mails")
}

// Mails lists a workspace's mails, newest first; EINVALID for a malformed cursor.
func (db *DB) Mails(ctx context.Context, workspaceID string, limit int, cursor string) ([]*latchkey.Mail, string, error) {
	after := ""
	if cursor != "" {
		var err error
		if after, err = decodeCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	n := pageSize(limit)
	rows, err := db.pool.Query(ctx, mailSelect+`WHERE workspace_id = $1 AND ($2 = '' OR id < $2) ORDER BY id DESC LIMIT $3`,
		workspaceID, after, n+1)
	if err != nil {
		return nil, "", wrap(err, "mails")
	}
	list, err := collectMails(rows)
	if err != nil {
		return nil, "", err
	}
	if len(list) > n {
		list = list[:n]
		return list, encodeCursor(list[n-1].ID), nil
	}
	return list, "", nil
}

// ClaimMails returns the unsent mails due at now and postpones them by
// lease. SKIP LOCKED lets senders of several instances claim side by side.
func (db *DB) ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.Mail, error) {
	until := now.Add(lease).UTC().Truncate(time.Microsecond)
	rows, err := db.pool.Query(ctx, `UPDATE mails SET next_attempt_at = $1 WHERE id IN (
		SELECT id FROM mails WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= $2 AND sent_at IS NULL
		ORDER BY next_attempt_at, id LIMIT $3 FOR UPDATE SKIP LOCKED)
		RETURNING id, workspace_id, recipient, subject, body, created_at, sent_at, attempts, last_error, next_attempt_at`,
		until, now, pageSize(limit))
	if err != nil {
		return nil, wrap(err, "claim mails")
	}
	return collectMails(rows)
}

// MarkMailSent records a delivery; ENOTFOUND if no such mail.
func (db *DB) MarkMailSent(ctx context.Context, id string, at time.Time) error {
	return db.updateMail(ctx, id, `UPDATE mails SET sent_at = $1, attempts = attempts + 1, last_error = '',
		next_attempt_at = NULL WHERE id = $2`, at, id)
}

// MarkMailFailed counts a failed attempt; retryAt nil gives up.
func (db *DB) MarkMailFailed(ctx context.Context, id string, errMsg string, retryAt *time.Time) error {
	return db.updateMail(ctx, id, `UPDATE mails SET attempts = attempts + 1, last_error = $1,
		next_attempt_at = $2 WHERE id = $3`, errMsg, retryAt, id)
}

func (db *DB) updateMail(ctx context.Context, id, q string, args ...any) error {
	tag, err := db.pool.Exec(ctx, q, args...)
	if err != nil {
		return wrap(err, "update mail")
	}
	if tag.RowsAffected() == 0 {
		return latchkey.Errorf(latchkey.ENOTFOUND, "mail %s not found", id)
	}
	return nil
}
