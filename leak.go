package latchkey

import (
	"context"
	"time"
)

// Leak is the record that a key's secret was reported found where it
// should not be: in a public repository (GitHub's secret scanning) or by a
// workspace's own scanner. Only the secret's SHA-256 is kept.
type Leak struct {
	Hash        [32]byte // SHA-256 of the leaked secret
	WorkspaceID string
	KeyID       string
	// TokenType, URL and Source are the reporter's: what it took the token
	// for and where it found it (for GitHub, the file's URL and
	// "content", "commit", "issue", ...). Shown to the workspace; never
	// trusted for anything else.
	TokenType string
	URL       string
	Source    string
	// Reporter is LeakReporterGitHub or the id of the reporting key.
	Reporter   string
	Action     string // LeakRevoked or LeakNotified
	ReportedAt time.Time
}

// LeakReporterGitHub is the Reporter of leaks GitHub's secret scanning
// reported (with a signature checked against GitHub's public keys).
const LeakReporterGitHub = "github"

// What was done about a leak.
const (
	LeakRevoked  = "revoked"  // the key was revoked (it may have been revoked already)
	LeakNotified = "notified" // the workspace was told; the key still works
)

// LeakStore keeps the record of leaked secrets.
type LeakStore interface {
	// RecordLeak records l once per secret, in one transaction with what
	// it causes: when no leak of l.Hash is recorded yet and the key
	// l.KeyID of l.WorkspaceID still holds that secret (as its current
	// one or the previous one of a reset), it stores l, revokes the key
	// (RevokedAt l.ReportedAt, RevokedBy revokedBy) when l.Action is
	// LeakRevoked and it is not revoked, then records events(k), each
	// with its webhook, and enqueues mails(k), k being the key as stored
	// afterwards. It returns k and true; nil and false, writing nothing,
	// when a leak of l.Hash was recorded before (reporting it again acts
	// once). ENOTFOUND when the key is gone or holds the secret no more.
	RecordLeak(ctx context.Context, l Leak, revokedBy string, events func(k *Key) []Event, mails func(k *Key) []*Mail) (*Key, bool, error)
	// Leaks lists the leaks recorded for a key of the workspace, oldest first.
	Leaks(ctx context.Context, workspaceID, keyID string) ([]*Leak, error)
}
