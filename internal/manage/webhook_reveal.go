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

// RevealWebhookSecretInfo is RevealWebhookSecret with when the previous
// secret, kept by a rotation, stops signing. The previous secret itself is
// never shown again: its holders have it already.
func (s *Service) RevealWebhookSecretInfo(ctx context.Context, p latchkey.Principal, ws string) (*WebhookSecretInfo, error) {
	if err := latchkey.Authorize(p, latchkey.ActWebhookSecretRead, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	fresh, err := latchkey.NewWebhookSecret(s.rand)
	if err != nil {
		return nil, err
	}
	secrets, err := s.store.WebhookSecrets(ctx, ws, fresh)
	if err != nil {
		return nil, err
	}
	if err := s.store.AppendEvent(ctx, s.event(p, ws, latchkey.EventWebhookSecretRevealed, ws, nil)); err != nil {
		return nil, err
	}
	info := &WebhookSecretInfo{Secret: secrets.Current}
	if secrets.PreviousUntil != nil && s.Now().Before(*secrets.PreviousUntil) {
		info.PreviousSecretValidUntil = secrets.PreviousUntil
	}
	return info, nil
}
