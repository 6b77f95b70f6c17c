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

// EventHead returns the head of ws's audit chain, for p to keep elsewhere:
// a head kept outside latchkey lets its holder tell later whether the log
// up to it was changed.
func (s *Service) EventHead(ctx context.Context, p latchkey.Principal, ws string) (latchkey.ChainHead, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActEventsRead); err != nil {
		return latchkey.ChainHead{}, err
	}
	return s.store.ChainHead(ctx, ws)
}

// ExportEvents calls fn with every event of ws matching f, in chain order,
// for p; f's cursor and limit are ignored.
func (s *Service) ExportEvents(ctx context.Context, p latchkey.Principal, ws string, f latchkey.EventFilter, fn func(*latchkey.Event) error) error {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActEventsRead); err != nil {
		return err
	}
	f.WorkspaceID, f.Cursor, f.Limit = ws, "", 0
	return s.store.EachEvent(ctx, f, fn)
}
