package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

const mailSelect = `SELECT id, workspace_id, recipient, subject, body, created_at, sent_at, attempts,
	last_error, next_attempt_at FROM mails `

func insertMail(ctx context.Context, tx *sql.Tx, m *latchkey.Mail) error {
	next := m.NextAttemptAt
	if next == nil && m.SentAt == nil {
		next = &m.CreatedAt // due at once
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO mails (id, workspace_id, recipient, subject, body, created_at,
		sent_at, attempts, last_error, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.WorkspaceID, m.To, m.Subject, m.Body, micros(m.CreatedAt), nullMicros(m.SentAt),
		m.Attempts, m.LastError, nullMicros(next))
	switch {
	case isUnique(err, ""):
		return latchkey.Errorf(latchkey.ECONFLICT, "mail %s already exists", m.ID)
	case isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	case err != nil:
		return fmt.Errorf("sqlite: insert mail: %w", err)
	}
	return nil
}

func scanMails(rows *sql.Rows) ([]*latchkey.Mail, error) {
	defer rows.Close()
	list := []*latchkey.Mail{}
	for rows.Next() {
		var m latchkey.Mail
		var created int64
		var sent, next sql.NullInt64
		if err := rows.Scan(&m.ID, &m.WorkspaceID, &m.To, &m.Subject, &m.Body, &created, &sent,
			&m.Attempts, &m.LastError, &next); err != nil {
			return nil, fmt.Errorf("sqlite: scan mail: %w", err)
		}
		m.CreatedAt, m.SentAt, m.NextAttemptAt = fromMicros(created), fromNullMicros(sent), fromNullMicros(next)
		list = append(list, &m)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("sqlite: mails: %w", err)
	}
	return list, nil
}

// Mails lists a workspace's mails, newest first; EINVALID for a malformed cursor.
func (db *DB) Mails(ctx context.Context, workspaceID string, limit int, cursor string) ([]*latchkey.Mail, string, error) {
	where, args := []string{"workspace_id = ?"}, []any{workspaceID}
	if cursor != "" {
		after, err := decodeCursor(cursor)
		if err != nil {
			return nil, "", err
		}
		where, args = append(where, "id < ?"), append(args, after)
	}
	n := pageSize(limit)
	rows, err := db.read.QueryContext(ctx, mailSelect+`WHERE `+strings.Join(where, " AND ")+` ORDER BY id DESC LIMIT ?`,
		append(args, n+1)...)
	if err != nil {
		return nil, "", fmt.Errorf("sqlite: mails: %w", err)
	}
	list, err := scanMails(rows)
	if err != nil {
		return nil, "", err
	}
	if len(list) > n {
		list = list[:n]
		return list, encodeCursor(list[n-1].ID), nil
	}
	return list, "", nil
}

// ClaimMails returns the unsent mails due at now and postpones them by lease.
func (db *DB) ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.Mail, error) {
	var list []*latchkey.Mail
	err := db.inTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, mailSelect+`WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ?
			AND sent_at IS NULL ORDER BY next_attempt_at, id LIMIT ?`, micros(now), pageSize(limit))
		if err != nil {
			return fmt.Errorf("sqlite: claim mails: %w", err)
		}
		if list, err = scanMails(rows); err != nil {
			return err
		}
		until := now.Add(lease).UTC().Truncate(time.Microsecond)
		for _, m := range list {
			if _, err := tx.ExecContext(ctx, `UPDATE mails SET next_attempt_at = ? WHERE id = ?`, micros(until), m.ID); err != nil {
				return fmt.Errorf("sqlite: claim mails: %w", err)
			}
			m.NextAttemptAt = &until
		}
		return nil
	})
	return list, err
}

// MarkMailSent records a delivery; ENOTFOUND if no such mail.
func (db *DB) MarkMailSent(ctx context.Context, id string, at time.Time) error {
	return db.updateMail(ctx, id, `UPDATE mails SET sent_at = ?, attempts = attempts + 1, last_error = '',
		next_attempt_at = NULL WHERE id = ?`, micros(at), id)
}

// MarkMailFailed counts a failed attempt; retryAt nil gives up.
func (db *DB) MarkMailFailed(ctx context.Context, id string, errMsg string, retryAt *time.Time) error {
	return db.updateMail(ctx, id, `UPDATE mails SET attempts = attempts + 1, last_error = ?,
		next_attempt_at = ? WHERE id = ?`, errMsg, nullMicros(retryAt), id)
}

func (db *DB) updateMail(ctx context.Context, id, q string, args ...any) error {
	return db.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, q, args...)
		if err != nil {
			return fmt.Errorf("sqlite: update mail: %w", err)
		}
		if n, err := res.RowsAffected(); err != nil {
			return fmt.Errorf("sqlite: update mail: %w", err)
		} else if n == 0 {
			return latchkey.Errorf(latchkey.ENOTFOUND, "mail %s not found", id)
		}
		return nil
	})
}
