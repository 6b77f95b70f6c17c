package main

// The Go client's calls for usage, settings, members and webhooks against
// the real wiring.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func TestClientKeyUsage(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := newGoClient(t, s.URL, client.WithToken(s.managementKey(t)))
	k, err := c.CreateKey(ctx, s.WorkspaceID, client.CreateKeyRequest{Name: "metered", Scopes: []string{"items:read"}, Environment: latchkey.Demo})
	if err != nil {
		t.Fatal(err)
	}
	verifier := newGoClient(t, s.URL)
	verifyCode(t, verifier, k.Secret, "items:read")
	verifyCode(t, verifier, k.Secret, "items:read")
	verifyCode(t, verifier, k.Secret, "users:read") // denied
	deadline := time.Now().Add(10 * time.Second)
	for {
		days, err := c.KeyUsage(ctx, s.WorkspaceID, k.Key.ID, client.UsageOptions{})
		if err != nil {
			t.Fatal(err)
		}
		// Usage is flushed in batches: wait for all three.
		if len(days) == 1 && days[0].Valid == 2 && days[0].Denied == 1 {
			if d := days[0]; d.Environment != latchkey.Demo || d.Day != time.Now().UTC().Format(time.DateOnly) {
				t.Errorf("got %+v, want today's demo usage", d)
			}
			break
		}
		if len(days) > 1 || (len(days) == 1 && (days[0].Valid > 2 || days[0].Denied > 1)) {
			t.Fatalf("got %+v, want one day with 2 valid and 1 denied", days)
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage never showed the three verifications: %+v", days)
		}
		time.Sleep(20 * time.Millisecond)
	}
	days, err := c.KeyUsage(ctx, s.WorkspaceID, k.Key.ID, client.UsageOptions{From: time.Now().AddDate(0, 0, -40), To: time.Now().AddDate(0, 0, -35)})
	if err != nil || len(days) != 0 {
		t.Errorf("usage of days without traffic: got %+v, %v, want none", days, err)
	}
	var e *client.Error
	_, err = c.KeyUsage(ctx, s.WorkspaceID, k.Key.ID, client.UsageOptions{From: time.Now(), To: time.Now().AddDate(0, 0, -1)})
	if !errors.Is(err, client.ErrInvalidRequest) || !errors.As(err, &e) || e.Field() != "from" {
		t.Errorf("usage from after to: got %v, want invalid_request on from", err)
	}
	// Another workspace's key, or a key the caller may not read, is not found.
	if _, err := c.KeyUsage(ctx, "ws_01J00000000000000000000000", k.Key.ID, client.UsageOptions{}); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("usage in another workspace: got %v, want not found", err)
	}
}

func TestClientSettingsAndMembers(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := newGoClient(t, s.URL, client.WithToken(s.managementKey(t, "keys:read", "members:read", "members:write")))
	keysOnly := newGoClient(t, s.URL, client.WithToken(s.managementKey(t, "keys:read")))

	st, err := c.Settings(ctx, s.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(st.Expiration.MaxLifetime) != latchkey.Year || st.ScimKeyIssuance != "admins" || st.OnLeak != "revoke" || !st.MembersMayCreatePersonalKeys {
		t.Errorf("Settings: got %+v, want the defaults", st)
	}
	if _, err := c.Settings(ctx, "ws_01J00000000000000000000000"); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("Settings of another workspace: got %v, want not found", err)
	}

	members, err := c.Members(ctx, s.WorkspaceID)
	if err != nil || len(members) != 1 || members[0].Email != s.OwnerEmail || members[0].Role != "owner" {
		t.Fatalf("Members: got %+v, %v, want the owner alone", members, err)
	}
	if _, err := keysOnly.Members(ctx, s.WorkspaceID); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("Members with a key without members:read: got %v, want forbidden", err)
	}

	added, err := c.AddMember(ctx, s.WorkspaceID, client.AddMemberRequest{Email: "grace@example.com", Name: "Grace", Role: "admin"})
	if err != nil {
		t.Fatal(err)
	}
	if added.Member.Role != "admin" || !added.Member.Invited || added.InviteURL == "" || added.InviteToken == "" {
		t.Errorf("AddMember: got %+v, want an invited admin and an invitation", added)
	}
	id := added.Member.UserID
	m, err := c.SetMemberRole(ctx, s.WorkspaceID, id, "member")
	if err != nil || m.Role != "member" {
		t.Errorf("SetMemberRole member: got %+v, %v", m, err)
	}
	// No key makes an owner, not even one its owner made.
	if _, err := c.SetMemberRole(ctx, s.WorkspaceID, id, "owner"); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("SetMemberRole owner with a key: got %v, want forbidden", err)
	}
	if _, err := c.AddMember(ctx, s.WorkspaceID, client.AddMemberRequest{Email: "eve@example.com", Role: "owner"}); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("AddMember of an owner with a key: got %v, want forbidden", err)
	}
	if _, err := keysOnly.AddMember(ctx, s.WorkspaceID, client.AddMemberRequest{Email: "eve@example.com"}); !errors.Is(err, client.ErrForbidden) {
		t.Errorf("AddMember with a key without members:write: got %v, want forbidden", err)
	}
	if _, err := c.SetMemberRole(ctx, s.WorkspaceID, id, "emperor"); !errors.Is(err, client.ErrInvalidRequest) {
		t.Errorf("SetMemberRole to an unknown role: got %v, want invalid_request", err)
	}
	if err := c.DeleteMember(ctx, s.WorkspaceID, id); err != nil {
		t.Fatal(err)
	}
	if members, err := c.Members(ctx, s.WorkspaceID); err != nil || len(members) != 1 {
		t.Errorf("Members after DeleteMember: got %+v, %v, want the owner alone", members, err)
	}
	if err := c.DeleteMember(ctx, "ws_01J00000000000000000000000", s.OwnerID); !errors.Is(err, client.ErrNotFound) {
		t.Errorf("DeleteMember in another workspace: got %v, want not found", err)
	}
}

// TestClientVerifiesRealWebhooks: what the server's webhook sender signs,
// VerifyWebhook accepts, with the secret the workspace settings show.
func TestClientVerifiesRealWebhooks(t *testing.T) {
	type delivery struct {
		header http.Header
		body   []byte
	}
	got := make(chan delivery, 10)
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got <- delivery{r.Header.Clone(), b}
	}))
	defer receiver.Close()
	s := startServerWith(t, func(c *Config) {
		c.WebhookInterval = 20 * time.Millisecond
		c.WebhooksAllowPrivate = true
	})
	ctx := context.Background()
	c := newGoClient(t, s.URL, client.WithToken(s.managementKey(t)))
	k, err := c.CreateKey(ctx, s.WorkspaceID, client.CreateKeyRequest{Name: "hooked", CallbackURL: receiver.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.RevokeKey(ctx, s.WorkspaceID, k.Key.ID); err != nil {
		t.Fatal(err)
	}
	var d delivery
	select {
	case d = <-got:
	case <-time.After(15 * time.Second):
		t.Fatal("no webhook within 15 s")
	}
	var sec struct {
		Secret string `json:"secret"`
	}
	if status := s.call(t, s.login(t), http.MethodGet, "/v1/workspaces/"+s.WorkspaceID+"/webhook-secret", nil, &sec); status != 200 || !strings.HasPrefix(sec.Secret, "whsec_") {
		t.Fatalf("webhook secret: %d %q", status, sec.Secret)
	}
	ev, err := client.VerifyWebhook(sec.Secret, d.header, d.body)
	if err != nil {
		t.Fatalf("VerifyWebhook of a real delivery: %v (headers %v)", err, d.header)
	}
	if ev.Type != "key.revoked" || ev.Key.ID != k.Key.ID || ev.Key.RevokedAt == nil || ev.ID != d.header.Get("webhook-id") {
		t.Errorf("got %+v, want key.revoked of %s", ev, k.Key.ID)
	}
	tampered := []byte(strings.Replace(string(d.body), "key.revoked", "key.enabled", 1))
	if _, err := client.VerifyWebhook(sec.Secret, d.header, tampered); !errors.Is(err, client.ErrWebhookSignature) {
		t.Errorf("a tampered delivery: got %v, want ErrWebhookSignature", err)
	}
}
