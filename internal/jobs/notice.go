package jobs

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// notices sends the workspace's due expiry notices. Windows go narrowest
// first: a key that is inside several windows at once (created with a
// short lifetime, or the service was down) gets one mail about its
// nearest expiry, and the wider windows are recorded without a mail.
func (r *Runner) notices(ctx context.Context, ws *latchkey.Workspace) error {
	windows := slices.Clone(ws.Settings.Expiration.NoticeBefore)
	slices.Sort(windows)
	if len(windows) == 0 {
		return nil
	}
	members, err := r.cfg.Store.Members(ctx, ws.ID)
	if err != nil {
		return err
	}
	now := r.cfg.Now()
	mailed := map[string]bool{}
	for _, w := range windows {
		for {
			keys, err := r.cfg.Store.ExpiringKeys(ctx, ws.ID, now, w, batch)
			if err != nil {
				return err
			}
			for _, k := range keys {
				var mails []*latchkey.Mail
				if !mailed[k.ID] {
					mails = r.mails(ws, k, recipients(members, k), now)
				}
				n := latchkey.Notice{KeyID: k.ID, WorkspaceID: ws.ID, Window: w, ExpiresAt: *k.ExpiresAt, At: now}
				ev := latchkey.Event{ID: r.ids.New(id.Event), WorkspaceID: ws.ID, At: now,
					Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventKeyExpiring, Target: k.ID,
					Data: map[string]any{"window": w.String(), "expires_at": k.ExpiresAt.Format(time.RFC3339), "mails": len(mails)}}
				switch err := r.cfg.Store.RecordNotice(ctx, n, mails, ev); latchkey.ErrorCode(err) {
				case "", latchkey.ECONFLICT, latchkey.ENOTFOUND:
					// Sent, or sent by another instance, or the key is gone.
				default:
					return err
				}
				mailed[k.ID] = true
			}
			if len(keys) < batch {
				break
			}
		}
	}
	return nil
}

// recipients are the workspace's active owners and super admins and the
// key's creator while an active member, each address once.
func recipients(members []*latchkey.Member, k *latchkey.Key) []string {
	var to []string
	for _, m := range members {
		if !m.Active || m.Email == "" {
			continue
		}
		if m.Role == latchkey.RoleOwner || m.Role == latchkey.RoleSuperAdmin || m.UserID == k.CreatedBy {
			if e := strings.ToLower(m.Email); !slices.Contains(to, e) {
				to = append(to, e)
			}
		}
	}
	return to
}

// mails are one expiry notice per recipient: which key, when it expires,
// and how to rotate it.
func (r *Runner) mails(ws *latchkey.Workspace, k *latchkey.Key, to []string, now time.Time) []*latchkey.Mail {
	left := k.ExpiresAt.Sub(now)
	in := fmt.Sprintf("%d days", int(left/latchkey.Day))
	if left < 2*latchkey.Day {
		in = left.Round(time.Minute).String()
	}
	subject := fmt.Sprintf("API key %q expires in %s", k.Name, in)
	var b strings.Builder
	fmt.Fprintf(&b, "The API key %q (%s, %s) of the workspace %q expires on %s, in %s.\n\n",
		k.Name, k.ID, k.Environment, ws.Name, k.ExpiresAt.UTC().Format("Monday 2 January 2006 at 15:04 UTC"), in)
	fmt.Fprintf(&b, "After that, every request made with it is refused (key_expired).\n\n")
	fmt.Fprintf(&b, "To rotate it, reset the key to get a new secret (optionally keeping the old one working\n")
	fmt.Fprintf(&b, "for a grace period while you deploy the new one):\n")
	if r.cfg.BaseURL != "" {
		fmt.Fprintf(&b, "  in the console: %s/w/%s/keys/%s/reset\n", strings.TrimRight(r.cfg.BaseURL, "/"), ws.ID, k.ID)
	}
	fmt.Fprintf(&b, "  over the API:   POST /v1/workspaces/%s/keys/%s/reset\n", ws.ID, k.ID)
	list := make([]*latchkey.Mail, 0, len(to))
	for _, addr := range to {
		list = append(list, &latchkey.Mail{ID: r.ids.New(id.Mail), WorkspaceID: ws.ID, To: addr,
			Subject: subject, Body: b.String(), CreatedAt: now})
	}
	return list
}
