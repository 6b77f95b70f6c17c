package client_test

import (
	"crypto/rand"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
	"github.com/latchkey/latchkey/internal/webhook"
)

// signed is a webhook as latchkey's sender signs it: with each of secrets,
// at time at.
func signed(t *testing.T, secrets []string, id string, at time.Time, body string) http.Header {
	t.Helper()
	ts := strconv.FormatInt(at.Unix(), 10)
	sig, err := webhook.SignAll(secrets, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	h := http.Header{}
	h.Set("webhook-id", id)
	h.Set("webhook-timestamp", ts)
	h.Set("webhook-signature", sig)
	return h
}

func newSecret(t *testing.T) string {
	s, err := latchkey.NewWebhookSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const revokedBody = `{"type":"key.revoked","timestamp":"2026-01-31T12:00:00Z","data":{"id":"key_1","workspace_id":"ws_1","name":"CI","type":"public_api","environment":"production","owner":"workspace","expires_at":null,"revoked_at":"2026-01-31T12:00:00Z","disabled_at":null}}`

func TestVerifyWebhook(t *testing.T) {
	current, previous, stranger := newSecret(t), newSecret(t), newSecret(t)
	now := time.Now()
	ev, err := client.VerifyWebhook(current, signed(t, []string{current}, "evt_1", now, revokedBody), []byte(revokedBody))
	if err != nil {
		t.Fatal(err)
	}
	if ev.ID != "evt_1" || ev.Type != "key.revoked" || ev.Key.ID != "key_1" || ev.Key.RevokedAt == nil ||
		ev.Key.Environment != latchkey.Production || !ev.Timestamp.Equal(time.Date(2026, 1, 31, 12, 0, 0, 0, time.UTC)) {
		t.Errorf("got %+v", ev)
	}

	// During a rotation latchkey signs with both secrets: either verifies.
	both := signed(t, []string{current, previous}, "evt_2", now, revokedBody)
	if n := len(strings.Fields(both.Get("webhook-signature"))); n != 2 {
		t.Fatalf("got %d signatures, want 2", n)
	}
	for _, s := range []string{current, previous, strings.TrimPrefix(previous, "whsec_")} {
		if _, err := client.VerifyWebhook(s, both, []byte(revokedBody)); err != nil {
			t.Errorf("a secret of the rotation: %v", err)
		}
	}

	tests := []struct {
		name   string
		secret string
		header http.Header
		body   string
		want   error
	}{
		{"another workspace's secret", stranger, signed(t, []string{current}, "evt_1", now, revokedBody), revokedBody, client.ErrWebhookSignature},
		{"a changed body", current, signed(t, []string{current}, "evt_1", now, revokedBody), strings.Replace(revokedBody, "key_1", "key_2", 1), client.ErrWebhookSignature},
		{"a replayed id", current, func() http.Header {
			h := signed(t, []string{current}, "evt_1", now, revokedBody)
			h.Set("webhook-id", "evt_9")
			return h
		}(), revokedBody, client.ErrWebhookSignature},
		{"a moved timestamp", current, func() http.Header {
			h := signed(t, []string{current}, "evt_1", now, revokedBody)
			h.Set("webhook-timestamp", strconv.FormatInt(now.Unix()+1, 10))
			return h
		}(), revokedBody, client.ErrWebhookSignature},
		{"six minutes old", current, signed(t, []string{current}, "evt_1", now.Add(-6*time.Minute), revokedBody), revokedBody, client.ErrWebhookTimestamp},
		{"six minutes ahead", current, signed(t, []string{current}, "evt_1", now.Add(6*time.Minute), revokedBody), revokedBody, client.ErrWebhookTimestamp},
		{"no signature", current, func() http.Header {
			h := signed(t, []string{current}, "evt_1", now, revokedBody)
			h.Del("webhook-signature")
			return h
		}(), revokedBody, client.ErrWebhookMalformed},
		{"another scheme only", current, func() http.Header {
			h := signed(t, []string{current}, "evt_1", now, revokedBody)
			h.Set("webhook-signature", strings.Replace(h.Get("webhook-signature"), "v1,", "v1a,", 1))
			return h
		}(), revokedBody, client.ErrWebhookSignature},
		{"a timestamp in milliseconds", current, func() http.Header {
			h := signed(t, []string{current}, "evt_1", now, revokedBody)
			h.Set("webhook-timestamp", strconv.FormatInt(now.UnixMilli(), 10))
			return h
		}(), revokedBody, client.ErrWebhookTimestamp},
		{"a signed body that is not an event", current, signed(t, []string{current}, "evt_1", now, `[]`), `[]`, client.ErrWebhookMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := client.VerifyWebhook(tt.secret, tt.header, []byte(tt.body))
			if !errors.Is(err, tt.want) || ev != nil {
				t.Errorf("got %+v, %v; want %v", ev, err, tt.want)
			}
		})
	}

	// Four minutes is within the tolerance.
	if _, err := client.VerifyWebhook(current, signed(t, []string{current}, "evt_1", now.Add(-4*time.Minute), revokedBody), []byte(revokedBody)); err != nil {
		t.Errorf("four minutes old: %v", err)
	}
	// A malformed secret is refused without being repeated.
	_, err = client.VerifyWebhook("whsec_not base64!", signed(t, []string{current}, "evt_1", now, revokedBody), []byte(revokedBody))
	if err == nil || strings.Contains(err.Error(), "not base64!") {
		t.Errorf("a malformed secret: got %v", err)
	}
}
