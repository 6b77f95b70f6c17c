package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// exchange is one HTTP call of an end-to-end test and its answer.
type exchange struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

// errCode is the answer's error.code, "" when there is none.
func (e exchange) errCode() string {
	if m, ok := e.body["error"].(map[string]any); ok {
		s, _ := m["code"].(string)
		return s
	}
	return ""
}

// send makes one request: body is JSON-encoded unless it is a string or
// []byte (sent as is); headers are "Name: value" pairs.
func send(t *testing.T, hc *http.Client, method, url string, body any, headers ...string) exchange {
	t.Helper()
	var rd io.Reader
	ctype := ""
	switch b := body.(type) {
	case nil:
	case string:
		rd, ctype = strings.NewReader(b), "application/json"
	case []byte:
		rd, ctype = bytes.NewReader(b), "application/json"
	default:
		j, _ := json.Marshal(b)
		rd, ctype = bytes.NewReader(j), "application/json"
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	ex := exchange{status: resp.StatusCode, header: resp.Header, raw: raw}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") && len(raw) > 0 {
		if err := json.Unmarshal(raw, &ex.body); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %s", method, url, raw)
		}
	}
	return ex
}

func expect(t *testing.T, what string, got exchange, status int, code string) {
	t.Helper()
	if got.status != status || got.errCode() != code {
		t.Errorf("%s: got %d %q, want %d %q (body %s)", what, got.status, got.errCode(), status, code, got.raw)
	}
}

// TestAPIEndToEnd runs the REST API through the real wiring, every
// exchange validated against the OpenAPI document.
func TestAPIEndToEnd(t *testing.T) {
	s := startServer(t)
	v := apitest.New(t)
	anon := v.Client(&http.Client{Timeout: 10 * time.Second})
	owner := v.Client(s.login(t))
	keys := s.URL + "/v1/workspaces/" + s.WorkspaceID + "/keys"

	t.Run("authentication", func(t *testing.T) {
		got := send(t, anon, "GET", s.URL+"/v1/me", nil)
		expect(t, "me without a session", got, 401, "unauthenticated")
		if got.header.Get("WWW-Authenticate") == "" {
			t.Error("401 without WWW-Authenticate")
		}
		wrong := send(t, anon, "POST", s.URL+"/v1/auth/login", map[string]string{"email": s.OwnerEmail, "password": "not the password!"})
		unknown := send(t, anon, "POST", s.URL+"/v1/auth/login", map[string]string{"email": "nobody@example.com", "password": "not the password!"})
		expect(t, "wrong password", wrong, 401, "unauthenticated")
		expect(t, "unknown email", unknown, 401, "unauthenticated")
		if string(wrong.raw) != string(unknown.raw) {
			t.Errorf("login answers tell emails apart: %s vs %s", wrong.raw, unknown.raw)
		}
		me := send(t, owner, "GET", s.URL+"/v1/me", nil)
		ws := me.body["workspaces"].([]any)[0].(map[string]any)
		if me.status != 200 || ws["id"] != s.WorkspaceID || ws["role"] != "owner" {
			t.Errorf("me = %d %s", me.status, me.raw)
		}
	})

	var secret, keyID string
	t.Run("create, get, list", func(t *testing.T) {
		got := send(t, owner, "POST", keys, map[string]any{
			"name": "Billing sync", "description": "nightly", "scopes": []string{"items:read", "users:read"},
			"expires_in": "90d", "callback_url": "https://hooks.example.com/latchkey",
		})
		if got.status != 201 {
			t.Fatalf("create: %d %s", got.status, got.raw)
		}
		secret = got.body["secret"].(string)
		key := got.body["key"].(map[string]any)
		keyID = key["id"].(string)
		if !strings.HasPrefix(secret, key["start"].(string)) || key["status"] != "active" || key["owner"] != "workspace" {
			t.Errorf("created key = %s", got.raw)
		}
		if got.header.Get("Cache-Control") != "no-store" {
			t.Error("the answer carrying a secret may be cached")
		}
		one := send(t, owner, "GET", keys+"/"+keyID, nil)
		if one.status != 200 || strings.Contains(string(one.raw), secret) {
			t.Errorf("get: %d, or it shows the secret: %s", one.status, one.raw)
		}
		send(t, owner, "POST", keys, map[string]any{"name": "Demo agent", "type": "on_premise", "environment": "demo", "expires_in": "1h"})
		send(t, owner, "POST", keys, map[string]any{"name": "My own", "owner": "me", "scopes": []string{"items:read"}})
		// The 1-hour key was made inside the 30-day notice window: its
		// expiry is no news, so it is active, not expiring (Key.Status).
		for query, want := range map[string]int{
			"": 3, "?type=on_premise": 1, "?environment=demo": 1, "?status=expiring": 0, "?status=active": 3,
			"?q=billing": 1, "?owner=me": 1, "?owner=workspace": 2, "?status=revoked": 0,
		} {
			l := send(t, owner, "GET", keys+query, nil)
			if n := len(l.body["data"].([]any)); l.status != 200 || n != want {
				t.Errorf("list %q: got %d keys, want %d", query, n, want)
			}
		}
		page := send(t, owner, "GET", keys+"?limit=2", nil)
		next, _ := page.body["next_cursor"].(string)
		rest := send(t, owner, "GET", keys+"?limit=2&cursor="+next, nil)
		if len(page.body["data"].([]any)) != 2 || next == "" || len(rest.body["data"].([]any)) != 1 || rest.body["next_cursor"] != "" {
			t.Errorf("pagination: %s then %s", page.raw, rest.raw)
		}
	})

	t.Run("verify", func(t *testing.T) {
		post := func(body any, headers ...string) exchange {
			return send(t, anon, "POST", s.URL+"/v1/keys/verify", body, headers...)
		}
		ok := post(map[string]any{"key": secret, "scopes": []string{"items:read"}, "type": "public_api", "environment": "production"})
		if ok.status != 200 || ok.body["valid"] != true || ok.body["key"].(map[string]any)["id"] != keyID {
			t.Errorf("valid key: %d %s", ok.status, ok.raw)
		}
		scope := post(map[string]any{"key": secret, "scopes": []string{"items:read", "secrets:read"}})
		expect(t, "missing scope", scope, 403, "insufficient_scope")
		if d, _ := scope.body["error"].(map[string]any)["details"].(map[string]any); d == nil || len(d["missing_scopes"].([]any)) != 1 {
			t.Errorf("missing scopes not listed: %s", scope.raw)
		}
		expect(t, "wrong type", post(map[string]any{"key": secret, "type": "scim"}), 403, "wrong_type")
		expect(t, "wrong environment", post(map[string]any{"key": secret, "environment": "demo"}), 403, "wrong_environment")
		expect(t, "no key", post(map[string]any{}), 401, "key_missing")
		typo := "x"
		if secret[20] == 'x' {
			typo = "y"
		}
		expect(t, "typo", post(map[string]any{"key": secret[:20] + typo + secret[21:]}), 401, "key_malformed")
		expect(t, "bad body", post(`{"key": 1}`), 400, "invalid_request")

		fwd := func(headers ...string) exchange {
			return send(t, anon, "GET", s.URL+"/v1/verify?scope=items:read", nil, headers...)
		}
		for name, h := range map[string]string{
			"X-API-Key": "X-API-Key: " + secret,
			"Bearer":    "Authorization: Bearer " + secret,
			"Basic":     "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(keyID+":"+secret)),
		} {
			got := fwd(h)
			if got.status != 200 || got.header.Get("X-Latchkey-Key-Id") != keyID || got.header.Get("X-Latchkey-Workspace-Id") != s.WorkspaceID || got.header.Get("X-Latchkey-Scopes") != "items:read users:read" {
				t.Errorf("forward auth with %s: %d %v", name, got.status, got.header)
			}
		}
		wrongUser := fwd("Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte("key_01ARZ3NDEKTSV4RRFFQ69G5FAV:"+secret)))
		expect(t, "basic auth with another key's id", wrongUser, 401, "key_invalid")
		missing := fwd()
		expect(t, "forward auth without a key", missing, 401, "key_missing")
		if !strings.HasPrefix(missing.header.Get("WWW-Authenticate"), "Bearer") {
			t.Errorf("WWW-Authenticate = %q", missing.header.Get("WWW-Authenticate"))
		}
	})

	t.Run("patch and rate limit", func(t *testing.T) {
		got := send(t, owner, "PATCH", keys+"/"+keyID, map[string]any{"name": "Billing sync v2", "scopes": []string{"items:read"}, "rate_limit": map[string]any{"limit": 2, "period": "1m"}})
		if got.status != 200 || got.body["key"].(map[string]any)["name"] != "Billing sync v2" {
			t.Fatalf("patch: %d %s", got.status, got.raw)
		}
		expect(t, "narrowed scope", send(t, anon, "POST", s.URL+"/v1/keys/verify", map[string]any{"key": secret, "scopes": []string{"users:read"}}), 403, "insufficient_scope")
		var last exchange
		for range 3 {
			last = send(t, anon, "GET", s.URL+"/v1/verify", nil, "X-API-Key: "+secret)
		}
		expect(t, "third call of a 2/min key", last, 429, "rate_limited")
		if last.header.Get("Retry-After") == "" {
			t.Error("429 without Retry-After")
		}
		cleared := send(t, owner, "PATCH", keys+"/"+keyID, `{"rate_limit": null}`)
		if cleared.status != 200 || cleared.body["key"].(map[string]any)["rate_limit"] != nil {
			t.Errorf("clearing the rate limit: %d %s", cleared.status, cleared.raw)
		}
		expect(t, "after clearing", send(t, anon, "GET", s.URL+"/v1/verify", nil, "X-API-Key: "+secret), 200, "")
		expect(t, "unknown setting", send(t, owner, "PATCH", keys+"/"+keyID, map[string]any{"settings": map[string]any{"x": true}}), 400, "invalid_request")
	})

	t.Run("reset with grace, revoke, delete", func(t *testing.T) {
		got := send(t, owner, "POST", keys+"/"+keyID+"/reset", map[string]any{"grace_period": "1h"})
		if got.status != 200 {
			t.Fatalf("reset: %d %s", got.status, got.raw)
		}
		fresh := got.body["secret"].(string)
		for _, sec := range []string{secret, fresh} {
			expect(t, "during grace", send(t, anon, "GET", s.URL+"/v1/verify", nil, "X-API-Key: "+sec), 200, "")
		}
		expect(t, "grace too long", send(t, owner, "POST", keys+"/"+keyID+"/reset", map[string]any{"grace_period": "8d"}), 400, "invalid_request")
		for range 2 {
			expect(t, "revoke (idempotent)", send(t, owner, "POST", keys+"/"+keyID+"/revoke", nil), 200, "")
		}
		for _, sec := range []string{secret, fresh} {
			expect(t, "after revoke", send(t, anon, "GET", s.URL+"/v1/verify", nil, "X-API-Key: "+sec), 401, "key_revoked")
		}
		expect(t, "reset of a revoked key", send(t, owner, "POST", keys+"/"+keyID+"/reset", nil), 409, "conflict")
		expect(t, "delete", send(t, owner, "DELETE", keys+"/"+keyID, nil), 204, "")
		expect(t, "after delete", send(t, anon, "GET", s.URL+"/v1/verify", nil, "X-API-Key: "+fresh), 401, "key_invalid")
		expect(t, "get after delete", send(t, owner, "GET", keys+"/"+keyID, nil), 404, "not_found")
		evs := send(t, owner, "GET", s.URL+"/v1/workspaces/"+s.WorkspaceID+"/events?action=key.&target="+keyID, nil)
		var actions []string
		for _, e := range evs.body["data"].([]any) {
			actions = append(actions, e.(map[string]any)["action"].(string))
		}
		if strings.Join(actions, ",") != "key.deleted,key.revoked,key.reset,key.updated,key.updated,key.created" {
			t.Errorf("events = %v", actions)
		}
	})

	t.Run("management key", func(t *testing.T) {
		mk := s.managementKey(t, "keys:read")
		list := send(t, anon, "GET", keys, nil, "Authorization: Bearer "+mk)
		expect(t, "list with keys:read", list, 200, "")
		expect(t, "create with keys:read only", send(t, anon, "POST", keys, map[string]any{"name": "x"}, "Authorization: Bearer "+mk), 403, "forbidden")
		expect(t, "events without events:read", send(t, anon, "GET", s.URL+"/v1/workspaces/"+s.WorkspaceID+"/events", nil, "X-API-Key: "+mk), 403, "forbidden")
		expect(t, "another workspace", send(t, anon, "GET", s.URL+"/v1/workspaces/ws_01ARZ3NDEKTSV4RRFFQ69G5FAV/keys", nil, "Authorization: Bearer "+mk), 404, "not_found")
		pub := send(t, owner, "POST", keys, map[string]any{"name": "public"})
		expect(t, "a public_api key on the management API", send(t, anon, "GET", keys, nil, "Authorization: Bearer "+pub.body["secret"].(string)), 401, "unauthenticated")
		expect(t, "a malformed key on the management API", send(t, anon, "GET", keys, nil, "Authorization: Bearer nope"), 401, "unauthenticated")
	})

	t.Run("bad input", func(t *testing.T) {
		expect(t, "malformed JSON", send(t, owner, "POST", keys, `{"name": `), 400, "invalid_request")
		expect(t, "unknown field", send(t, owner, "POST", keys, `{"name": "x", "colour": "red"}`), 400, "invalid_request")
		expect(t, "two objects", send(t, owner, "POST", keys, `{"name": "x"} {}`), 400, "invalid_request")
		expect(t, "wrong type", send(t, owner, "POST", keys, `{"name": 5}`), 400, "invalid_request")
		expect(t, "bad time", send(t, owner, "POST", keys, `{"name": "x", "expires_at": "tomorrow"}`), 400, "invalid_request")
		huge := `{"name": "` + strings.Repeat("a", 1<<20) + `"}`
		expect(t, "over 1 MiB", send(t, owner, "POST", keys, huge), 413, "body_too_large")
		expect(t, "form post", send(t, owner, "POST", keys, nil, "Content-Type: application/x-www-form-urlencoded"), 415, "unsupported_media")
		expect(t, "junk key id", send(t, owner, "GET", keys+"/..%2f..", nil), 404, "not_found")
		expect(t, "unknown key id", send(t, owner, "GET", keys+"/key_01ARZ3NDEKTSV4RRFFQ69G5FAV", nil), 404, "not_found")
		expect(t, "another workspace", send(t, owner, "GET", s.URL+"/v1/workspaces/ws_01ARZ3NDEKTSV4RRFFQ69G5FAV/keys", nil), 404, "not_found")
		expect(t, "bad status filter", send(t, owner, "GET", keys+"?status=green", nil), 400, "invalid_request")
		expect(t, "bad limit", send(t, owner, "GET", keys+"?limit=0", nil), 400, "invalid_request")
		expect(t, "bad cursor", send(t, owner, "GET", keys+"?cursor=%%%", nil), 400, "invalid_request")
		expect(t, "unknown endpoint", send(t, owner, "GET", s.URL+"/v1/nothing", nil), 404, "not_found")
		cross := send(t, owner, "POST", keys, map[string]any{"name": "csrf"}, "Origin: https://evil.example", "Sec-Fetch-Site: cross-site")
		expect(t, "cross-origin post with a cookie", cross, 403, "forbidden")
	})

	t.Run("settings and catalog", func(t *testing.T) {
		st := send(t, owner, "GET", s.URL+"/v1/workspaces/"+s.WorkspaceID+"/settings", nil)
		exp, _ := st.body["expiration"].(map[string]any)
		if st.status != 200 || exp["max_lifetime"] != "1y" || st.body["scim_key_issuance"] != "admins" {
			t.Errorf("settings = %d %s", st.status, st.raw)
		}
		cat := send(t, owner, "GET", s.URL+"/v1/catalog", nil)
		if cat.status != 200 || len(cat.body["types"].([]any)) != 4 {
			t.Errorf("catalog = %d %s", cat.status, cat.raw)
		}
	})

	t.Run("operations", func(t *testing.T) {
		for _, p := range []string{"/healthz", "/readyz", "/metrics", "/openapi.json"} {
			if got := send(t, anon, "GET", s.URL+p, nil); got.status != 200 {
				t.Errorf("%s: %d", p, got.status)
			}
		}
		m := send(t, anon, "GET", s.URL+"/metrics", nil)
		for _, want := range []string{`latchkey_verify_results_total{code="valid"}`, `latchkey_verify_results_total{code="key_revoked"}`, "latchkey_verify_duration_seconds", "latchkey_http_requests_total"} {
			if !strings.Contains(string(m.raw), want) {
				t.Errorf("/metrics lacks %s", want)
			}
		}
	})

	t.Run("usage", func(t *testing.T) {
		got := send(t, owner, "POST", keys, map[string]any{"name": "metered", "environment": "demo"})
		id, sec := got.body["key"].(map[string]any)["id"].(string), got.body["secret"].(string)
		send(t, anon, "GET", s.URL+"/v1/verify", nil, "X-API-Key: "+sec)
		send(t, anon, "GET", s.URL+"/v1/verify?scope=items:read", nil, "X-API-Key: "+sec)
		deadline := time.Now().Add(10 * time.Second)
		for {
			u := send(t, owner, "GET", keys+"/"+id+"/usage", nil)
			// The two verifications may reach the store in two flushes:
			// wait for both counts, and fail on anything else.
			if days := u.body["data"].([]any); len(days) == 1 {
				d := days[0].(map[string]any)
				if d["valid"] == 1.0 && d["denied"] == 1.0 && d["environment"] == "demo" {
					break
				}
				if d["valid"].(float64) > 1 || d["denied"].(float64) > 1 || d["environment"] != "demo" {
					t.Fatalf("usage = %s", u.raw)
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("usage never flushed both verifications: %s", u.raw)
			}
			time.Sleep(20 * time.Millisecond)
		}
		// last_used_at follows with the fold of the usage log.
		for {
			k := send(t, owner, "GET", keys+"/"+id, nil)
			if k.body["key"].(map[string]any)["last_used_at"] != nil {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("last_used_at not recorded")
			}
			time.Sleep(20 * time.Millisecond)
		}
	})

	t.Run("logout", func(t *testing.T) {
		expect(t, "logout", send(t, owner, "POST", s.URL+"/v1/auth/logout", nil), 204, "")
		expect(t, "me after logout", send(t, owner, "GET", s.URL+"/v1/me", nil), 401, "unauthenticated")
	})
	v.ReportCoverage(t, false)
}

// TestSecretsNeverLeak drives a whole key life through the server and then
// searches the logs and every file of the store for the secrets, the
// password and the session cookie.
func TestSecretsNeverLeak(t *testing.T) {
	dir := t.TempDir()
	var logs bytes.Buffer
	var boot bytes.Buffer
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMain(ctx, Config{
		DataDir: dir, Addr: "127.0.0.1:0", OwnerEmail: "owner@example.com", TokenPrefix: "lk",
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Stdout: &boot,
		FlushEvery: 10 * time.Millisecond,
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stopped := false
	stop := func() {
		if !stopped {
			stopped = true
			cancel()
			<-done
			m.Close()
		}
	}
	defer stop()

	// The one-time password is printed once, to stdout, not to the log.
	var pw string
	for _, line := range strings.Split(boot.String(), "\n") {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "password:" {
			pw = f[1]
		}
	}
	if pw == "" {
		t.Fatalf("no password in the boot message: %q", boot.String())
	}
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	login := send(t, hc, "POST", m.URL()+"/v1/auth/login", map[string]string{"email": "owner@example.com", "password": pw})
	if login.status != 200 {
		t.Fatalf("login: %d %s", login.status, login.raw)
	}
	var cookie string
	for _, c := range login.header.Values("Set-Cookie") {
		cookie = strings.TrimPrefix(strings.Split(c, ";")[0], "latchkey_session=")
	}
	ws := login.body["workspaces"].([]any)[0].(map[string]any)["id"].(string)
	keys := m.URL() + "/v1/workspaces/" + ws + "/keys"
	created := send(t, hc, "POST", keys, map[string]any{"name": "leak test"})
	secret := created.body["secret"].(string)
	id := created.body["key"].(map[string]any)["id"].(string)
	send(t, hc, "POST", m.URL()+"/v1/keys/verify", map[string]any{"key": secret})
	send(t, hc, "GET", m.URL()+"/v1/verify", nil, "X-API-Key: "+secret)
	send(t, hc, "GET", m.URL()+"/v1/verify", nil, "Authorization: Basic "+base64.StdEncoding.EncodeToString([]byte(id+":"+secret)))
	send(t, hc, "GET", m.URL()+"/v1/verify?key="+secret, nil) // a key in a query string is refused, and not logged
	send(t, hc, "GET", keys, nil, "Authorization: Bearer "+secret)
	reset := send(t, hc, "POST", keys+"/"+id+"/reset", nil)
	second := reset.body["secret"].(string)
	send(t, hc, "POST", keys+"/"+id+"/revoke", nil)
	send(t, hc, "POST", m.URL()+"/v1/auth/login", map[string]string{"email": "owner@example.com", "password": pw + "x"})
	stop()

	needles := map[string]string{"secret": secret, "reset secret": second, "password": pw, "session cookie": cookie}
	haystacks := map[string][]byte{"log": logs.Bytes()}
	files, _ := filepath.Glob(filepath.Join(dir, "*"))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		haystacks[filepath.Base(f)] = b
	}
	if len(files) == 0 || logs.Len() == 0 {
		t.Fatalf("nothing to search: %d files, %d log bytes", len(files), logs.Len())
	}
	for hn, h := range haystacks {
		for nn, n := range needles {
			if n == "" {
				t.Fatalf("empty %s", nn)
			}
			if bytes.Contains(h, []byte(n)) {
				t.Errorf("the %s appears in %s", nn, hn)
			}
		}
	}
}
