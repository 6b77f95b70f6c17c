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
			body.Data["name"] != "renamed" || body.Data["revoked_at"] == nil || len(body.Data) != 8 {
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
		wantCode(t, "SetWebhookSecret", f.s.SetWebhookSecret(f.ctx, ws.ID, "whsec_third", ev), "")
		if got, _ := f.s.WebhookSecret(f.ctx, ws.ID, "whsec_fourth"); got != "whsec_third" {
			t.Fatalf("WebhookSecret after rotation: got %q, want whsec_third", got)
		}
		if got := f.eventsFor(ws.ID, ws.ID); !slices.Contains(got, latchkey.EventWebhookSecretRotated) {
			t.Fatalf("events: got %v, want a rotation", got)
		}
		_, err = f.s.WebhookSecret(f.ctx, "wsp_missing", "whsec_x")
		wantCode(t, "WebhookSecret of a missing workspace", err, latchkey.ENOTFOUND)
	})
}
