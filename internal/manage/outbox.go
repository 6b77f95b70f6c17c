package manage

import (
	"context"

	"github.com/latchkey/latchkey"
)

// Mails lists ws's outbox, newest first: the notices sent, or waiting to
// be sent when no SMTP server is configured.
func (s *Service) Mails(ctx context.Context, p latchkey.Principal, ws string, limit int, cursor string) ([]*latchkey.Mail, string, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActOutboxRead); err != nil {
		return nil, "", err
	}
	if limit < 0 || limit > 200 {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "limit must be between 1 and 200").WithDetail("field", "limit")
	}
	return s.store.Mails(ctx, ws, limit, cursor)
}
