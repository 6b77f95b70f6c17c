package client

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// WebhookTolerance is how far a webhook's timestamp may be from the
// receiver's clock: older messages are refused as replays.
const WebhookTolerance = 5 * time.Minute

// Errors of VerifyWebhook, matched with errors.Is. Answer any of them with
// a 4xx and do not act on the message.
var (
	// ErrWebhookMalformed: a header is missing or unreadable, or the body
	// is not a latchkey event.
	ErrWebhookMalformed = errors.New("latchkey: webhook: malformed message")
	// ErrWebhookSignature: no signature of the message was made with the
	// secret.
	ErrWebhookSignature = errors.New("latchkey: webhook: no valid signature")
	// ErrWebhookTimestamp: the message was signed more than
	// WebhookTolerance away from now: a replay, or a clock far off.
	ErrWebhookTimestamp = errors.New("latchkey: webhook: timestamp outside the tolerance")
)

// WebhookEvent is what latchkey tells a key's callback URL: Type is
// key.expiring, key.expired, key.revoked, key.reset, key.deleted,
// key.disabled or key.enabled.
type WebhookEvent struct {
	// ID is the message's webhook-id: the same on every retry of one
	// event, so receivers deduplicate on it.
	ID        string         `json:"-"`
	Type      string         `json:"type"`
	Timestamp time.Time      `json:"timestamp"`
	Notice    *WebhookNotice `json:"notice,omitempty"` // key.expiring only
	Key       WebhookKey     `json:"data"`
}

// WebhookNotice is the notice window a key.expiring event reports: the
// window the key entered, and every window this one message stands for.
type WebhookNotice struct {
	Window  string   `json:"window"`
	Windows []string `json:"windows"`
}

// WebhookKey is the key an event is about, without any secret.
type WebhookKey struct {
	ID          string               `json:"id"`
	WorkspaceID string               `json:"workspace_id"`
	Name        string               `json:"name"`
	Type        string               `json:"type"`
	Environment latchkey.Environment `json:"environment"`
	Owner       string               `json:"owner"`
	ExpiresAt   *time.Time           `json:"expires_at"`
	RevokedAt   *time.Time           `json:"revoked_at"`
	DisabledAt  *time.Time           `json:"disabled_at"`
}

// VerifyWebhook checks a webhook latchkey sent and returns its event. It
// follows Standard Webhooks: secret is the workspace's signing secret
// ("whsec_" and base64, shown in the console's workspace settings); header
// holds webhook-id, webhook-timestamp and webhook-signature; body is the
// raw request body, read before any JSON decoding. The signature header
// may hold several signatures separated by spaces (latchkey signs with the
// old and the new secret while a rotation overlaps): one made with secret
// is enough. Signatures are compared in constant time, and a timestamp
// more than WebhookTolerance from now is refused.
func VerifyWebhook(secret string, header http.Header, body []byte) (*WebhookEvent, error) {
	return verifyWebhook(secret, header, body, time.Now())
}

func verifyWebhook(secret string, header http.Header, body []byte, now time.Time) (*WebhookEvent, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, latchkey.WebhookSecretPrefix))
	if err != nil || len(key) == 0 {
		// Never the secret itself.
		return nil, errors.New("latchkey: webhook: the secret is not whsec_ and base64")
	}
	id, ts, sigs := header.Get("webhook-id"), header.Get("webhook-timestamp"), header.Get("webhook-signature")
	if id == "" || ts == "" || sigs == "" {
		return nil, fmt.Errorf("%w: want the webhook-id, webhook-timestamp and webhook-signature headers", ErrWebhookMalformed)
	}
	secs, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return nil, fmt.Errorf("%w: webhook-timestamp is not whole seconds", ErrWebhookMalformed)
	}
	if at := time.Unix(secs, 0); at.Before(now.Add(-WebhookTolerance)) || at.After(now.Add(WebhookTolerance)) {
		return nil, ErrWebhookTimestamp
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "."))
	mac.Write(body)
	want := mac.Sum(nil)
	valid := false
	for _, s := range strings.Fields(sigs) {
		version, sig, ok := strings.Cut(s, ",")
		if !ok || version != "v1" {
			continue // another scheme (v1a: asymmetric) or noise
		}
		got, err := base64.StdEncoding.DecodeString(sig)
		// Go on through every signature: the time taken does not tell
		// which one matched.
		if err == nil && hmac.Equal(got, want) {
			valid = true
		}
	}
	if !valid {
		return nil, ErrWebhookSignature
	}
	var ev WebhookEvent
	if err := json.Unmarshal(body, &ev); err != nil || ev.Type == "" {
		return nil, fmt.Errorf("%w: the body is not a latchkey event", ErrWebhookMalformed)
	}
	ev.ID = id
	return &ev, nil
}
