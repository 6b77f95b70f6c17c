package manage

import (
	"context"
	"strconv"
	"time"

	"github.com/latchkey/latchkey"
)

// WebhookSecret returns the workspace's webhook signing secret, generating
// it on first use. Only owners and super admins may read it: with it,
// anyone could forge the workspace's webhooks.
func (s *Service) WebhookSecret(ctx context.Context, p latchkey.Principal, ws string) (string, error) {
	if err := latchkey.Authorize(p, latchkey.ActWebhookSecretRead, latchkey.Target{WorkspaceID: ws}); err != nil {
		return "", err
	}
	fresh, err := latchkey.NewWebhookSecret(s.rand)
	if err != nil {
		return "", err
	}
	return s.store.WebhookSecret(ctx, ws, fresh)
}

// WebhookSecretOverlap is how long, by default, the secret a rotation
// replaces keeps signing webhooks alongside the new one: a day for
// receivers to deploy the new secret without refusing a delivery.
const WebhookSecretOverlap = latchkey.Day

// MaxWebhookSecretOverlap bounds the overlap a rotation may ask for.
const MaxWebhookSecretOverlap = 7 * latchkey.Day

// WebhookSecretInfo is the workspace's signing secret as the API shows it,
// with when the secret it replaced stops signing (nil when none does).
type WebhookSecretInfo struct {
	Secret                   string     `json:"secret"`
	PreviousSecretValidUntil *time.Time `json:"previous_secret_valid_until"`
}

// RotateWebhookSecret replaces the workspace's signing secret and returns
// the new one; the replaced one signs alongside it for
// WebhookSecretOverlap.
func (s *Service) RotateWebhookSecret(ctx context.Context, p latchkey.Principal, ws string) (string, error) {
	info, err := s.RotateWebhookSecretKeeping(ctx, p, ws, time.Duration(WebhookSecretOverlap))
	if err != nil {
		return "", err
	}
	return info.Secret, nil
}

// RotateWebhookSecretKeeping replaces the workspace's signing secret and
// returns the new one. Webhooks sent from now on, retries of queued ones
// included, carry a signature with each: the new secret, and the replaced
// one for overlap (zero drops it at once, for a secret that leaked). The
// event records the rotation and the overlap, never a secret.
func (s *Service) RotateWebhookSecretKeeping(ctx context.Context, p latchkey.Principal, ws string, overlap time.Duration) (*WebhookSecretInfo, error) {
	if err := latchkey.Authorize(p, latchkey.ActSettingsWrite, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	if err := latchkey.Authorize(p, latchkey.ActWebhookSecretRead, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	if overlap < 0 || overlap > time.Duration(MaxWebhookSecretOverlap) {
		return nil, latchkey.Errorf(latchkey.EINVALID, "the previous secret may stay valid for 0 to %s", MaxWebhookSecretOverlap).
			WithDetail("field", "previous_secret_valid_for")
	}
	secret, err := latchkey.NewWebhookSecret(s.rand)
	if err != nil {
		return nil, err
	}
	// A workspace whose secret was never generated gets one first, so
	// that every rotation has a replaced secret and the answer says true.
	if _, err := s.store.WebhookSecret(ctx, ws, secret); err != nil {
		return nil, err
	}
	if secret, err = latchkey.NewWebhookSecret(s.rand); err != nil {
		return nil, err
	}
	ev := s.event(p, ws, latchkey.EventWebhookSecretRotated, ws, map[string]any{"previous_secret_valid_for": latchkey.Duration(overlap).String()})
	until := ev.At.Add(overlap)
	if err := s.store.SetWebhookSecret(ctx, ws, secret, until, ev); err != nil {
		return nil, err
	}
	info := &WebhookSecretInfo{Secret: secret}
	if overlap > 0 {
		info.PreviousSecretValidUntil = &until
	}
	return info, nil
}

// WebhookDelivery is a delivery with its attempt log, as the outbox shows it.
type WebhookDelivery struct {
	*latchkey.WebhookDelivery
	Log []*latchkey.WebhookAttempt `json:"attempts_log"`
}

// WebhookDeliveries lists ws's latest webhook deliveries (at most limit,
// newest first) with every attempt: status code, error and duration.
func (s *Service) WebhookDeliveries(ctx context.Context, p latchkey.Principal, ws string, limit int) ([]WebhookDelivery, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActOutboxRead); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 200 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "limit must be between 1 and 200").WithDetail("field", "limit")
	}
	list, _, err := s.store.WebhookDeliveries(ctx, ws, limit, "")
	if err != nil {
		return nil, err
	}
	out := make([]WebhookDelivery, 0, len(list))
	for _, d := range list {
		log, err := s.store.WebhookAttempts(ctx, d.ID)
		if err != nil {
			return nil, err
		}
		// What is shown is derived from the status alone, whatever an
		// older version stored: a receiver's answer is never shown, and no
		// failure to connect is told from another.
		for _, a := range log {
			a.Error = attemptError(a.StatusCode, a.Error != "")
		}
		if d.LastError != "" {
			d.LastError = "no answer"
			if n := len(log); n > 0 {
				d.LastError = attemptError(log[n-1].StatusCode, true)
			}
		}
		out = append(out, WebhookDelivery{WebhookDelivery: d, Log: log})
	}
	return out, nil
}

// attemptError is how a failed attempt reads: its HTTP status, or "no
// answer" when none came.
func attemptError(status int, failed bool) string {
	switch {
	case !failed:
		return ""
	case status == 0:
		return "no answer"
	}
	return "HTTP " + strconv.Itoa(status)
}
