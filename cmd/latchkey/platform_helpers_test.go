package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// productOrigin is the vendor's product in these tests: the only origin a
// portal session may return to.
const productOrigin = "https://app.acme-cloud.example"

// platformWorld is a server run for a product ("Acme Cloud"): its store
// was initialised with one workspace made by an operator ("Acme"), the
// host's administrator created platform keys with the CLI, and the clock
// can be moved.
type platformWorld struct {
	s     *testServer
	v     *apitest.Validator
	clock *testClock
	// keys are the platform secrets by name: "full" (every scope, max role
	// admin, product acme-cloud), "portal" (portal:write only), "other"
	// (every scope, product other-app).
	keys map[string]string
	ids  map[string]string
}

type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// platformKeyCLI runs `latchkey operator platform-key` on a store.
func platformKeyCLI(t *testing.T, store []string, name, product, maxRole string, scopes ...string) (secret, id string) {
	t.Helper()
	args := append([]string{"operator", "platform-key"}, store...)
	args = append(args, "--name", name, "--product", product, "--max-role", maxRole, "--json")
	for _, s := range scopes {
		args = append(args, "--scope", s)
	}
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("latchkey operator platform-key: exit %d, stderr %q", code, errb.String())
	}
	var got struct {
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal(out.Bytes(), &got); err != nil || !strings.HasPrefix(got.Secret, "lk_platform_") {
		t.Fatalf("platform-key --json printed %q (%v), want a secret lk_platform_…", out.String(), err)
	}
	return got.Secret, got.Key.ID
}

var allPlatformScopes = []string{"workspaces:read", "workspaces:write", "members:write", "portal:write"}

func newPlatformWorld(t *testing.T, mod func(*Config)) *platformWorld {
	t.Helper()
	s := initStore(t)
	w := &platformWorld{s: s, v: apitest.New(t), clock: &testClock{now: time.Now().UTC().Truncate(time.Second)},
		keys: map[string]string{}, ids: map[string]string{}}
	store := []string{"--data-dir", s.DataDir}
	w.keys["full"], w.ids["full"] = platformKeyCLI(t, store, "Acme Cloud backend", "acme-cloud", "admin", allPlatformScopes...)
	w.keys["portal"], w.ids["portal"] = platformKeyCLI(t, store, "portal only", "acme-cloud", "admin", "portal:write")
	w.keys["other"], w.ids["other"] = platformKeyCLI(t, store, "Other product", "other-app", "owner", allPlatformScopes...)

	m := serveDataDirWith(t, s, func(cfg *Config) {
		cfg.Now, cfg.PortalOrigins = w.clock.Now, []string{productOrigin}
		cfg.Brand.Name, cfg.Brand.Accent = "Acme Cloud", "#0f766e"
		if mod != nil {
			mod(cfg)
		}
	})
	s.Main, s.URL = m, m.URL()
	return w
}

// as sends a request with the platform key name.
func (w *platformWorld) as(t *testing.T, key, method, path string, body any) exchange {
	t.Helper()
	return send(t, w.v.Client(&http.Client{Timeout: 15 * time.Second}), method, w.s.URL+path, body, "Authorization: Bearer "+w.keys[key])
}

// provision makes (or finds) the workspace of external id ext with the full key.
func (w *platformWorld) provision(t *testing.T, name, ext string) string {
	t.Helper()
	got := w.as(t, "full", "POST", "/v1/workspaces", map[string]string{"name": name, "external_id": ext})
	if got.status != 201 && got.status != 200 {
		t.Fatalf("provisioning %s: %d %s", ext, got.status, got.raw)
	}
	return acctStr(got.body, "workspace", "id")
}

// browser is a cookie-keeping client that does not follow redirects, so
// each hop of the portal sign-in can be checked.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 15 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// open GETs a console URL and returns the status, the Location and the body.
func open(t *testing.T, hc *http.Client, url string) (int, string, string) {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// portalURL mints a portal session for user in ws with the full key.
func (w *platformWorld) portalURL(t *testing.T, key, ws string, user map[string]string, returnURL string) exchange {
	t.Helper()
	body := map[string]any{"workspace_id": ws, "user": user}
	if returnURL != "" {
		body["return_url"] = returnURL
	}
	return w.as(t, key, "POST", "/v1/portal/sessions", body)
}
