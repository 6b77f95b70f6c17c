package console_test

import (
	"context"
	"encoding/json"
	"html"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// TestWebhookSecretOnlyForOwnersAndSuperAdmins: the secret is masked on
// the settings page; owners and super admins reveal it with an explicit
// action that the audit log records (actor and address).
func TestWebhookSecretOnlyForOwnersAndSuperAdmins(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.addMember(t, "sam@acme.test", latchkey.RoleSuperAdmin)
	e.addMember(t, "ada@acme.test", latchkey.RoleAdmin)
	e.addMember(t, "mel@acme.test", latchkey.RoleMember)
	secret, err := e.svc.WebhookSecret(ctx, e.owner, e.ws)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		email string
		sees  bool
	}{
		{"owner@acme.test", true},
		{"sam@acme.test", true},
		{"ada@acme.test", false},
		{"mel@acme.test", false},
	} {
		t.Run(tc.email, func(t *testing.T) {
			hc := e.login(t, tc.email)
			page := e.get(t, hc, "/w/"+e.ws+"/settings")
			if page.status != http.StatusOK || shows(page, secret) || page.has("Rotate secret") != tc.sees || page.has("Reveal secret") != tc.sees {
				t.Fatalf("settings page: got %d, shows secret %v, offers it %v, want masked and offered %v", page.status, shows(page, secret), page.has("Reveal secret"), tc.sees)
			}
			before := revealed(t, e)
			revealPage := e.post(t, hc, "/w/"+e.ws+"/settings/webhook-secret/reveal", nil)
			if tc.sees {
				if revealPage.status != http.StatusOK || !shows(revealPage, secret) {
					t.Fatalf("reveal: got %d, shows secret %v, want 200 with the secret", revealPage.status, shows(revealPage, secret))
				}
				evs := revealed(t, e)
				if len(evs) != len(before)+1 || evs[0].Actor.Label != tc.email || evs[0].IP != "127.0.0.1" {
					t.Fatalf("reveal events: got %+v, want one more by %s from 127.0.0.1", evs, tc.email)
				}
				if b, _ := jsonString(evs[0]); strings.Contains(b, secret) {
					t.Fatal("the reveal event holds the secret")
				}
				return
			}
			if revealPage.status != http.StatusForbidden || shows(revealPage, secret) || len(revealed(t, e)) != len(before) {
				t.Fatalf("forged reveal: got %d, shows secret %v, want 403 and nothing recorded", revealPage.status, shows(revealPage, secret))
			}
			if got := e.post(t, hc, "/w/"+e.ws+"/settings/webhook-secret", nil); got.status != http.StatusForbidden {
				t.Fatalf("forged rotation: got %d, want 403", got.status)
			}
			if now, _ := e.svc.WebhookSecret(ctx, e.owner, e.ws); now != secret {
				t.Fatal("a forged rotation changed the secret")
			}
		})
	}
	hc := e.login(t, "sam@acme.test")
	if got := e.post(t, hc, "/w/"+e.ws+"/settings/webhook-secret", nil); got.status != http.StatusSeeOther {
		t.Fatalf("rotation by a super admin: got %d, want 303", got.status)
	}
	rotated, _ := e.svc.WebhookSecret(ctx, e.owner, e.ws)
	if rotated == secret {
		t.Fatal("rotation kept the secret")
	}
	evs, _, _ := e.store.Events(ctx, latchkey.EventFilter{WorkspaceID: e.ws, Action: latchkey.EventWebhookSecretRotated})
	if len(evs) != 1 {
		t.Fatalf("rotation events: got %d, want 1", len(evs))
	}
	if b, _ := jsonString(evs[0]); containsAny(b, secret, rotated) {
		t.Fatal("the rotation event holds a secret")
	}
	page := e.get(t, hc, "/w/"+e.ws+"/settings?done=webhook_secret")
	if shows(page, rotated) || !page.has("was rotated") {
		t.Fatalf("settings after rotation: want the secret masked and a flash")
	}
	if page := e.post(t, hc, "/w/"+e.ws+"/settings/webhook-secret/reveal", nil); !shows(page, rotated) {
		t.Fatalf("reveal after rotation: got %d without the new secret", page.status)
	}
}

func revealed(t *testing.T, e *env) []*latchkey.Event {
	t.Helper()
	evs, _, err := e.store.Events(context.Background(), latchkey.EventFilter{WorkspaceID: e.ws, Action: latchkey.EventWebhookSecretRevealed})
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

func jsonString(v any) (string, error) {
	b, err := json.Marshal(v)
	return string(b), err
}

func containsAny(s string, subs ...string) bool {
	for _, sub := range subs {
		if strings.Contains(s, sub) {
			return true
		}
	}
	return false
}

// shows reports whether the page shows s, as the browser reads it
// (html/template escapes the "+" of base64 in attributes).
func shows(a answer, s string) bool { return strings.Contains(html.UnescapeString(a.body), s) }

// The outbox lists webhook deliveries with their attempts.
func TestOutboxListsWebhooks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "CRM", CallbackURL: "https://hooks.example.com/crm"})
	if _, err := e.svc.RevokeKey(ctx, e.owner, e.ws, k.ID); err != nil {
		t.Fatal(err)
	}
	list, _, err := e.store.WebhookDeliveries(ctx, e.ws, 10, "")
	if err != nil || len(list) != 1 {
		t.Fatalf("deliveries: got %d, %v, want 1", len(list), err)
	}
	a := latchkey.WebhookAttempt{DeliveryID: list[0].ID, At: list[0].CreatedAt, StatusCode: 503, Error: "HTTP 503", Duration: 42 * time.Millisecond}
	retry := a.At.Add(time.Minute)
	if err := e.store.RecordWebhookAttempt(ctx, a, false, &retry); err != nil {
		t.Fatal(err)
	}
	page := e.get(t, e.login(t, "owner@acme.test"), "/w/"+e.ws+"/outbox")
	for _, want := range []string{"key.revoked", "https://hooks.example.com/crm", "HTTP 503 in 42ms", "1 failed attempts"} {
		if !shows(page, want) {
			t.Errorf("outbox: got %d without %q", page.status, want)
		}
	}
}

// A callback URL aimed at an internal service: whatever an attempt's record
// holds (an older version kept the answer's first 200 characters), the
// Outbox shows only the status.
func TestAttackOutboxShowsCallbackAnswer(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "CRM", CallbackURL: "https://hooks.example.com/crm"})
	if _, err := e.svc.RevokeKey(ctx, e.owner, e.ws, k.ID); err != nil {
		t.Fatal(err)
	}
	list, _, _ := e.store.WebhookDeliveries(ctx, e.ws, 10, "")
	leak := "HTTP 404: {\"admin_token\": \"internal-only\"}"
	a := latchkey.WebhookAttempt{DeliveryID: list[0].ID, At: list[0].CreatedAt, StatusCode: 404, Error: leak, Duration: time.Millisecond}
	retry := a.At.Add(time.Minute)
	if err := e.store.RecordWebhookAttempt(ctx, a, false, &retry); err != nil {
		t.Fatal(err)
	}
	page := e.get(t, e.login(t, "owner@acme.test"), "/w/"+e.ws+"/outbox")
	if page.has("admin_token") || page.has("internal-only") {
		t.Fatalf("the outbox shows the receiver's answer")
	}
	if !shows(page, "HTTP 404 in 1ms") {
		t.Errorf("the outbox lacks the attempt's status")
	}
}
