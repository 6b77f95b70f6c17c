package jobs

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// digestKeys bounds how many keys one digest lists (and one transaction
// records): a backlog larger than that becomes several digests in the
// same tick rather than one transaction that holds the writer for long.
const digestKeys = 500

// notices records the workspace's due expiry notices and mails each
// recipient one digest listing the keys noticed, however many keys entered
// a window since the last tick: a member who makes two hundred short-lived
// keys costs each owner one mail per tick, not two hundred.
//
// A window the key was created inside is skipped: a 30-day key under a
// 30-day window is noticed by the narrower windows only, if any.
//
// Every (key, window) pair due is recorded with its key.expiring event and
// webhook, but a key inside several windows at once (created with a short
// lifetime, or the service was down) is listed once. The notices, events
// and digests are written in one transaction, so a crash neither loses nor
// repeats a mail, and racing runners skip what the other recorded.
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
	for {
		var due []latchkey.Notice
		keys := map[string]*latchkey.Key{}
		more := false
		for _, w := range windows {
			list, err := r.cfg.Store.ExpiringKeys(ctx, ws.ID, now, w, digestKeys)
			if err != nil {
				return err
			}
			more = more || len(list) == digestKeys
			for _, k := range list {
				if k.CreatedInside(time.Duration(w)) {
					// Its owners knew the expiry when they made it:
					// a notice for this window would tell them nothing.
					continue
				}
				keys[k.ID] = k
				due = append(due, latchkey.Notice{KeyID: k.ID, WorkspaceID: ws.ID, Window: w, ExpiresAt: *k.ExpiresAt, At: now})
			}
		}
		if len(due) == 0 {
			return nil
		}
		event := func(n latchkey.Notice) latchkey.Event {
			return latchkey.Event{ID: r.ids.New(id.Event), WorkspaceID: ws.ID, At: now,
				Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventKeyExpiring, Target: n.KeyID,
				Data: map[string]any{"window": n.Window.String(), "expires_at": n.ExpiresAt.Format(time.RFC3339)}}
		}
		digests := func(recorded []latchkey.Notice) []*latchkey.Mail {
			var noticed []*latchkey.Key
			for _, n := range recorded {
				if k := keys[n.KeyID]; !slices.Contains(noticed, k) {
					noticed = append(noticed, k)
				}
			}
			return r.digests(ws, members, noticed, now)
		}
		recorded, err := r.cfg.Store.RecordNotices(ctx, due, event, digests)
		if err != nil {
			return err
		}
		if !more || len(recorded) == 0 {
			// Done, or what is left was recorded by another runner or
			// changed meanwhile: the next tick looks again.
			return nil
		}
	}
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

// Subject is the subject of an expiry digest about n keys. It holds no
// text a tenant chose (key or workspace names): a subject is what a
// phisher would write, and mail clients show it before anything else.
func Subject(n int) string {
	if n == 1 {
		return "latchkey: an API key expires soon"
	}
	return "latchkey: " + strconv.Itoa(n) + " API keys expire soon"
}

// digests are one mail per recipient listing the keys of keys they are
// told about (soonest expiry first): when each expires and how to rotate
// it. Names chosen by the workspace's members appear only in the body,
// quoted with Go's escaping, so that control characters, line breaks and
// bidirectional overrides show as escapes rather than acting.
func (r *Runner) digests(ws *latchkey.Workspace, members []*latchkey.Member, keys []*latchkey.Key, now time.Time) []*latchkey.Mail {
	slices.SortFunc(keys, func(a, b *latchkey.Key) int {
		if c := a.ExpiresAt.Compare(*b.ExpiresAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	perRecipient := map[string][]*latchkey.Key{}
	var order []string
	for _, k := range keys {
		for _, addr := range recipients(members, k) {
			if _, ok := perRecipient[addr]; !ok {
				order = append(order, addr)
			}
			perRecipient[addr] = append(perRecipient[addr], k)
		}
	}
	base := strings.TrimRight(r.cfg.BaseURL, "/")
	list := make([]*latchkey.Mail, 0, len(order))
	for _, addr := range order {
		ks := perRecipient[addr]
		var b strings.Builder
		if len(ks) == 1 {
			fmt.Fprintf(&b, "An API key of the workspace %s (%s) expires soon:\n\n", quote(ws.Name), ws.ID)
		} else {
			fmt.Fprintf(&b, "%d API keys of the workspace %s (%s) expire soon:\n\n", len(ks), quote(ws.Name), ws.ID)
		}
		for _, k := range ks {
			fmt.Fprintf(&b, "- key %s, %s, named %s\n", k.ID, k.Environment, quote(k.Name))
			fmt.Fprintf(&b, "  expires on %s, in %s\n", k.ExpiresAt.UTC().Format("Monday 2 January 2006 at 15:04 UTC"), left(k.ExpiresAt.Sub(now)))
			if base != "" {
				fmt.Fprintf(&b, "  reset in the console: %s/w/%s/keys/%s/reset\n", base, ws.ID, k.ID)
			}
			fmt.Fprintf(&b, "  reset over the API:   POST /v1/workspaces/%s/keys/%s/reset\n\n", ws.ID, k.ID)
		}
		fmt.Fprintf(&b, "After its expiry, every request made with a key is refused\n")
		fmt.Fprintf(&b, "(key_expired). Resetting a key gives it a new secret, optionally\n")
		fmt.Fprintf(&b, "keeping the old one working for a grace period while you deploy it.\n\n")
		fmt.Fprintf(&b, "Key names are chosen by your workspace's members and are quoted\n")
		fmt.Fprintf(&b, "above as written: latchkey never asks you to sign in through a\n")
		fmt.Fprintf(&b, "link in a key's name.\n")
		list = append(list, &latchkey.Mail{ID: r.ids.New(id.Mail), WorkspaceID: ws.ID, To: addr,
			Subject: Subject(len(ks)), Body: b.String(), CreatedAt: now})
	}
	return list
}

// quote writes a tenant-chosen name as a Go string literal: in quotes, with
// control and format characters (CR, LF, NUL, U+202E…) escaped.
func quote(s string) string {
	return strconv.Quote(s)
}

// left says how long until an expiry as people say it: "29 days",
// "1 hour", "3 hours 20 minutes".
func left(d time.Duration) string { return latchkey.Spell(d) }
