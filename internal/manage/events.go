package manage

import (
	"context"

	"github.com/latchkey/latchkey"
)

// Events lists ws's audit log for p, newest first.
func (s *Service) Events(ctx context.Context, p latchkey.Principal, ws string, f latchkey.EventFilter) ([]*latchkey.Event, string, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActEventsRead); err != nil {
		return nil, "", err
	}
	if f.Limit < 0 || f.Limit > 200 {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "limit must be between 1 and 200").WithDetail("field", "limit")
	}
	f.WorkspaceID = ws
	return s.store.Events(ctx, f)
}

// Settings returns ws's settings.
func (s *Service) Settings(ctx context.Context, p latchkey.Principal, ws string) (*latchkey.Settings, error) {
	w, err := s.workspace(ctx, p, ws, latchkey.ActSettingsRead)
	if err != nil {
		return nil, err
	}
	return &w.Settings, nil
}
