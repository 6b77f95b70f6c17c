package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestCustomCatalog replaces the catalog with an operator's file: its
// types and scopes are what keys may use.
func TestCustomCatalog(t *testing.T) {
	dir := t.TempDir()
	catalog := filepath.Join(dir, "catalog.json")
	const file = `{"types": [
		{"name": "reporting", "label": "Reporting", "personal": true, "scopes": [{"name": "reports:read", "label": "Read reports"}],
		 "settings": [{"name": "region", "label": "Region", "kind": "enum", "values": ["eu", "us"], "default": "eu"}]},
		{"name": "scim", "label": "SCIM"},
		{"name": "management", "label": "Management", "scopes": [{"name": "keys:read", "label": "Read keys"}]}
	]}`
	if err := os.WriteFile(catalog, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	var boot strings.Builder
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMain(ctx, Config{DataDir: filepath.Join(dir, "data"), Addr: "127.0.0.1:0", TokenPrefix: "acme", CatalogFile: catalog,
		OwnerEmail: "owner@example.com", Logger: slog.New(slog.DiscardHandler), Stdout: &boot})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() { cancel(); <-done; m.Close() }()

	var pw string
	for _, line := range strings.Split(boot.String(), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "password:" {
			pw = f[1]
		}
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	login := send(t, hc, "POST", m.URL()+"/v1/auth/login", map[string]string{"email": "owner@example.com", "password": pw})
	ws := login.body["workspaces"].([]any)[0].(map[string]any)["id"].(string)
	keys := m.URL() + "/v1/workspaces/" + ws + "/keys"

	got := send(t, hc, "POST", keys, map[string]any{"name": "BI export", "type": "reporting", "scopes": []string{"reports:read"}})
	if got.status != 201 || !strings.HasPrefix(got.body["secret"].(string), "acme_prod_") ||
		got.body["key"].(map[string]any)["settings"].(map[string]any)["region"] != "eu" {
		t.Fatalf("a key of the operator's type: %d %s", got.status, got.raw)
	}
	expect(t, "a type the catalog does not have", send(t, hc, "POST", keys, map[string]any{"name": "x", "type": "public_api"}), 400, "invalid_request")
	expect(t, "a scope the type does not have", send(t, hc, "POST", keys, map[string]any{"name": "x", "type": "reporting", "scopes": []string{"items:read"}}), 400, "invalid_request")
	secret := got.body["secret"].(string)
	expect(t, "verify with the type", send(t, hc, "POST", m.URL()+"/v1/keys/verify", map[string]any{"key": secret, "type": "reporting", "scopes": []string{"reports:read"}}), 200, "")
}

// TestBadCatalogIsAUsageError: a broken catalog file stops serve with a
// clear message and exit code 2.
func TestBadCatalogIsAUsageError(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"types": [{"name": "public_api", "label": "x"}]}`), 0o600)
	var out, errb strings.Builder
	code := run([]string{"serve", "--data-dir", filepath.Join(dir, "d"), "--addr", "127.0.0.1:0", "--catalog", bad}, &out, &errb)
	if code != 2 || !strings.Contains(errb.String(), "built-in type") {
		t.Fatalf("exit %d, stderr %q; want 2 naming the missing built-in type", code, errb.String())
	}
}
