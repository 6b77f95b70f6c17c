package latchkey

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"time"
)

// WebhookEvents are the event actions that a key's callback URL receives
// (SPEC §5). The store enqueues a delivery for one of them, in the same
// transaction as the event, when the key has a callback URL.
var WebhookEvents = map[string]bool{
	EventKeyExpiring: true,
	EventKeyExpired:  true,
	EventKeyRevoked:  true,
	EventKeyReset:    true,
	EventKeyDeleted:  true,
	EventKeyLeaked:   true,
}

// WebhookDelivery is a webhook in the outbox: one event for one key's
// callback URL. Its ID is the event's, sent as webhook-id, so a receiver
// can tell a retry from a new event. The payload is fixed at enqueue time:
// the key may be gone when it is delivered.
type WebhookDelivery struct {
	ID          string          `json:"id"`
	WorkspaceID string          `json:"workspace_id"`
	KeyID       string          `json:"key_id"`
	URL         string          `json:"url"`
	Type        string          `json:"type"`
	Payload     json.RawMessage `json:"payload"`
	CreatedAt   time.Time       `json:"created_at"`
	DeliveredAt *time.Time      `json:"delivered_at"`
	Attempts    int             `json:"attempts"`
	LastError   string          `json:"last_error,omitempty"`
	// NextAttemptAt is when a sender may next claim the delivery; nil once
	// delivered or given up.
	NextAttemptAt *time.Time `json:"next_attempt_at"`
}

// WebhookAttempt is the log of one POST of a delivery.
type WebhookAttempt struct {
	DeliveryID string        `json:"delivery_id"`
	At         time.Time     `json:"at"`
	StatusCode int           `json:"status_code"` // 0 when no response came
	Error      string        `json:"error,omitempty"`
	Duration   time.Duration `json:"duration"`
}

// webhookKey is the key as a webhook shows it: no secret, no hash.
type webhookKey struct {
	ID          string      `json:"id"`
	WorkspaceID string      `json:"workspace_id"`
	Name        string      `json:"name"`
	Type        string      `json:"type"`
	Environment Environment `json:"environment"`
	Owner       string      `json:"owner"`
	ExpiresAt   *time.Time  `json:"expires_at"`
	RevokedAt   *time.Time  `json:"revoked_at"`
}

// NewWebhookDelivery returns the delivery that ev about k calls for, or
// nil when k has no callback URL or ev is not a webhook event.
func NewWebhookDelivery(ev Event, k *Key) (*WebhookDelivery, error) {
	if k == nil || k.CallbackURL == "" || !WebhookEvents[ev.Action] {
		return nil, nil
	}
	body, err := json.Marshal(struct {
		Type      string     `json:"type"`
		Timestamp string     `json:"timestamp"`
		Data      webhookKey `json:"data"`
	}{ev.Action, ev.At.UTC().Format(time.RFC3339), webhookKey{
		ID: k.ID, WorkspaceID: k.WorkspaceID, Name: k.Name, Type: k.Type, Environment: k.Environment,
		Owner: k.Owner, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt}})
	if err != nil {
		return nil, err
	}
	at := ev.At
	return &WebhookDelivery{ID: ev.ID, WorkspaceID: k.WorkspaceID, KeyID: k.ID, URL: k.CallbackURL,
		Type: ev.Action, Payload: body, CreatedAt: at, NextAttemptAt: &at}, nil
}

// WebhookStore is the webhook outbox and the workspaces' signing secrets.
// Deliveries are enqueued by the key write paths (UpdateKey, DeleteKey,
// RecordNotice, DeleteExpiredKeys) in the transaction of their event.
type WebhookStore interface {
	// WebhookDeliveries lists a workspace's deliveries, newest first, and
	// the cursor of the next page ("" at the end).
	WebhookDeliveries(ctx context.Context, workspaceID string, limit int, cursor string) ([]*WebhookDelivery, string, error)
	// WebhookAttempts lists a delivery's attempts, oldest first.
	WebhookAttempts(ctx context.Context, deliveryID string) ([]*WebhookAttempt, error)
	// ClaimWebhooks returns up to limit undelivered deliveries due at now
	// (oldest first) and postpones each to now+lease.
	ClaimWebhooks(ctx context.Context, now time.Time, lease time.Duration, limit int) ([]*WebhookDelivery, error)
	// RecordWebhookAttempt logs a, counts it on its delivery and marks the
	// delivery delivered, or due again at retryAt (nil gives up), in one
	// transaction. ENOTFOUND if no such delivery.
	RecordWebhookAttempt(ctx context.Context, a WebhookAttempt, delivered bool, retryAt *time.Time) error
	// WebhookSecret returns the workspace's signing secret, storing fresh
	// first when it has none (so it is generated lazily, once).
	WebhookSecret(ctx context.Context, workspaceID, fresh string) (string, error)
	// SetWebhookSecret replaces the workspace's signing secret and records
	// ev (which must not contain it) in one transaction.
	SetWebhookSecret(ctx context.Context, workspaceID, secret string, ev Event) error
}

// WebhookSecretPrefix starts every webhook signing secret (Standard Webhooks).
const WebhookSecretPrefix = "whsec_"

// NewWebhookSecret returns a signing secret: "whsec_" and the base64 of 32
// random bytes read from r; the bytes are the HMAC key.
func NewWebhookSecret(r io.Reader) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(r, b); err != nil {
		return "", fmt.Errorf("webhook secret: %w", err)
	}
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(b), nil
}
