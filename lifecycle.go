package latchkey

import (
	"context"
	"time"
)

// LifecycleStore keeps what the background jobs need to honour a
// workspace's expiration policy: which keys still await an expiry notice,
// the record that a notice went out (with its mails and event, in one
// transaction, so a crash neither loses nor repeats one), and the deletion
// of keys past their retention.
type LifecycleStore interface {
	// ExpiringKeys lists up to limit keys of the workspace that are not
	// revoked, expire in (now, now+window], and have no notice recorded for
	// window and their current expiry, soonest expiry first.
	ExpiringKeys(ctx context.Context, workspaceID string, now time.Time, window Duration, limit int) ([]*Key, error)
	// ExpiredKeys lists up to limit keys of the workspace that are not
	// revoked, expired at or before now, and have no notice recorded for
	// window 0 and their current expiry: the key.expired record, which
	// RecordNotice writes with Window 0.
	ExpiredKeys(ctx context.Context, workspaceID string, now time.Time, limit int) ([]*Key, error)
	// RecordNotice records n, enqueues mails and appends ev in one
	// transaction. ECONFLICT, writing nothing, when a notice for the same
	// key, window and expiry exists: that is how two job runners that race
	// never send twice. ENOTFOUND if the key no longer exists.
	RecordNotice(ctx context.Context, n Notice, mails []*Mail, ev Event) error
	// RecordNotices records, in one transaction, each of notices whose key
	// still exists, is not revoked and still expires at the notice's
	// ExpiresAt, and for which no notice for the same key, window and
	// expiry exists; with each, event(n). A key's webhook is enqueued once,
	// with the event of its shortest window recorded, which names every
	// window recorded for it in Data["windows"] when there are several
	// (a key created inside two windows gets one key.expiring). Notices it skips
	// are not an error (another runner recorded them, or the key changed).
	// Then it enqueues mails(recorded) in the same transaction, so that a
	// digest names exactly the keys noticed with it: sent once, never
	// lost. It returns the notices recorded, in the order given.
	RecordNotices(ctx context.Context, notices []Notice, event func(Notice) Event, mails func(recorded []Notice) []*Mail) ([]Notice, error)
	// DeleteExpiredKeys deletes, in one transaction, up to limit keys of
	// the workspace that are either not revoked and expired at or before
	// expiredBefore, or revoked at or before revokedBefore, and records
	// event(k) for each. It returns the deleted keys, so that caches can
	// forget them. The condition is checked in the same transaction as the
	// delete, so a key renewed meanwhile is never deleted.
	DeleteExpiredKeys(ctx context.Context, workspaceID string, expiredBefore, revokedBefore time.Time, limit int, event func(*Key) Event) ([]*Key, error)
}

// Notice is the record that a key's expiry notice went out for one notice
// window. ExpiresAt is part of its identity: a key reset to a later expiry
// is noticed again.
type Notice struct {
	KeyID       string
	WorkspaceID string
	Window      Duration
	ExpiresAt   time.Time
	At          time.Time
}

// Mail is an email in the outbox. Without SMTP it stays there, and the
// console shows it; with SMTP a sender claims and delivers it.
type Mail struct {
	ID          string     `json:"id"`
	WorkspaceID string     `json:"workspace_id"`
	To          string     `json:"to"`
	Subject     string     `json:"subject"`
	Body        string     `json:"body"`
	CreatedAt   time.Time  `json:"created_at"`
	SentAt      *time.Time `json:"sent_at"`
	Attempts    int        `json:"attempts"`
	LastError   string     `json:"last_error,omitempty"`
	// NextAttemptAt is when a sender may next claim the mail; nil once
	// sent or given up.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
}

// MailStore is the email outbox.
type MailStore interface {
	// Mails lists a workspace's mails, newest first, and the cursor of the
	// next page ("" at the end).
	Mails(ctx context.Context, workspaceID string, limit int, cursor string) ([]*Mail, string, error)
	// ClaimMails returns up to limit unsent mails due at now (every
	// workspace's, oldest first) and postpones each to now+lease, so that
	// another sender does not claim them while this one delivers.
	ClaimMails(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*Mail, error)
	// MarkMailSent records a delivery; ENOTFOUND if no such mail.
	MarkMailSent(ctx context.Context, id string, at time.Time) error
	// MarkMailFailed counts a failed attempt with its error; retryAt nil
	// gives up on the mail. ENOTFOUND if no such mail.
	MarkMailFailed(ctx context.Context, id string, errMsg string, retryAt *time.Time) error
	// ReleaseMail makes a claimed, unsent mail due again at now (a sender
	// stopping hands back what it has not started), if its claim is still
	// the one that set next_attempt_at to claimedUntil.
	ReleaseMail(ctx context.Context, id string, claimedUntil, now time.Time) error
}

// RetryBackoff is how long a failed delivery (mail, webhook) waits before
// attempt n+1 after n failed ones: one minute, doubling, at most six hours.
// One schedule, so operators reason about every outbound retry the same way.
func RetryBackoff(n int) time.Duration {
	d := time.Minute
	for i := 1; i < n && d < 6*time.Hour; i++ {
		d *= 2
	}
	return min(d, 6*time.Hour)
}
