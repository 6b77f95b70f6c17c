package main

import (
	"bytes"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// TestRevokedPlatformKeyIsRefusedOnEveryInstance: two instances on one
// PostgreSQL database; the key is used on both, revoked through one, and
// the other refuses its very next call (platform keys are read from the
// store at every call, so there is no cache to go stale).
func TestRevokedPlatformKeyIsRefusedOnEveryInstance(t *testing.T) {
	t.Parallel()
	c := startCluster(t, 2, nil)
	secret, _ := platformKeyCLI(t, []string{"--database-url", c.url}, "backend", "acme-cloud", "admin", allPlatformScopes...)
	acctOperatorPG(t, c.url, "support@vendor.example", acctPassword)
	v := apitest.New(t)
	a, b := c.mains[0].URL(), c.mains[1].URL()
	hc := v.Client(&http.Client{Timeout: 15 * time.Second})
	auth := "Authorization: Bearer " + secret
	created := send(t, hc, "POST", a+"/v1/workspaces", map[string]string{"name": "Globex", "external_id": "cust-1"}, auth)
	again := send(t, hc, "POST", b+"/v1/workspaces", map[string]string{"name": "Globex", "external_id": "cust-1"}, auth)
	if created.status != 201 || again.status != 200 || acctStr(created.body, "workspace", "id") != acctStr(again.body, "workspace", "id") {
		t.Fatalf("provisioning on two instances: %d %s / %d %s, want one workspace", created.status, created.raw, again.status, again.raw)
	}
	op := acctLogin(t, v, a, "support@vendor.example", acctPassword)
	list := send(t, op, "GET", a+"/v1/platform-keys", nil)
	keys, _ := list.body["data"].([]any)
	if len(keys) != 1 {
		t.Fatalf("platform keys: %s", list.raw)
	}
	id := acctStr(keys[0], "id")
	if got := send(t, op, "POST", a+"/v1/platform-keys/"+id+"/revoke", nil); got.status != 200 {
		t.Fatalf("revoking on instance A: %d %s", got.status, got.raw)
	}
	start := time.Now()
	if got := send(t, hc, "GET", b+"/v1/workspaces", nil, auth); got.status != 401 {
		t.Fatalf("instance B right after the revocation: got %d %s, want 401", got.status, got.raw)
	}
	t.Logf("instance B refused the revoked platform key %v after the revocation returned", time.Since(start))
}

// acctOperatorPG creates a platform operator with the CLI on a PostgreSQL store.
func acctOperatorPG(t *testing.T, url, email, pw string) {
	t.Helper()
	pwFile := filepath.Join(t.TempDir(), "operator-password")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"operator", "create", "--database-url", url, "--email", email, "--password-file", pwFile}, &out, &errb); code != 0 {
		t.Fatalf("latchkey operator create: exit %d, stderr %q", code, errb.String())
	}
}
