package storetest

import (
	"encoding/json"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// deliveryTypes lists a workspace's deliveries as "type key_id", oldest first.
func (f *fixture) deliveryTypes(workspaceID string) []string {
	f.t.Helper()
	list, _, err := f.s.WebhookDeliveries(f.ctx, workspaceID, 100, "")
	wantCode(f.t, "WebhookDeliveries", err, "")
	out := []string{}
	for _, d := range slices.Backward(list) {
		out = append(out, d.Type+" "+d.KeyID)
	}
	return out
}

func testWebhooks(t *testing.T, open func(t *testing.T) latchkey.Store) {
	const url = "https://hooks.example.com/latchkey"
	t.Run("EnqueuedWithTheirEvents", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		hooked := f.key(ws.ID, "hooked", func(k *latchkey.Key) { k.CallbackURL = url })
		plain := f.key(ws.ID, "plain")
		for _, k := range []*latchkey.Key{hooked, plain} {
			_, err := f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
				k.RevokedAt = ptr(now)
				ev := f.event(ws.ID, latchkey.EventKeyRevoked, k.ID)
				return &ev, nil
			})
			wantCode(t, "UpdateKey", err, "")
		}
		// An update that is not a webhook event enqueues nothing.
		_, err := f.s.UpdateKey(f.ctx, ws.ID, hooked.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.Name = "renamed"
			ev := f.event(ws.ID, latchkey.EventKeyUpdated, k.ID)
			return &ev, nil
		})
		wantCode(t, "UpdateKey", err, "")
		delEv := f.event(ws.ID, latchkey.EventKeyDeleted, hooked.ID)
		wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, ws.ID, hooked.ID, delEv), "")
		wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, ws.ID, plain.ID, f.event(ws.ID, latchkey.EventKeyDeleted, plain.ID)), "")
		if got, want := f.deliveryTypes(ws.ID), []string{"key.revoked " + hooked.ID, "key.deleted " + hooked.ID}; !slices.Equal(got, want) {
			t.Fatalf("deliveries: got %v, want %v", got, want)
		}
		list, _, _ := f.s.WebhookDeliveries(f.ctx, ws.ID, 10, "")
		d := list[0]
		if d.ID != delEv.ID || d.URL != url || d.Attempts != 0 || d.DeliveredAt != nil || d.NextAttemptAt == nil || !d.NextAttemptAt.Equal(now) {
			t.Fatalf("delivery: got %+v, want id %s due now", d, delEv.ID)
		}
		var body struct {
			Type      string         `json:"type"`
			Timestamp string         `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(d.Payload, &body); err != nil {
			t.Fatalf("payload: %v", err)
		}
		if body.Type != "key.deleted" || body.Timestamp != now.Format(time.RFC3339) || body.Data["id"] != hooked.ID ||
			body.Data["name"] != "renamed" || body.Data["revoked_at"] == nil || len(body.Data) != 9 {
			t.Fatalf("payload: got %s", d.Payload)
		}
	})
	t.Run("ClaimRetryDeliver", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "hooked", func(k *latchkey.Key) { k.CallbackURL = url })
		ev := f.event(ws.ID, latchkey.EventKeyDeleted, k.ID)
		wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, ws.ID, k.ID, ev), "")

		if got, err := f.s.ClaimWebhooks(f.ctx, now.Add(-time.Second), time.Minute, 10); err != nil || len(got) != 0 {
			t.Fatalf("ClaimWebhooks before due: got %d, %v, want 0", len(got), err)
		}
		got, err := f.s.ClaimWebhooks(f.ctx, now, time.Minute, 10)
		if err != nil || len(got) != 1 || got[0].ID != ev.ID {
			t.Fatalf("ClaimWebhooks: got %d, %v, want 1", len(got), err)
		}
		if again, _ := f.s.ClaimWebhooks(f.ctx, now.Add(30*time.Second), time.Minute, 10); len(again) != 0 {
			t.Fatalf("ClaimWebhooks within lease: got %d, want 0", len(again))
		}
		retry := now.Add(time.Hour)
		a := latchkey.WebhookAttempt{DeliveryID: ev.ID, At: now, StatusCode: 500, Error: "HTTP 500", Duration: 1500 * time.Millisecond}
		wantCode(t, "RecordWebhookAttempt", f.s.RecordWebhookAttempt(f.ctx, a, false, &retry), "")
		if got, _ := f.s.ClaimWebhooks(f.ctx, retry.Add(-time.Second), time.Minute, 10); len(got) != 0 {
			t.Fatalf("ClaimWebhooks before retry: got %d, want 0", len(got))
		}
		got, _ = f.s.ClaimWebhooks(f.ctx, retry, time.Minute, 10)
		if len(got) != 1 || got[0].Attempts != 1 || got[0].LastError != "HTTP 500" {
			t.Fatalf("ClaimWebhooks at retry: got %+v, want one with 1 attempt", got)
		}
		b := latchkey.WebhookAttempt{DeliveryID: ev.ID, At: retry, StatusCode: 204, Duration: time.Millisecond}
		wantCode(t, "RecordWebhookAttempt", f.s.RecordWebhookAttempt(f.ctx, b, true, nil), "")
		if got, _ := f.s.ClaimWebhooks(f.ctx, retry.Add(latchkey.Day), time.Minute, 10); len(got) != 0 {
			t.Fatalf("ClaimWebhooks after delivery: got %d, want 0", len(got))
		}
		list, _, _ := f.s.WebhookDeliveries(f.ctx, ws.ID, 10, "")
		if d := list[0]; d.Attempts != 2 || d.DeliveredAt == nil || !d.DeliveredAt.Equal(retry) || d.NextAttemptAt != nil || d.LastError != "" {
			t.Fatalf("delivered: got %+v", d)
		}
		attempts, err := f.s.WebhookAttempts(f.ctx, ev.ID)
		wantCode(t, "WebhookAttempts", err, "")
		if len(attempts) != 2 {
			t.Fatalf("WebhookAttempts: got %d, want 2", len(attempts))
		}
		wantSame(t, "first attempt", attempts[0], &a)
		wantSame(t, "second attempt", attempts[1], &b)
		err = f.s.RecordWebhookAttempt(f.ctx, latchkey.WebhookAttempt{DeliveryID: "evt_missing", At: now}, true, nil)
		wantCode(t, "RecordWebhookAttempt missing", err, latchkey.ENOTFOUND)
	})
	t.Run("NoticeAndRetention", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		soon := f.key(ws.ID, "soon", func(k *latchkey.Key) { k.CallbackURL, k.ExpiresAt = url, ptr(now.Add(latchkey.Day)) })
		old := f.key(ws.ID, "old", func(k *latchkey.Key) { k.CallbackURL, k.ExpiresAt = url, ptr(now.Add(-2*latchkey.Day)) })
		n := latchkey.Notice{KeyID: soon.ID, WorkspaceID: ws.ID, Window: latchkey.Duration(7 * latchkey.Day), ExpiresAt: *soon.ExpiresAt, At: now}
		wantCode(t, "RecordNotice", f.s.RecordNotice(f.ctx, n, nil, f.systemEvent(ws.ID, latchkey.EventKeyExpiring, soon.ID)), "")
		expired, err := f.s.ExpiredKeys(f.ctx, ws.ID, now, 10)
		if err != nil || len(expired) != 1 || expired[0].ID != old.ID {
			t.Fatalf("ExpiredKeys: got %v, %v, want [%s]", keyIDs(expired), err, old.ID)
		}
		n = latchkey.Notice{KeyID: old.ID, WorkspaceID: ws.ID, ExpiresAt: *old.ExpiresAt, At: now}
		wantCode(t, "RecordNotice expired", f.s.RecordNotice(f.ctx, n, nil, f.systemEvent(ws.ID, latchkey.EventKeyExpired, old.ID)), "")
		if expired, _ := f.s.ExpiredKeys(f.ctx, ws.ID, now, 10); len(expired) != 0 {
			t.Fatalf("ExpiredKeys after record: got %v, want none", keyIDs(expired))
		}
		_, err = f.s.DeleteExpiredKeys(f.ctx, ws.ID, now.Add(-latchkey.Day), now.Add(-latchkey.Day), 10, func(k *latchkey.Key) latchkey.Event {
			return f.systemEvent(ws.ID, latchkey.EventKeyDeleted, k.ID)
		})
		wantCode(t, "DeleteExpiredKeys", err, "")
		want := []string{"key.expiring " + soon.ID, "key.expired " + old.ID, "key.deleted " + old.ID}
		if got := f.deliveryTypes(ws.ID); !slices.Equal(got, want) {
			t.Fatalf("deliveries: got %v, want %v", got, want)
		}
	})
	t.Run("Secret", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		got, err := f.s.WebhookSecret(f.ctx, ws.ID, "whsec_first")
		if err != nil || got != "whsec_first" {
			t.Fatalf("WebhookSecret: got %q, %v, want whsec_first", got, err)
		}
		if got, _ := f.s.WebhookSecret(f.ctx, ws.ID, "whsec_second"); got != "whsec_first" {
			t.Fatalf("WebhookSecret again: got %q, want whsec_first", got)
		}
		ev := f.event(ws.ID, latchkey.EventWebhookSecretRotated, ws.ID)
		wantCode(t, "SetWebhookSecret", f.s.SetWebhookSecret(f.ctx, ws.ID, "whsec_third", time.Time{}, ev), "")
		if got, _ := f.s.WebhookSecret(f.ctx, ws.ID, "whsec_fourth"); got != "whsec_third" {
			t.Fatalf("WebhookSecret after rotation: got %q, want whsec_third", got)
		}
		if got := f.eventsFor(ws.ID, ws.ID); !slices.Contains(got, latchkey.EventWebhookSecretRotated) {
			t.Fatalf("events: got %v, want a rotation", got)
		}
		_, err = f.s.WebhookSecret(f.ctx, "wsp_missing", "whsec_x")
		wantCode(t, "WebhookSecret of a missing workspace", err, latchkey.ENOTFOUND)
	})
	t.Run("SecretRotationKeepsThePreviousForTheOverlap", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		other, _ := f.workspace("B", "b@example.com")
		got, err := f.s.WebhookSecrets(f.ctx, ws.ID, "whsec_one")
		if err != nil || got.Current != "whsec_one" || got.Previous != "" || got.PreviousUntil != nil {
			t.Fatalf("WebhookSecrets at first: got %+v, %v, want whsec_one alone", got, err)
		}
		until := now.Add(latchkey.Day)
		wantCode(t, "SetWebhookSecret", f.s.SetWebhookSecret(f.ctx, ws.ID, "whsec_two", until,
			f.event(ws.ID, latchkey.EventWebhookSecretRotated, ws.ID)), "")
		got, err = f.s.WebhookSecrets(f.ctx, ws.ID, "whsec_unused")
		if err != nil || got.Current != "whsec_two" || got.Previous != "whsec_one" || got.PreviousUntil == nil || !got.PreviousUntil.Equal(until) {
			t.Fatalf("WebhookSecrets after rotation: got %+v, %v, want whsec_two with whsec_one until %v", got, err, until)
		}
		if sig := got.Signing(now); !slices.Equal(sig, []string{"whsec_two", "whsec_one"}) {
			t.Fatalf("Signing within the overlap: got %v", sig)
		}
		if sig := got.Signing(until); !slices.Equal(sig, []string{"whsec_two"}) {
			t.Fatalf("Signing after the overlap: got %v", sig)
		}
		// The other workspace's secret is untouched by A's rotation.
		if o, _ := f.s.WebhookSecrets(f.ctx, other.ID, "whsec_b"); o.Current != "whsec_b" || o.Previous != "" {
			t.Fatalf("other workspace: got %+v, want its own secret alone", o)
		}
		// A second rotation within the overlap keeps only the secret it replaces.
		wantCode(t, "SetWebhookSecret again", f.s.SetWebhookSecret(f.ctx, ws.ID, "whsec_three", until,
			f.event(ws.ID, latchkey.EventWebhookSecretRotated, ws.ID)), "")
		if got, _ = f.s.WebhookSecrets(f.ctx, ws.ID, "x"); got.Current != "whsec_three" || got.Previous != "whsec_two" {
			t.Fatalf("after a second rotation: got %+v, want whsec_three with whsec_two", got)
		}
		// No overlap (a leaked secret): the replaced secret stops at once.
		wantCode(t, "SetWebhookSecret without overlap", f.s.SetWebhookSecret(f.ctx, ws.ID, "whsec_four", time.Time{},
			f.event(ws.ID, latchkey.EventWebhookSecretRotated, ws.ID)), "")
		if got, _ = f.s.WebhookSecrets(f.ctx, ws.ID, "x"); got.Current != "whsec_four" || got.Previous != "" || got.PreviousUntil != nil {
			t.Fatalf("after a rotation without overlap: got %+v, want whsec_four alone", got)
		}
		_, err = f.s.WebhookSecrets(f.ctx, "wsp_missing", "whsec_x")
		wantCode(t, "WebhookSecrets of a missing workspace", err, latchkey.ENOTFOUND)
		err = f.s.SetWebhookSecret(f.ctx, "wsp_missing", "whsec_x", until, f.event("wsp_missing", latchkey.EventWebhookSecretRotated, "wsp_missing"))
		wantCode(t, "SetWebhookSecret of a missing workspace", err, latchkey.ENOTFOUND)
	})
	t.Run("ReleaseHandsBackOnlyItsOwnClaim", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "hooked", func(k *latchkey.Key) { k.CallbackURL = url })
		ev := f.event(ws.ID, latchkey.EventKeyDeleted, k.ID)
		wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, ws.ID, k.ID, ev), "")
		got, err := f.s.ClaimWebhooks(f.ctx, now, time.Minute, 10)
		if err != nil || len(got) != 1 {
			t.Fatalf("ClaimWebhooks: got %d, %v, want 1", len(got), err)
		}
		first := *got[0].NextAttemptAt
		// The lease ran out and another sender claimed it: the first
		// sender's release must not hand back the second one's claim.
		again, _ := f.s.ClaimWebhooks(f.ctx, now.Add(2*time.Minute), time.Minute, 10)
		if len(again) != 1 {
			t.Fatalf("ClaimWebhooks after the lease: got %d, want 1", len(again))
		}
		wantCode(t, "ReleaseWebhook of a lost claim", f.s.ReleaseWebhook(f.ctx, ev.ID, first, now.Add(2*time.Minute)), "")
		if due, _ := f.s.ClaimWebhooks(f.ctx, now.Add(150*time.Second), time.Minute, 10); len(due) != 0 {
			t.Fatalf("after releasing a lost claim: got %d due, want 0", len(due))
		}
		wantCode(t, "ReleaseWebhook", f.s.ReleaseWebhook(f.ctx, ev.ID, *again[0].NextAttemptAt, now.Add(150*time.Second)), "")
		if due, _ := f.s.ClaimWebhooks(f.ctx, now.Add(150*time.Second), time.Minute, 10); len(due) != 1 || due[0].Attempts != 0 {
			t.Fatalf("after releasing: got %+v, want it due at once with no attempt counted", due)
		}

		m := f.mail(ws.ID, "a@example.com")
		wantCode(t, "RecordNotice", f.s.RecordNotice(f.ctx, latchkey.Notice{KeyID: f.key(ws.ID, "k").ID, WorkspaceID: ws.ID,
			Window: latchkey.Duration(latchkey.Day), ExpiresAt: now.Add(latchkey.Day), At: now}, []*latchkey.Mail{m},
			f.systemEvent(ws.ID, latchkey.EventKeyExpiring, "x")), "")
		mails, err := f.s.ClaimMails(f.ctx, now, time.Minute, 10)
		if err != nil || len(mails) != 1 {
			t.Fatalf("ClaimMails: got %d, %v, want 1", len(mails), err)
		}
		wantCode(t, "ReleaseMail with another claim", f.s.ReleaseMail(f.ctx, m.ID, now, now), "")
		if due, _ := f.s.ClaimMails(f.ctx, now, time.Minute, 10); len(due) != 0 {
			t.Fatalf("after releasing another claim: got %d mails due, want 0", len(due))
		}
		wantCode(t, "ReleaseMail", f.s.ReleaseMail(f.ctx, m.ID, *mails[0].NextAttemptAt, now), "")
		due, _ := f.s.ClaimMails(f.ctx, now, time.Minute, 10)
		if len(due) != 1 || due[0].Attempts != 0 {
			t.Fatalf("after releasing: got %+v, want the mail due at once", due)
		}
		wantCode(t, "MarkMailSent", f.s.MarkMailSent(f.ctx, m.ID, now), "")
		wantCode(t, "ReleaseMail of a sent mail", f.s.ReleaseMail(f.ctx, m.ID, *due[0].NextAttemptAt, now), "")
		if due, _ := f.s.ClaimMails(f.ctx, now.Add(time.Hour), time.Minute, 10); len(due) != 0 {
			t.Fatalf("a sent mail released: got %d due, want 0", len(due))
		}
	})
	t.Run("OneExpiringWebhookPerKeyNamingItsWindows", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "short", func(k *latchkey.Key) { k.CallbackURL, k.ExpiresAt = url, ptr(now.Add(3*latchkey.Day)) })
		var notices []latchkey.Notice
		for _, w := range []time.Duration{30 * latchkey.Day, 7 * latchkey.Day, 1 * latchkey.Day} {
			notices = append(notices, latchkey.Notice{KeyID: k.ID, WorkspaceID: ws.ID, Window: latchkey.Duration(w), ExpiresAt: *k.ExpiresAt, At: now})
		}
		event := func(n latchkey.Notice) latchkey.Event {
			ev := f.systemEvent(ws.ID, latchkey.EventKeyExpiring, n.KeyID)
			ev.Data = map[string]any{"window": n.Window.String()}
			return ev
		}
		// The key is inside the 30d and 7d windows, not yet the 1d one.
		got, err := f.s.RecordNotices(f.ctx, notices[:2], event, nil)
		if err != nil || len(got) != 2 {
			t.Fatalf("RecordNotices: got %v, %v, want both notices", got, err)
		}
		list, _, _ := f.s.WebhookDeliveries(f.ctx, ws.ID, 10, "")
		if len(list) != 1 {
			t.Fatalf("deliveries: got %d, want one key.expiring for both windows", len(list))
		}
		var body struct {
			Notice struct {
				Window  string   `json:"window"`
				Windows []string `json:"windows"`
			} `json:"notice"`
		}
		if err := json.Unmarshal(list[0].Payload, &body); err != nil || body.Notice.Window != "7d" || !slices.Equal(body.Notice.Windows, []string{"7d", "30d"}) {
			t.Fatalf("payload: got %s (%v), want notice window 7d standing for 7d and 30d", list[0].Payload, err)
		}
		// Recording them again sends nothing; the next window sends one more.
		if got, _ := f.s.RecordNotices(f.ctx, notices, event, nil); len(got) != 1 || got[0].Window != notices[2].Window {
			t.Fatalf("RecordNotices again: got %v, want the 1d notice alone", got)
		}
		list, _, _ = f.s.WebhookDeliveries(f.ctx, ws.ID, 10, "")
		if len(list) != 2 {
			t.Fatalf("deliveries: got %d, want 2", len(list))
		}
		if err := json.Unmarshal(list[0].Payload, &body); err != nil || body.Notice.Window != "1d" || !slices.Equal(body.Notice.Windows, []string{"1d"}) {
			t.Fatalf("payload: got %s (%v), want notice window 1d", list[0].Payload, err)
		}
		if evs := f.eventsFor(ws.ID, k.ID); len(evs) != 4 { // created + three notices
			t.Fatalf("events: got %v, want one per notice", evs)
		}
	})
}
