package manage

import (
	"context"

	"github.com/latchkey/latchkey"
)

// RevealWebhookSecret returns the workspace's webhook signing secret to
// show it to p, and records in the workspace's audit log who saw it and
// from where: whoever holds it can forge the workspace's webhooks. The
// secret is not returned when the event cannot be recorded.
func (s *Service) RevealWebhookSecret(ctx context.Context, p latchkey.Principal, ws string) (string, error) {
	secret, err := s.WebhookSecret(ctx, p, ws)
	if err != nil {
		return "", err
	}
	if err := s.store.AppendEvent(ctx, s.event(p, ws, latchkey.EventWebhookSecretRevealed, ws, nil)); err != nil {
		return "", err
	}
	return secret, nil
}
