package manage

import (
	"context"
	"strconv"

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

// RotateWebhookSecret replaces the workspace's signing secret and returns
// the new one; webhooks sent from now on are signed with it. The event
// records the rotation, never the secret.
func (s *Service) RotateWebhookSecret(ctx context.Context, p latchkey.Principal, ws string) (string, error) {
	if err := latchkey.Authorize(p, latchkey.ActSettingsWrite, latchkey.Target{WorkspaceID: ws}); err != nil {
		return "", err
	}
	if err := latchkey.Authorize(p, latchkey.ActWebhookSecretRead, latchkey.Target{WorkspaceID: ws}); err != nil {
		return "", err
	}
	secret, err := latchkey.NewWebhookSecret(s.rand)
	if err != nil {
		return "", err
	}
	ev := s.event(p, ws, latchkey.EventWebhookSecretRotated, ws, nil)
	if err := s.store.SetWebhookSecret(ctx, ws, secret, ev); err != nil {
		return "", err
	}
	return secret, nil
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
