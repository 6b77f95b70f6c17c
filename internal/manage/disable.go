package manage

import (
	"context"

	"github.com/latchkey/latchkey"
)

// DisableKey suspends a key: verification answers key_disabled, on every
// instance, until EnableKey. Whoever may revoke the key may disable it.
// Disabling a disabled key changes nothing and succeeds; a revoked key is
// a conflict (it is stopped for good already).
func (s *Service) DisableKey(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error) {
	return s.switchKey(ctx, p, ws, keyID, true)
}

// EnableKey resumes a disabled key. Enabling an enabled key changes
// nothing and succeeds; a revoked key cannot be resumed (a conflict).
func (s *Service) EnableKey(ctx context.Context, p latchkey.Principal, ws, keyID string) (*latchkey.Key, error) {
	return s.switchKey(ctx, p, ws, keyID, false)
}

func (s *Service) switchKey(ctx context.Context, p latchkey.Principal, ws, keyID string, disable bool) (*latchkey.Key, error) {
	if _, err := s.authorizedKey(ctx, p, ws, keyID, latchkey.ActKeyDisable); err != nil {
		return nil, err
	}
	// Through the normal key update: the row changes, so PostgreSQL's
	// trigger tells every instance, and this one forgets the key below.
	k, err := s.store.UpdateKey(ctx, ws, keyID, func(k *latchkey.Key) (*latchkey.Event, error) {
		if k.RevokedAt != nil {
			return nil, latchkey.Errorf(latchkey.ECONFLICT, "the key is revoked: it is stopped for good")
		}
		if (k.DisabledAt != nil) == disable {
			return nil, nil
		}
		action := latchkey.EventKeyEnabled
		if disable {
			now := s.Now()
			k.DisabledAt, k.DisabledBy, action = &now, p.Actor().ID, latchkey.EventKeyDisabled
		} else {
			k.DisabledAt, k.DisabledBy = nil, ""
		}
		ev := s.event(p, ws, action, k.ID, map[string]any{"name": k.Name})
		return &ev, nil
	})
	if err != nil {
		return nil, err
	}
	s.invalidateKey(keyID)
	return k, s.showShared(ctx, ws, k)
}
