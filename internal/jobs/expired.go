package jobs

import (
	"context"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// expired records key.expired once per key and expiry, for the audit log
// and the key's webhook. It reuses the notice record with window 0, so the
// store's uniqueness makes it once-only across racing instances, and it
// runs before deletions so a key deleted at its expiry is reported first.
func (r *Runner) expired(ctx context.Context, ws *latchkey.Workspace) error {
	now := r.cfg.Now()
	for {
		keys, err := r.cfg.Store.ExpiredKeys(ctx, ws.ID, now, batch)
		if err != nil {
			return err
		}
		for _, k := range keys {
			n := latchkey.Notice{KeyID: k.ID, WorkspaceID: ws.ID, Window: 0, ExpiresAt: *k.ExpiresAt, At: now}
			ev := latchkey.Event{ID: r.ids.New(id.Event), WorkspaceID: ws.ID, At: now,
				Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventKeyExpired, Target: k.ID,
				Data: map[string]any{"name": k.Name, "expires_at": k.ExpiresAt.Format(time.RFC3339)}}
			switch err := r.cfg.Store.RecordNotice(ctx, n, nil, ev); latchkey.ErrorCode(err) {
			case "", latchkey.ECONFLICT, latchkey.ENOTFOUND:
				// Recorded, or by another instance, or the key is gone.
			default:
				return err
			}
		}
		if len(keys) < batch {
			return nil
		}
	}
}
