package sqlstore

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
)

const mailSelect = `SELECT id, workspace_id, recipient, subject, body, created_at, sent_at, attempts,
	last_error, next_attempt_at FROM mails `

func (s *Store) insertMail(ctx context.Context, tx Conn, m *latchkey.Mail) error {
	next := m.NextAttemptAt
	if next == nil && m.SentAt == nil {
		next = &m.CreatedAt // due at once
	}
	_, err := tx.Exec(ctx, `INSERT INTO mails (id, workspace_id, recipient, subject, body, created_at,
		sent_at, attempts, last_error, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.WorkspaceID, m.To, m.Subject, m.Body, m.CreatedAt, m.SentAt, m.Attempts, m.LastError, next)
	switch {
	case s.isUnique(err, AnyConstraint):
		return latchkey.Errorf(latchkey.ECONFLICT, "mail %s already exists", m.ID)
	case s.isForeignKey(err):
		return latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found")
	}
	return s.wrap(err, "insert mail")
}

func scanMail(row Row) (*latchkey.Mail, error) {
	var m latchkey.Mail
	if err := row.Scan(&m.ID, &m.WorkspaceID, &m.To, &m.Subject, &m.Body, &m.CreatedAt, &m.SentAt,
		&m.Attempts, &m.LastError, &m.NextAttemptAt); err != nil {
		return nil, err
	}
	return &m, nil
}

// Mails lists a workspace's mails, newest first; EINVALID for a malformed cursor.
func (s *Store) Mails(ctx context.Context, workspaceID string, limit int, cursor string) ([]*latchkey.Mail, string, error) {
	after := ""
	if cursor != "" {
		var err error
		if after, err = decodeCursor(cursor); err != nil {
			return nil, "", err
		}
	}
	n := pageSize(limit)
	rows, err := s.read.Query(ctx, mailSelect+`WHERE workspace_id = ?1 AND (?2 = '' OR id < ?2) ORDER BY id DESC LIMIT ?3`,
		workspaceID, after, n+1)
	list, err := collect(rows, err, scanMail)
	if err != nil {
		return nil, "", s.wrap(err, "mails")
	}
	if len(list) > n {
		list = list[:n]
		return list, encodeCursor(list[n-1].ID), nil
	}
	return list, "", nil
}

// ClaimMails returns the unsent mails due at now and postpones them by
// lease. SKIP LOCKED lets senders of several instances claim side by side.
func (s *Store) ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*latchkey.Mail, error) {
	until := now.Add(lease).UTC().Truncate(time.Microsecond)
	var list []*latchkey.Mail
	err := s.inTx(ctx, func(tx Conn) error {
		rows, err := tx.Query(ctx, `UPDATE mails SET next_attempt_at = ? WHERE id IN (
			SELECT id FROM mails WHERE next_attempt_at IS NOT NULL AND next_attempt_at <= ? AND sent_at IS NULL
			ORDER BY next_attempt_at, id LIMIT ?`+s.lock("FOR UPDATE SKIP LOCKED")+`)
			RETURNING id, workspace_id, recipient, subject, body, created_at, sent_at, attempts, last_error, next_attempt_at`,
			until, now, pageSize(limit))
		list, err = collect(rows, err, scanMail)
		return err
	})
	if err != nil {
		return nil, s.wrap(err, "claim mails")
	}
	return list, nil
}

// MarkMailSent records a delivery; ENOTFOUND if no such mail.
func (s *Store) MarkMailSent(ctx context.Context, id string, at time.Time) error {
	return s.updateMail(ctx, id, `UPDATE mails SET sent_at = ?, attempts = attempts + 1, last_error = '',
		next_attempt_at = NULL WHERE id = ?`, at, id)
}

// MarkMailFailed counts a failed attempt; retryAt nil gives up.
func (s *Store) MarkMailFailed(ctx context.Context, id string, errMsg string, retryAt *time.Time) error {
	return s.updateMail(ctx, id, `UPDATE mails SET attempts = attempts + 1, last_error = ?,
		next_attempt_at = ? WHERE id = ?`, errMsg, retryAt, id)
}

// ReleaseMail makes a claimed, unsent mail due at now if the claim is
// still the one that set next_attempt_at to claimedUntil.
func (s *Store) ReleaseMail(ctx context.Context, id string, claimedUntil, now time.Time) error {
	_, err := s.write.Exec(ctx, `UPDATE mails SET next_attempt_at = ?
		WHERE id = ? AND sent_at IS NULL AND next_attempt_at = ?`, now, id, claimedUntil)
	return s.wrap(err, "release mail")
}

func (s *Store) updateMail(ctx context.Context, id, q string, args ...any) error {
	n, err := s.write.Exec(ctx, q, args...)
	if err != nil {
		return s.wrap(err, "update mail")
	}
	if n == 0 {
		return latchkey.Errorf(latchkey.ENOTFOUND, "mail %s not found", id)
	}
	return nil
}
