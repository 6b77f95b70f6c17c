package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

func keyIDs(keys []*latchkey.Key) []string {
	ids := []string{}
	for _, k := range keys {
		ids = append(ids, k.ID)
	}
	return ids
}

func (f *fixture) mail(workspaceID, to string) *latchkey.Mail {
	return &latchkey.Mail{ID: f.ids.New(id.Mail), WorkspaceID: workspaceID, To: to,
		Subject: "Key expires", Body: "Rotate it.", CreatedAt: now}
}

func (f *fixture) systemEvent(workspaceID, action, target string) latchkey.Event {
	ev := f.event(workspaceID, action, target)
	ev.Actor, ev.IP = latchkey.Actor{Type: latchkey.ActorSystem}, ""
	return ev
}

func testLifecycle(t *testing.T, open func(t *testing.T) latchkey.Store) {
	const window = latchkey.Duration(30 * latchkey.Day)
	t.Run("ExpiringKeysAndNotices", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		other, _ := f.workspace("B", "b@example.com")
		in := f.key(ws.ID, "in", func(k *latchkey.Key) {
			k.ExpiresAt, k.CreatedAt = ptr(now.Add(10*latchkey.Day)), now.Add(-60*latchkey.Day)
		})
		edge := f.key(ws.ID, "edge", func(k *latchkey.Key) {
			k.ExpiresAt, k.CreatedAt = ptr(now.Add(30*latchkey.Day)), now.Add(-60*latchkey.Day)
		})
		f.key(ws.ID, "later", func(k *latchkey.Key) {
			k.ExpiresAt, k.CreatedAt = ptr(now.Add(31*latchkey.Day)), now.Add(-60*latchkey.Day)
		})
		f.key(ws.ID, "expired", func(k *latchkey.Key) { k.ExpiresAt = ptr(now) })
		f.key(ws.ID, "never", func(k *latchkey.Key) { k.ExpiresAt = nil })
		f.key(ws.ID, "revoked", func(k *latchkey.Key) {
			k.ExpiresAt, k.RevokedAt = ptr(now.Add(5*latchkey.Day)), ptr(now)
		})
		// Made inside the window: its expiry is no news, never listed.
		f.key(ws.ID, "fresh", func(k *latchkey.Key) { k.ExpiresAt = ptr(now.Add(10 * latchkey.Day)) })
		f.key(other.ID, "other", func(k *latchkey.Key) {
			k.ExpiresAt, k.CreatedAt = ptr(now.Add(5*latchkey.Day)), now.Add(-60*latchkey.Day)
		})

		got, err := f.s.ExpiringKeys(f.ctx, ws.ID, now, window, 10)
		wantCode(t, "ExpiringKeys", err, "")
		if ids, want := keyIDs(got), []string{in.ID, edge.ID}; !slices.Equal(ids, want) {
			t.Fatalf("ExpiringKeys: got %v, want %v", ids, want)
		}

		n := latchkey.Notice{KeyID: in.ID, WorkspaceID: ws.ID, Window: window, ExpiresAt: *in.ExpiresAt, At: now}
		mails := []*latchkey.Mail{f.mail(ws.ID, "a@example.com"), f.mail(ws.ID, "c@example.com")}
		err = f.s.RecordNotice(f.ctx, n, mails, f.systemEvent(ws.ID, latchkey.EventKeyExpiring, in.ID))
		wantCode(t, "RecordNotice", err, "")
		err = f.s.RecordNotice(f.ctx, n, []*latchkey.Mail{f.mail(ws.ID, "x@example.com")},
			f.systemEvent(ws.ID, latchkey.EventKeyExpiring, in.ID))
		wantCode(t, "RecordNotice again", err, latchkey.ECONFLICT)
		list, _, err := f.s.Mails(f.ctx, ws.ID, 10, "")
		wantCode(t, "Mails", err, "")
		if len(list) != 2 {
			t.Fatalf("Mails after a repeated notice: got %d, want 2 (the repeat writes nothing)", len(list))
		}
		if evs := f.eventsFor(ws.ID, in.ID); !slices.Equal(evs, []string{latchkey.EventKeyExpiring, latchkey.EventKeyCreated}) {
			t.Fatalf("events: got %v, want [key.expiring key.created]", evs)
		}

		got, err = f.s.ExpiringKeys(f.ctx, ws.ID, now, window, 10)
		wantCode(t, "ExpiringKeys", err, "")
		if ids := keyIDs(got); !slices.Equal(ids, []string{edge.ID}) {
			t.Fatalf("ExpiringKeys after a notice: got %v, want [%s]", ids, edge.ID)
		}
		// Another window of the same key is another notice.
		got, err = f.s.ExpiringKeys(f.ctx, ws.ID, now, latchkey.Duration(15*latchkey.Day), 10)
		wantCode(t, "ExpiringKeys 15d", err, "")
		if ids := keyIDs(got); !slices.Equal(ids, []string{in.ID}) {
			t.Fatalf("ExpiringKeys 15d: got %v, want [%s]", ids, in.ID)
		}
		// A renewed key is noticed again for its new expiry.
		_, err = f.s.UpdateKey(f.ctx, ws.ID, in.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.ExpiresAt, k.CreatedAt = ptr(now.Add(20*latchkey.Day)), now.Add(-60*latchkey.Day)
			ev := f.event(ws.ID, latchkey.EventKeyReset, k.ID)
			return &ev, nil
		})
		wantCode(t, "UpdateKey", err, "")
		got, err = f.s.ExpiringKeys(f.ctx, ws.ID, now, window, 10)
		wantCode(t, "ExpiringKeys", err, "")
		if ids := keyIDs(got); !slices.Equal(ids, []string{in.ID, edge.ID}) {
			t.Fatalf("ExpiringKeys after renewal: got %v, want [%s %s]", ids, in.ID, edge.ID)
		}

		n.KeyID = f.ids.New(id.Key)
		err = f.s.RecordNotice(f.ctx, n, nil, f.systemEvent(ws.ID, latchkey.EventKeyExpiring, n.KeyID))
		wantCode(t, "RecordNotice of a missing key", err, latchkey.ENOTFOUND)
	})

	t.Run("RecordNoticesWithOneDigest", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		other, _ := f.workspace("B", "b@example.com")
		a := f.key(ws.ID, "a", func(k *latchkey.Key) { k.ExpiresAt = ptr(now.Add(10 * latchkey.Day)) })
		b := f.key(ws.ID, "b", func(k *latchkey.Key) {
			k.ExpiresAt, k.CallbackURL = ptr(now.Add(20*latchkey.Day)), "https://hooks.example.com/b"
		})
		revoked := f.key(ws.ID, "revoked", func(k *latchkey.Key) {
			k.ExpiresAt, k.RevokedAt = ptr(now.Add(5*latchkey.Day)), ptr(now)
		})
		theirs := f.key(other.ID, "theirs", func(k *latchkey.Key) { k.ExpiresAt = ptr(now.Add(5 * latchkey.Day)) })
		notice := func(k *latchkey.Key, w latchkey.Duration, expires time.Time) latchkey.Notice {
			return latchkey.Notice{KeyID: k.ID, WorkspaceID: ws.ID, Window: w, ExpiresAt: expires, At: now}
		}
		week := latchkey.Duration(15 * latchkey.Day)
		notices := []latchkey.Notice{
			notice(a, week, *a.ExpiresAt),
			notice(a, window, *a.ExpiresAt),
			notice(b, window, *b.ExpiresAt),
			notice(revoked, window, *revoked.ExpiresAt),                                             // revoked since listed
			notice(b, week, b.ExpiresAt.Add(time.Hour)),                                             // its expiry changed
			notice(theirs, window, *theirs.ExpiresAt),                                               // another workspace's key
			{KeyID: f.ids.New(id.Key), WorkspaceID: ws.ID, Window: window, ExpiresAt: now, At: now}, // deleted
		}
		event := func(n latchkey.Notice) latchkey.Event {
			return f.systemEvent(ws.ID, latchkey.EventKeyExpiring, n.KeyID)
		}
		var told [][]latchkey.Notice
		digest := func(recorded []latchkey.Notice) []*latchkey.Mail {
			told = append(told, recorded)
			return []*latchkey.Mail{f.mail(ws.ID, "a@example.com"), f.mail(ws.ID, "c@example.com")}
		}
		got, err := f.s.RecordNotices(f.ctx, notices, event, digest)
		wantCode(t, "RecordNotices", err, "")
		if want := notices[:3]; !slices.Equal(got, want) || len(told) != 1 || !slices.Equal(told[0], want) {
			t.Fatalf("RecordNotices: got %v, digest of %v, want %v", got, told, want)
		}
		if list, _, _ := f.s.Mails(f.ctx, ws.ID, 10, ""); len(list) != 2 {
			t.Fatalf("Mails: got %d, want the 2 of the digest", len(list))
		}
		if evs := f.eventsFor(ws.ID, a.ID); !slices.Equal(evs, []string{latchkey.EventKeyExpiring, latchkey.EventKeyExpiring, latchkey.EventKeyCreated}) {
			t.Fatalf("events of a: got %v, want one key.expiring per window", evs)
		}
		if evs := f.eventsFor(ws.ID, revoked.ID); slices.Contains(evs, latchkey.EventKeyExpiring) {
			t.Fatalf("events of the revoked key: got %v, want no key.expiring", evs)
		}
		if evs := f.eventsFor(other.ID, theirs.ID); slices.Contains(evs, latchkey.EventKeyExpiring) {
			t.Fatalf("events of another workspace's key: got %v, want no key.expiring", evs)
		}
		if ds, _, _ := f.s.WebhookDeliveries(f.ctx, ws.ID, 10, ""); len(ds) != 1 || ds[0].KeyID != b.ID || ds[0].Type != latchkey.EventKeyExpiring {
			t.Fatalf("webhook deliveries: got %v, want b's key.expiring", ds)
		}
		if left, _ := f.s.ExpiringKeys(f.ctx, ws.ID, now, window, 10); len(left) != 0 {
			t.Fatalf("ExpiringKeys after RecordNotices: got %v, want none", keyIDs(left))
		}

		// A runner that lost the race records nothing and mails nothing.
		got, err = f.s.RecordNotices(f.ctx, notices, event, digest)
		wantCode(t, "RecordNotices again", err, "")
		if len(got) != 0 || len(told) != 1 {
			t.Fatalf("RecordNotices again: got %v and %d digests, want nothing new", got, len(told))
		}
		if list, _, _ := f.s.Mails(f.ctx, ws.ID, 10, ""); len(list) != 2 {
			t.Fatalf("Mails after the repeat: got %d, want still 2", len(list))
		}
	})

	t.Run("DeleteExpiredKeys", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		other, _ := f.workspace("B", "b@example.com")
		retention := 90 * latchkey.Day
		old := f.key(ws.ID, "old", func(k *latchkey.Key) { k.ExpiresAt = ptr(now.Add(-retention)) })
		f.key(ws.ID, "recent", func(k *latchkey.Key) { k.ExpiresAt = ptr(now.Add(-retention + time.Second)) })
		gone := f.key(ws.ID, "revoked long ago", func(k *latchkey.Key) {
			k.ExpiresAt, k.RevokedAt = ptr(now.Add(time.Hour)), ptr(now.Add(-retention))
		})
		f.key(ws.ID, "revoked lately", func(k *latchkey.Key) {
			k.ExpiresAt, k.RevokedAt = ptr(now.Add(-2*retention)), ptr(now.Add(-time.Hour))
		})
		f.key(ws.ID, "never", func(k *latchkey.Key) { k.ExpiresAt = nil })
		f.key(other.ID, "other", func(k *latchkey.Key) { k.ExpiresAt = ptr(now.Add(-2 * retention)) })

		event := func(k *latchkey.Key) latchkey.Event {
			ev := f.systemEvent("", latchkey.EventKeyDeleted, k.ID)
			ev.Data = map[string]any{"reason": "test"}
			return ev
		}
		var all []string
		for range 3 { // a batch of one at a time
			got, err := f.s.DeleteExpiredKeys(f.ctx, ws.ID, now.Add(-retention), now.Add(-retention), 1, event)
			wantCode(t, "DeleteExpiredKeys", err, "")
			all = append(all, keyIDs(got)...)
		}
		slices.Sort(all)
		want := []string{old.ID, gone.ID}
		slices.Sort(want)
		if !slices.Equal(all, want) {
			t.Fatalf("DeleteExpiredKeys: got %v, want %v", all, want)
		}
		for _, k := range []*latchkey.Key{old, gone} {
			_, err := f.s.Key(f.ctx, ws.ID, k.ID)
			wantCode(t, "Key after deletion", err, latchkey.ENOTFOUND)
			if evs := f.eventsFor(ws.ID, k.ID); len(evs) == 0 || evs[0] != latchkey.EventKeyDeleted {
				t.Fatalf("events of %s: got %v, want key.deleted first", k.Name, evs)
			}
		}
		keys, _, err := f.s.Keys(f.ctx, latchkey.KeyFilter{WorkspaceID: other.ID, Now: now})
		if err != nil || len(keys) != 1 {
			t.Fatalf("keys of another workspace: got %d (%v), want 1", len(keys), err)
		}
	})

	t.Run("Outbox", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		other, _ := f.workspace("B", "b@example.com")
		k := f.key(ws.ID, "k")
		var mails []*latchkey.Mail
		for range 3 {
			mails = append(mails, f.mail(ws.ID, "a@example.com"))
		}
		n := latchkey.Notice{KeyID: k.ID, WorkspaceID: ws.ID, Window: window, ExpiresAt: *k.ExpiresAt, At: now}
		wantCode(t, "RecordNotice", f.s.RecordNotice(f.ctx, n, mails, f.systemEvent(ws.ID, latchkey.EventKeyExpiring, k.ID)), "")

		page, next, err := f.s.Mails(f.ctx, ws.ID, 2, "")
		wantCode(t, "Mails", err, "")
		if len(page) != 2 || next == "" || page[0].ID != mails[2].ID {
			t.Fatalf("Mails page 1: got %d mails, next %q, want the 2 newest and a cursor", len(page), next)
		}
		want := *mails[0]
		want.NextAttemptAt = ptr(now)
		page, next, err = f.s.Mails(f.ctx, ws.ID, 2, next)
		wantCode(t, "Mails page 2", err, "")
		if len(page) != 1 || next != "" {
			t.Fatalf("Mails page 2: got %d mails, next %q, want 1 and no cursor", len(page), next)
		}
		wantSame(t, "Mails page 2", page[0], &want)
		if list, _, err := f.s.Mails(f.ctx, other.ID, 10, ""); err != nil || len(list) != 0 {
			t.Fatalf("Mails of another workspace: got %d (%v), want none", len(list), err)
		}
		_, _, err = f.s.Mails(f.ctx, ws.ID, 10, "!")
		wantCode(t, "Mails with a bad cursor", err, latchkey.EINVALID)

		claimed, err := f.s.ClaimMails(f.ctx, now, time.Minute, 2)
		wantCode(t, "ClaimMails", err, "")
		if len(claimed) != 2 {
			t.Fatalf("ClaimMails: got %d, want 2", len(claimed))
		}
		rest, err := f.s.ClaimMails(f.ctx, now, time.Minute, 10)
		wantCode(t, "ClaimMails again", err, "")
		if len(rest) != 1 {
			t.Fatalf("ClaimMails while the first are leased: got %d, want the 1 left", len(rest))
		}
		wantCode(t, "MarkMailSent", f.s.MarkMailSent(f.ctx, claimed[0].ID, now.Add(time.Second)), "")
		retry := now.Add(time.Hour)
		wantCode(t, "MarkMailFailed", f.s.MarkMailFailed(f.ctx, claimed[1].ID, "421 try later", &retry), "")
		wantCode(t, "MarkMailFailed (give up)", f.s.MarkMailFailed(f.ctx, rest[0].ID, "550 no such user", nil), "")
		wantCode(t, "MarkMailSent of a missing mail", f.s.MarkMailSent(f.ctx, f.ids.New(id.Mail), now), latchkey.ENOTFOUND)

		if due, err := f.s.ClaimMails(f.ctx, now.Add(59*time.Minute), time.Minute, 10); err != nil || len(due) != 0 {
			t.Fatalf("ClaimMails before the retry: got %d (%v), want none", len(due), err)
		}
		due, err := f.s.ClaimMails(f.ctx, retry, time.Minute, 10)
		if err != nil || len(due) != 1 || due[0].ID != claimed[1].ID || due[0].Attempts != 1 || due[0].LastError != "421 try later" {
			t.Fatalf("ClaimMails at the retry: got %v (%v), want the failed mail with 1 attempt", due, err)
		}
		all, _, _ := f.s.Mails(f.ctx, ws.ID, 10, "")
		for _, m := range all {
			if m.ID == claimed[0].ID && (m.SentAt == nil || !m.SentAt.Equal(now.Add(time.Second)) || m.NextAttemptAt != nil || m.Attempts != 1) {
				t.Fatalf("sent mail: got %+v, want sent_at set, attempts 1, nothing due", m)
			}
			if m.ID == rest[0].ID && (m.SentAt != nil || m.NextAttemptAt != nil || m.LastError != "550 no such user") {
				t.Fatalf("abandoned mail: got %+v, want unsent, nothing due, its error", m)
			}
		}
	})
}
