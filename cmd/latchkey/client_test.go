package main

// The public Go client against the real wiring: every call goes through
// NewMain's server, SQLite store and verifier.

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// newGoClient is client.New for a server the test started.
func newGoClient(t *testing.T, baseURL string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(baseURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// verifyCode verifies secret with c and returns the refusal code, "" when valid.
func verifyCode(t *testing.T, c *client.Client, secret string, scopes ...string) latchkey.VerifyCode {
	t.Helper()
	res, err := c.Verify(context.Background(), client.VerifyRequest{Key: secret, Scopes: scopes})
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if res.Valid != (res.Code == "") {
		t.Fatalf("Verify: got valid %v with code %q", res.Valid, res.Code)
	}
	return res.Code
}

func TestClientKeyLifecycle(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := newGoClient(t, s.URL, client.WithToken(s.managementKey(t)))

	me, err := c.Me(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(me.Workspaces) != 1 || me.Workspaces[0].ID != s.WorkspaceID || me.User.Email != s.OwnerEmail {
		t.Fatalf("Me: got %+v, want the owner in workspace %s only", me, s.WorkspaceID)
	}
	cat, err := c.Catalog(ctx)
	if err != nil || !slices.ContainsFunc(cat.Types, func(kt client.KeyType) bool { return kt.Name == latchkey.TypePublicAPI }) {
		t.Fatalf("Catalog: got %+v, %v; want public_api among the types", cat, err)
	}

	created, err := c.CreateKey(ctx, s.WorkspaceID, client.CreateKeyRequest{
		Name: "billing", Scopes: []string{"items:read"}, Environment: latchkey.Demo, ExpiresIn: "30d",
	})
	if err != nil {
		t.Fatal(err)
	}
	k := created.Key
	if k.Name != "billing" || k.Type != latchkey.TypePublicAPI || k.Environment != latchkey.Demo || k.Status != latchkey.StatusActive || created.Secret == "" {
		t.Errorf("CreateKey: got %+v, want billing, public_api, demo, active (made inside the 30d notice window, so not expiring)", k)
	}
	res, err := c.Verify(ctx, client.VerifyRequest{Key: created.Secret, Scopes: []string{"items:read"}, Environment: latchkey.Demo})
	if err != nil || !res.Valid || res.Key.ID != k.ID || !res.Key.Demo() {
		t.Fatalf("Verify: got %+v, %v; want valid key %s", res, err, k.ID)
	}
	res, err = c.Verify(ctx, client.VerifyRequest{Key: created.Secret, KeyID: k.ID})
	if err != nil || !res.Valid {
		t.Errorf("Verify with the key id (Basic): got %+v, %v; want valid", res, err)
	}
	res, err = c.Verify(ctx, client.VerifyRequest{Key: created.Secret, KeyID: "key_01J00000000000000000000000"})
	if err != nil || res.Code != latchkey.KeyInvalid {
		t.Errorf("Verify with another key id: got %+v, %v; want key_invalid", res, err)
	}
	res, err = c.Verify(ctx, client.VerifyRequest{Key: created.Secret, Scopes: []string{"items:read", "users:read"}})
	if err != nil || res.Code != latchkey.InsufficientScope || !slices.Equal(res.Missing, []string{"users:read"}) {
		t.Errorf("Verify with a scope it lacks: got %+v, %v; want insufficient_scope missing users:read", res, err)
	}
	if code := verifyCode(t, c, "lk_prod_not-a-key"); code != latchkey.KeyMalformed {
		t.Errorf("Verify of garbage: got %q, want key_malformed", code)
	}

	name, desc := "billing v2", "invoices"
	up, err := c.UpdateKey(ctx, s.WorkspaceID, k.ID, client.UpdateKeyRequest{
		Name: &name, Description: &desc, Scopes: &[]string{"items:read", "users:read"},
		RateLimit: &latchkey.RateLimit{Limit: 100, Period: latchkey.Duration(time.Minute)},
	})
	if err != nil || up.Name != name || up.Description != desc || len(up.Scopes) != 2 || up.RateLimit == nil {
		t.Fatalf("UpdateKey: got %+v, %v", up, err)
	}
	if up, err = c.UpdateKey(ctx, s.WorkspaceID, k.ID, client.UpdateKeyRequest{ClearRateLimit: true}); err != nil || up.RateLimit != nil {
		t.Errorf("UpdateKey clearing the rate limit: got %+v, %v", up, err)
	}
	if code := verifyCode(t, c, created.Secret, "users:read"); code != "" {
		t.Errorf("Verify after adding users:read: got %q, want valid", code)
	}
	got, err := c.GetKey(ctx, s.WorkspaceID, k.ID)
	if err != nil || got.Name != name {
		t.Errorf("GetKey: got %+v, %v", got, err)
	}

	// Reset with a grace period: both secrets work; without: only the new one.
	reset, err := c.ResetKey(ctx, s.WorkspaceID, k.ID, time.Hour)
	if err != nil || reset.Secret == "" || reset.Secret == created.Secret || reset.Key.ID != k.ID {
		t.Fatalf("ResetKey: got %+v, %v", reset, err)
	}
	if a, b := verifyCode(t, c, created.Secret), verifyCode(t, c, reset.Secret); a != "" || b != "" {
		t.Errorf("during the grace period: got old %q and new %q, want both valid", a, b)
	}
	again, err := c.ResetKey(ctx, s.WorkspaceID, k.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if a, b := verifyCode(t, c, reset.Secret), verifyCode(t, c, again.Secret); a != latchkey.KeyInvalid || b != "" {
		t.Errorf("after a reset without grace: got old %q and new %q, want key_invalid and valid", a, b)
	}

	revoked, err := c.RevokeKey(ctx, s.WorkspaceID, k.ID)
	if err != nil || revoked.Status != latchkey.StatusRevoked || revoked.RevokedAt == nil {
		t.Fatalf("RevokeKey: got %+v, %v", revoked, err)
	}
	if code := verifyCode(t, c, again.Secret); code != latchkey.KeyRevoked {
		t.Errorf("Verify after revoke: got %q, want key_revoked", code)
	}
	if _, err := c.RevokeKey(ctx, s.WorkspaceID, k.ID); err != nil {
		t.Errorf("revoking twice: %v, want success", err)
	}

	if err := c.DeleteKey(ctx, s.WorkspaceID, k.ID); err != nil {
		t.Fatal(err)
	}
	if code := verifyCode(t, c, again.Secret); code != latchkey.KeyInvalid {
		t.Errorf("Verify after delete: got %q, want key_invalid", code)
	}
	if _, err := c.GetKey(ctx, s.WorkspaceID, k.ID); !client.IsNotFound(err) {
		t.Errorf("GetKey after delete: got %v, want a 404", err)
	}

	evs, err := c.Events(ctx, s.WorkspaceID, client.EventsOptions{Target: k.ID})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range evs.Data {
		actions = append(actions, e.Action)
	}
	for _, want := range []string{"key.created", "key.updated", "key.reset", "key.revoked", "key.deleted"} {
		if !slices.Contains(actions, want) {
			t.Errorf("Events: got %v, want %s among them", actions, want)
		}
	}
}

func TestClientListKeys(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := newGoClient(t, s.URL, client.WithToken(s.managementKey(t)))
	for _, in := range []client.CreateKeyRequest{
		{Name: "alpha"}, {Name: "beta", Environment: latchkey.Demo}, {Name: "gamma"},
		{Name: "agent", Type: latchkey.TypeOnPremise, Settings: map[string]any{"retrieve_signatures": true}},
	} {
		if _, err := c.CreateKey(ctx, s.WorkspaceID, in); err != nil {
			t.Fatalf("creating %s: %v", in.Name, err)
		}
	}
	tests := []struct {
		opts client.ListKeysOptions
		want []string
	}{
		{client.ListKeysOptions{Type: latchkey.TypePublicAPI}, []string{"alpha", "beta", "gamma"}},
		{client.ListKeysOptions{Environment: latchkey.Demo}, []string{"beta"}},
		{client.ListKeysOptions{Query: "gam"}, []string{"gamma"}},
		{client.ListKeysOptions{Type: latchkey.TypeOnPremise}, []string{"agent"}},
		{client.ListKeysOptions{Status: latchkey.StatusRevoked}, nil},
	}
	for _, tt := range tests {
		page, err := c.ListKeys(ctx, s.WorkspaceID, tt.opts)
		if err != nil {
			t.Fatalf("ListKeys(%+v): %v", tt.opts, err)
		}
		var names []string
		for _, k := range page.Data {
			names = append(names, k.Name)
		}
		slices.Sort(names)
		if !slices.Equal(names, tt.want) {
			t.Errorf("ListKeys(%+v): got %v, want %v", tt.opts, names, tt.want)
		}
	}

	// One key per page: AllKeys follows the cursors to every key, once.
	seen := map[string]int{}
	for k, err := range c.AllKeys(ctx, s.WorkspaceID, client.ListKeysOptions{Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		seen[k.Name]++
	}
	if len(seen) != 5 { // four keys and the management key itself
		t.Errorf("AllKeys: got %v, want 5 keys once each", seen)
	}
	for name, n := range seen {
		if n != 1 {
			t.Errorf("AllKeys: %s came %d times", name, n)
		}
	}
}

func TestClientErrors(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := newGoClient(t, s.URL, client.WithToken(s.managementKey(t)))
	readOnly := newGoClient(t, s.URL, client.WithToken(s.managementKey(t, "keys:read")))
	tests := []struct {
		name   string
		call   func() error
		status int
		code   client.ErrorCode
	}{
		{"bad token", func() error { _, err := newGoClient(t, s.URL, client.WithToken("lk_prod_x")).Me(ctx); return err }, 401, "unauthenticated"},
		{"no name", func() error { _, err := c.CreateKey(ctx, s.WorkspaceID, client.CreateKeyRequest{}); return err }, 400, "invalid_request"},
		{"unknown scope", func() error {
			_, err := c.CreateKey(ctx, s.WorkspaceID, client.CreateKeyRequest{Name: "x", Scopes: []string{"nope:read"}})
			return err
		}, 400, "invalid_request"},
		{"another workspace", func() error {
			_, err := c.ListKeys(ctx, "ws_01J00000000000000000000000", client.ListKeysOptions{})
			return err
		}, 404, "not_found"},
		{"missing scope", func() error {
			_, err := readOnly.CreateKey(ctx, s.WorkspaceID, client.CreateKeyRequest{Name: "x"})
			return err
		}, 403, "forbidden"},
		{"grace too long", func() error {
			_, err := c.ResetKey(ctx, s.WorkspaceID, "key_01J00000000000000000000000", 8*latchkey.Day)
			return err
		}, 400, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var e *client.Error
			err := tt.call()
			if !errors.As(err, &e) || e.Status != tt.status || e.Code != tt.code || e.Message == "" {
				t.Errorf("got %v, want a %d %s with a message", err, tt.status, tt.code)
			}
			// The code's sentinel matches through errors.Is, and no other.
			sentinels := map[client.ErrorCode]error{"unauthenticated": client.ErrUnauthenticated, "invalid_request": client.ErrInvalidRequest,
				"not_found": client.ErrNotFound, "forbidden": client.ErrForbidden}
			if !errors.Is(err, sentinels[tt.code]) || errors.Is(err, client.ErrInternal) {
				t.Errorf("errors.Is(%v, the %s sentinel): got false, or a match with another code", err, tt.code)
			}
		})
	}
}

func TestMiddlewareWithServer(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	c := newGoClient(t, s.URL, client.WithToken(s.managementKey(t)))
	reader, err := c.CreateKey(ctx, s.WorkspaceID, client.CreateKeyRequest{Name: "reader", Scopes: []string{"items:read"}})
	if err != nil {
		t.Fatal(err)
	}
	other, err := c.CreateKey(ctx, s.WorkspaceID, client.CreateKeyRequest{Name: "other", Scopes: []string{"users:read"}})
	if err != nil {
		t.Fatal(err)
	}
	// The guarded service knows only latchkey's URL: verify needs no token.
	guard := client.Middleware(newGoClient(t, s.URL), client.MiddlewareOptions{Scopes: []string{"items:read"}})
	app := httptest.NewServer(guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, _ := client.KeyFromContext(r.Context())
		io.WriteString(w, k.Name)
	})))
	defer app.Close()

	get := func(header, value string) (int, string) {
		req, _ := http.NewRequest("GET", app.URL, nil)
		if header != "" {
			req.Header.Set(header, value)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	basic := func(id, secret string) string {
		r, _ := http.NewRequest("GET", "/", nil)
		r.SetBasicAuth(id, secret)
		return r.Header.Get("Authorization")
	}
	tests := []struct {
		name, header, value string
		status              int
		body                string
	}{
		{"x-api-key", "X-API-Key", reader.Secret, 200, "reader"},
		{"bearer", "Authorization", "Bearer " + reader.Secret, 200, "reader"},
		{"basic", "Authorization", basic(reader.Key.ID, reader.Secret), 200, "reader"},
		{"basic with another id", "Authorization", basic(other.Key.ID, reader.Secret), 401, `"key_invalid"`},
		{"no key", "", "", 401, `"key_missing"`},
		{"wrong scope", "X-API-Key", other.Secret, 403, `"missing_scopes":["items:read"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := get(tt.header, tt.value)
			if status != tt.status || !strings.Contains(body, tt.body) {
				t.Errorf("got %d %s, want %d with %s", status, body, tt.status, tt.body)
			}
		})
	}
	if _, err := c.RevokeKey(ctx, s.WorkspaceID, reader.Key.ID); err != nil {
		t.Fatal(err)
	}
	if status, body := get("X-API-Key", reader.Secret); status != 401 || !strings.Contains(body, `"key_revoked"`) {
		t.Errorf("after revoke: got %d %s, want 401 key_revoked", status, body)
	}
}
