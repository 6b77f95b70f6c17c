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
	EventKeyDisabled: true,
	EventKeyEnabled:  true,
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

// webhookNotice is the notice window a key.expiring webhook reports: the
// window the key entered (the shortest, when it entered several at once)
// and every window this one webhook stands for, shortest first.
type webhookNotice struct {
	Window  string   `json:"window"`
	Windows []string `json:"windows"`
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
	DisabledAt  *time.Time  `json:"disabled_at"`
}

// NewWebhookDelivery returns the delivery that ev about k calls for, or
// nil when k has no callback URL or ev is not a webhook event. A
// key.expiring event carries its notice window in ev.Data["window"] (and,
// when it stands for several windows entered at once, all of them in
// ev.Data["windows"]); the payload repeats them under "notice", so two
// notices of one key never look alike.
func NewWebhookDelivery(ev Event, k *Key) (*WebhookDelivery, error) {
	if k == nil || k.CallbackURL == "" || !WebhookEvents[ev.Action] {
		return nil, nil
	}
	var notice *webhookNotice
	if ev.Action == EventKeyExpiring {
		w, _ := ev.Data["window"].(string)
		notice = &webhookNotice{Window: w, Windows: dataStrings(ev.Data["windows"])}
		if len(notice.Windows) == 0 && w != "" {
			notice.Windows = []string{w}
		}
	}
	body, err := json.Marshal(struct {
		Type      string         `json:"type"`
		Timestamp string         `json:"timestamp"`
		Notice    *webhookNotice `json:"notice,omitempty"`
		Data      webhookKey     `json:"data"`
	}{ev.Action, ev.At.UTC().Format(time.RFC3339), notice, webhookKey{
		ID: k.ID, WorkspaceID: k.WorkspaceID, Name: k.Name, Type: k.Type, Environment: k.Environment,
		Owner: k.Owner, ExpiresAt: k.ExpiresAt, RevokedAt: k.RevokedAt, DisabledAt: k.DisabledAt}})
	if err != nil {
		return nil, err
	}
	at := ev.At
	return &WebhookDelivery{ID: ev.ID, WorkspaceID: k.WorkspaceID, KeyID: k.ID, URL: k.CallbackURL,
		Type: ev.Action, Payload: body, CreatedAt: at, NextAttemptAt: &at}, nil
}

// dataStrings reads a list of strings from event data, as written ([]string)
// or as read back from JSON ([]any).
func dataStrings(v any) []string {
	switch v := v.(type) {
	case []string:
		return v
	case []any:
		var out []string
		for _, x := range v {
			if s, ok := x.(string); ok {
				out = append(out, s)
			}
		}
		return out
	}
	return nil
}

// WebhookSecrets are a workspace's signing secrets: the current one, and
// for a while after a rotation the previous one, which signs alongside it
// until PreviousUntil so that receivers can switch without a gap.
type WebhookSecrets struct {
	Current  string
	Previous string
	// PreviousUntil is when Previous stops signing; nil without one.
	PreviousUntil *time.Time
}

// Signing returns the secrets that sign a message sent at now: the
// current one, then the previous one while its overlap lasts.
func (s *WebhookSecrets) Signing(now time.Time) []string {
	list := []string{s.Current}
	if s.Previous != "" && s.PreviousUntil != nil && now.Before(*s.PreviousUntil) {
		list = append(list, s.Previous)
	}
	return list
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
	// ReleaseWebhook makes a claimed delivery due again at now, so that a
	// sender that stops before posting it hands it back at once instead of
	// holding it for its lease. Only the claim that set next_attempt_at to
	// claimedUntil is released: one that expired and was claimed again by
	// another sender is left alone. No error when nothing matched.
	ReleaseWebhook(ctx context.Context, id string, claimedUntil, now time.Time) error
	// WebhookSecret returns the workspace's signing secret, storing fresh
	// first when it has none (so it is generated lazily, once).
	WebhookSecret(ctx context.Context, workspaceID, fresh string) (string, error)
	// WebhookSecrets returns the workspace's current secret (stored from
	// fresh first, as WebhookSecret does) and the previous one with the
	// end of its overlap, if a rotation kept one.
	WebhookSecrets(ctx context.Context, workspaceID, fresh string) (*WebhookSecrets, error)
	// SetWebhookSecret replaces the workspace's signing secret and records
	// ev (which must not contain it) in one transaction. The secret it
	// replaces keeps signing until keepPreviousUntil; a time not after
	// ev.At drops it at once (a secret that leaked). Of two rotations within
	// one overlap, only the last replaced secret is kept.
	SetWebhookSecret(ctx context.Context, workspaceID, secret string, keepPreviousUntil time.Time, ev Event) error
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
