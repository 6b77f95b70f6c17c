package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/api/apitest"
)

// Who may read and rotate the webhook signing secret over the API: owners
// and super admins with their session. A member, an admin, an operator,
// any management key and an anonymous caller get nothing, and every
// workspace member of A gets 404 for workspace B's secret; none of them
// changes it.
func TestAttackWebhookSecretReadAndRotate(t *testing.T) {
	w := newAuthzWorld(t)
	v := apitest.New(t)
	wsPath := "/v1/workspaces/" + w.s.WorkspaceID
	otherBefore := currentSecret(t, w.s.Main, w.other)
	want := map[string]int{"owner": 200, "super_admin": 200, "admin": 403, "member": 403, "member2": 403, "operator": 403, "anonymous": 401}
	for _, p := range principals {
		if strings.HasPrefix(p, "mk:") {
			want[p] = 403
		}
	}
	want["member2"] = 403
	for who, status := range want {
		before := currentSecret(t, w.s.Main, w.s.WorkspaceID)
		hc := v.Client(w.clients[who])
		got := send(t, hc, "GET", w.s.URL+wsPath+"/webhook-secret", nil, w.headers[who]...)
		if got.status != status {
			t.Errorf("GET webhook-secret as %s: got %d, want %d (%s)", who, got.status, status, got.raw)
		}
		if status != 200 && strings.Contains(string(got.raw), before) {
			t.Errorf("GET webhook-secret as %s: the answer holds the secret", who)
		}
		if status == 200 && (acctStr(got.body, "secret") != before || got.header.Get("Cache-Control") != "no-store") {
			t.Errorf("GET webhook-secret as %s: got %s, want the secret, not cached", who, got.raw)
		}
		rot := send(t, hc, "POST", w.s.URL+wsPath+"/webhook-secret/rotate", nil, w.headers[who]...)
		if rot.status != status {
			t.Errorf("rotate as %s: got %d, want %d (%s)", who, rot.status, status, rot.raw)
		}
		after := currentSecret(t, w.s.Main, w.s.WorkspaceID)
		if status != 200 && after != before {
			t.Errorf("rotate as %s: the secret changed", who)
		}
		if status == 200 && (after == before || acctStr(rot.body, "secret") != after || acctStr(rot.body, "previous_secret_valid_until") == "") {
			t.Errorf("rotate as %s: got %s, want the new secret with the old one kept for a while", who, rot.raw)
		}
		if who == "anonymous" || who == "operator" {
			continue
		}
		// The same calls aimed at workspace B.
		for _, c := range []struct{ method, path string }{{"GET", "/webhook-secret"}, {"POST", "/webhook-secret/rotate"}} {
			got := send(t, w.clients[who], c.method, w.s.URL+"/v1/workspaces/"+w.other+c.path, nil, w.headers[who]...)
			if got.status != http.StatusNotFound {
				t.Errorf("%s %s of workspace B as %s: got %d, want 404 (%s)", c.method, c.path, who, got.status, got.raw)
			}
		}
	}
	if after := currentSecret(t, w.s.Main, w.other); after != otherBefore {
		t.Error("workspace B's secret changed")
	}
	// Reads are audited, rotations recorded; no event holds a secret.
	owner := v.Client(w.clients["owner"])
	secret := acctStr(send(t, owner, "GET", w.s.URL+wsPath+"/webhook-secret", nil).body, "secret")
	events := send(t, owner, "GET", w.s.URL+wsPath+"/events?limit=200", nil)
	raw := string(events.raw)
	if !strings.Contains(raw, `"webhook_secret.revealed"`) || !strings.Contains(raw, `"webhook_secret.rotated"`) {
		t.Errorf("events: want webhook_secret.revealed and webhook_secret.rotated in %s", raw)
	}
	if strings.Contains(raw, "whsec_") || strings.Contains(raw, secret) {
		t.Error("events: a webhook secret appears in the audit log")
	}
}

// Rotation's body: a chosen overlap, none (a leaked secret), and every
// kind of bad input refused with a 4xx JSON error and no change.
func TestRotateWebhookSecretOverlapAndBadInput(t *testing.T) {
	s := startServer(t)
	v := apitest.New(t)
	hc := v.Client(s.login(t))
	path := s.URL + "/v1/workspaces/" + s.WorkspaceID + "/webhook-secret"
	got := send(t, hc, "POST", path+"/rotate", map[string]any{"previous_secret_valid_for": "2h"})
	until, err := time.Parse(time.RFC3339Nano, acctStr(got.body, "previous_secret_valid_until"))
	if got.status != 200 || err != nil || time.Until(until) < 119*time.Minute || time.Until(until) > 121*time.Minute {
		t.Fatalf("rotate keeping 2h: got %d %s, want the previous secret valid for 2 hours", got.status, got.raw)
	}
	read := send(t, hc, "GET", path, nil)
	if acctStr(read.body, "secret") != acctStr(got.body, "secret") || acctStr(read.body, "previous_secret_valid_until") == "" {
		t.Fatalf("read after rotation: got %s, want the new secret and the overlap", read.raw)
	}
	got = send(t, hc, "POST", path+"/rotate", `{"previous_secret_valid_for": "0s"}`)
	if got.status != 200 || got.body["previous_secret_valid_until"] != nil {
		t.Fatalf("rotate without overlap: got %d %s, want no previous secret", got.status, got.raw)
	}
	current := acctStr(got.body, "secret")
	for _, tc := range []struct {
		name, body, ctype string
		status            int
	}{
		{"too long", `{"previous_secret_valid_for": "8d"}`, "application/json", 400},
		{"negative", `{"previous_secret_valid_for": "-1h"}`, "application/json", 400},
		{"not a duration", `{"previous_secret_valid_for": "soon"}`, "application/json", 400},
		{"a number", `{"previous_secret_valid_for": 3600}`, "application/json", 400},
		{"unknown field", `{"secret": "whsec_mine"}`, "application/json", 400},
		{"not JSON", `{"previous_secret_valid_for":`, "application/json", 400},
		{"two objects", `{} {}`, "application/json", 400},
		{"not JSON media type", `previous_secret_valid_for=1h`, "application/x-www-form-urlencoded", 415},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest("POST", path+"/rotate", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ctype)
			resp, err := hc.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var e struct {
				Error struct {
					Code string `json:"code"`
				} `json:"error"`
			}
			if resp.StatusCode != tc.status || json.NewDecoder(resp.Body).Decode(&e) != nil || e.Error.Code == "" {
				t.Fatalf("got %d (code %q), want %d with a JSON error", resp.StatusCode, e.Error.Code, tc.status)
			}
		})
	}
	if now := currentSecret(t, s.Main, s.WorkspaceID); now != current {
		t.Fatal("a refused rotation changed the secret")
	}
}

// currentSecret reads a workspace's signing secret from the store,
// generating it as the sender would if it has none yet.
func currentSecret(t *testing.T, m *Main, ws string) string {
	t.Helper()
	fresh, err := latchkey.NewWebhookSecret(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	secret, err := m.store.WebhookSecret(context.Background(), ws, fresh)
	if err != nil {
		t.Fatal(err)
	}
	return secret
}
