package client_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// exampleServer stands in for a latchkey server in the examples: it
// answers a few paths as latchkey does.
func exampleServer() *httptest.Server {
	routes := map[string]string{
		"POST /v1/workspaces/ws_1/keys":                 `{"key":{"id":"key_1","name":"CI deploys","type":"public_api","environment":"production","scopes":["items:read"],"status":"active"},"secret":"lk_prod_EXAMPLEexampleEXAMPLEexample012345"}`,
		"GET /v1/workspaces/ws_1/keys":                  `{"data":[{"id":"key_1","name":"CI deploys","status":"active"},{"id":"key_2","name":"old sync","status":"expired"}],"next_cursor":""}`,
		"PATCH /v1/workspaces/ws_1/keys/key_1":          `{"key":{"id":"key_1","name":"CI deploys","scopes":["items:read","users:read"],"rate_limit":{"limit":100,"period":"1m"},"status":"active"}}`,
		"GET /v1/workspaces/ws_1/keys/key_1/usage":      `{"data":[{"day":"2026-01-30","environment":"production","valid":120,"denied":3,"outcomes":{"valid":120,"rate_limited":2,"key_expired":1}},{"day":"2026-01-31","environment":"production","valid":98,"denied":0,"outcomes":{"valid":98}}]}`,
		"GET /v1/workspaces/ws_1/keys/key_1/usage/tags": `{"data":[{"day":"2026-01-31","tag":"path=/v1/items","verifications":90,"valid":88},{"day":"2026-01-31","tag":"version=2.1","verifications":12,"valid":12}]}`,
		"GET /v1/workspaces/ws_1/keys/key_404":          `404 {"error":{"code":"not_found","message":"key not found","details":{}}}`,
		"GET /v1/workspaces/ws_1/settings":              `{"expiration":{"presets":["30d","90d","1y"],"max_lifetime":"1y","allow_never_expire":false,"notice_before":["30d"],"delete_after_expiry":"90d","revoked_retention":"90d"},"scim_custom_attributes":false,"scim_key_issuance":"admins","members_may_create_personal_keys":true,"require_second_factor":false,"on_leak":"revoke"}`,
		"PATCH /v1/workspaces/ws_1/settings":            `{"expiration":{"presets":["30d","90d","1y"],"max_lifetime":"90d","allow_never_expire":false,"notice_before":["30d"],"delete_after_expiry":"90d","revoked_retention":"90d"},"scim_key_issuance":"admins","members_may_create_personal_keys":true,"on_leak":"revoke"}`,
		"GET /v1/workspaces/ws_1/members":               `{"data":[{"workspace_id":"ws_1","user_id":"usr_1","email":"ada@example.com","role":"owner","active":true,"invited":false},{"workspace_id":"ws_1","user_id":"usr_2","email":"grace@example.com","role":"admin","active":true,"invited":true}]}`,
		"PATCH /v1/workspaces/ws_1/members/usr_2":       `{"member":{"workspace_id":"ws_1","user_id":"usr_2","email":"grace@example.com","role":"member","active":true}}`,
		"POST /v1/keys/verify valid":                    `{"valid":true,"key":{"id":"key_1","workspace_id":"ws_1","name":"CI deploys","type":"public_api","environment":"production","owner":"workspace","scopes":["items:read"],"settings":{}}}`,
		"POST /v1/keys/verify insufficient_scope":       `403 {"valid":false,"error":{"code":"insufficient_scope","message":"The API key lacks a required scope.","details":{"missing_scopes":["items:write"]}}}`,
		"POST /v1/keys/verify key_invalid":              `401 {"valid":false,"error":{"code":"key_invalid","message":"The API key is not valid.","details":{}}}`,
	}
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		route := r.Method + " " + r.URL.Path
		if r.URL.Path == "/v1/keys/verify" {
			b, _ := io.ReadAll(r.Body)
			switch {
			case !strings.Contains(string(b), "lk_prod_EXAMPLE"):
				route += " key_invalid"
			case strings.Contains(string(b), "items:write"):
				route += " insufficient_scope"
			default:
				route += " valid"
			}
		}
		body, ok := routes[route]
		if !ok {
			http.NotFound(w, r)
			return
		}
		status := http.StatusOK
		if s, rest, ok := strings.Cut(body, " "); ok && len(s) == 3 {
			status, _ = strconv.Atoi(s)
			body = rest
		}
		answer(w, status, body)
	}))
}

func ExampleNew() {
	c, err := client.New("https://keys.example.com",
		client.WithToken("lk_prod_..."),                // a management key, for management calls only
		client.WithVerifyTimeout(500*time.Millisecond), // verification sits in front of your API
		client.WithMaxRetries(3),                       // reads, revokes, updates: tried again on 502/503/504
	)
	fmt.Println(c != nil, err)

	// A URL that cannot be a server's is refused at once.
	_, err = client.New("keys.example.com:8080")
	fmt.Println(err)
	// Output:
	// true <nil>
	// latchkey: invalid base URL "keys.example.com:8080": want http(s)://host[:port]
}

func ExampleClient_CreateKey() {
	srv := exampleServer()
	defer srv.Close()
	c, err := client.New(srv.URL, client.WithToken("lk_prod_management..."))
	if err != nil {
		log.Fatal(err)
	}
	k, err := c.CreateKey(context.Background(), "ws_1", client.CreateKeyRequest{
		Name: "CI deploys", Scopes: []string{"items:read"}, ExpiresIn: "90d",
	})
	if err != nil {
		log.Fatal(err)
	}
	// The secret is in this answer only: hand it over or store it now.
	fmt.Println(k.Key.ID, k.Key.Status, strings.HasPrefix(k.Secret, "lk_prod_"))
	// Output: key_1 active true
}

func ExampleClient_AllKeys() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("lk_prod_management..."))
	// Every page, one key at a time; the loop may stop early.
	for k, err := range c.AllKeys(context.Background(), "ws_1", client.ListKeysOptions{Limit: 100}) {
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(k.ID, k.Name, k.Status)
	}
	// Output:
	// key_1 CI deploys active
	// key_2 old sync expired
}

func ExampleClient_UpdateKey() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("lk_prod_management..."))
	// Only the fields given change.
	k, err := c.UpdateKey(context.Background(), "ws_1", "key_1", client.UpdateKeyRequest{
		Scopes:    &[]string{"items:read", "users:read"},
		RateLimit: &latchkey.RateLimit{Limit: 100, Period: latchkey.Duration(time.Minute)},
	})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(k.Scopes, k.RateLimit.Limit, k.RateLimit.Period)
	// Output: [items:read users:read] 100 1m
}

func ExampleError() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("lk_prod_management..."))
	_, err := c.GetKey(context.Background(), "ws_1", "key_404")
	switch {
	case errors.Is(err, client.ErrNotFound):
		fmt.Println("no such key")
	case err != nil:
		log.Fatal(err)
	}
	var e *client.Error
	if errors.As(err, &e) {
		fmt.Println(e.Status, e.Code)
	}
	// Output:
	// no such key
	// 404 not_found
}

func ExampleClient_Verify() {
	srv := exampleServer()
	defer srv.Close()
	// Verification needs no management key.
	c, _ := client.New(srv.URL)
	ctx := context.Background()
	for _, scope := range []string{"items:read", "items:write"} {
		res, err := c.Verify(ctx, client.VerifyRequest{Key: "lk_prod_EXAMPLEexampleEXAMPLEexample012345", Scopes: []string{scope}})
		if err != nil {
			// No decision: latchkey is unreachable. Fail closed.
			log.Fatal(err)
		}
		if res.Valid {
			fmt.Println(scope, "valid:", res.Key.ID, res.Key.Scopes)
		} else {
			fmt.Println(scope, "refused:", res.Code, res.Missing)
		}
	}
	// Output:
	// items:read valid: key_1 [items:read]
	// items:write refused: insufficient_scope [items:write]
}

func ExampleMiddleware() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL)
	guard := client.Middleware(c, client.MiddlewareOptions{Scopes: []string{"items:read"}})
	api := guard(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		k, _ := client.KeyFromContext(r.Context())
		fmt.Fprintln(w, "hello", k.Name)
	}))

	for _, key := range []string{"lk_prod_EXAMPLEexampleEXAMPLEexample012345", "lk_prod_unknown", ""} {
		r := httptest.NewRequest("GET", "/items", nil)
		if key != "" {
			r.Header.Set("Authorization", "Bearer "+key)
		}
		w := httptest.NewRecorder()
		api.ServeHTTP(w, r)
		fmt.Print(w.Code, " ", w.Body.String())
		if w.Code != 200 {
			fmt.Println()
		}
	}
	// Output:
	// 200 hello CI deploys
	// 401 {"valid":false,"error":{"code":"key_invalid","message":"The API key is not valid.","details":{}}}
	// 401 {"valid":false,"error":{"code":"key_missing","message":"No API key: send it in X-API-Key or Authorization: Bearer.","details":{}}}
}

func ExampleVerifyWebhook() {
	// The workspace's signing secret, from the console's workspace settings.
	secret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef"))

	// What latchkey sends to a key's callback URL (signed here by hand).
	body := []byte(`{"type":"key.expiring","timestamp":"2026-01-31T12:00:00Z","notice":{"window":"7d","windows":["7d"]},"data":{"id":"key_1","workspace_id":"ws_1","name":"CI deploys","type":"public_api","environment":"production","owner":"workspace","expires_at":"2026-02-07T12:00:00Z","revoked_at":null,"disabled_at":null}}`)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte("msg_1." + ts + "."))
	mac.Write(body)
	r := httptest.NewRequest("POST", "/hooks/latchkey", strings.NewReader(string(body)))
	r.Header.Set("webhook-id", "msg_1")
	r.Header.Set("webhook-timestamp", ts)
	r.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)))

	// In the receiving handler: read the raw body, then verify.
	raw, _ := io.ReadAll(http.MaxBytesReader(nil, r.Body, 1<<20))
	ev, err := client.VerifyWebhook(secret, r.Header, raw)
	if err != nil {
		fmt.Println("refused:", err) // answer 400 and ignore the message
		return
	}
	fmt.Println(ev.ID, ev.Type, ev.Key.ID, ev.Notice.Window, ev.Key.ExpiresAt.Format(time.DateOnly))
	// Output: msg_1 key.expiring key_1 7d 2026-02-07
}

func ExampleClient_KeyUsage() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("lk_prod_management..."))
	days, err := c.KeyUsage(context.Background(), "ws_1", "key_1", client.UsageOptions{
		From: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), To: time.Date(2026, 1, 31, 0, 0, 0, 0, time.UTC),
	})
	if err != nil {
		log.Fatal(err)
	}
	for _, d := range days {
		fmt.Println(d.Day, d.Environment, d.Valid, d.Denied, "rate limited:", d.Refused(latchkey.RateLimited))
	}
	// Output:
	// 2026-01-30 production 120 3 rate limited: 2
	// 2026-01-31 production 98 0 rate limited: 0
}

func ExampleClient_KeyUsageTags() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("lk_prod_management..."))
	// Verifications tagged by the product's API gateway...
	_ = client.VerifyRequest{Key: "lk_prod_...", Tags: []string{"path=/v1/items", "version=2.1"}}
	// ...are counted per tag and day.
	tags, err := c.KeyUsageTags(context.Background(), "ws_1", "key_1", client.UsageOptions{})
	if err != nil {
		log.Fatal(err)
	}
	for _, t := range tags {
		fmt.Println(t.Day, t.Tag, t.Verifications, t.Valid)
	}
	// Output:
	// 2026-01-31 path=/v1/items 90 88
	// 2026-01-31 version=2.1 12 12
}

func ExampleClient_Settings() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("lk_prod_management..."))
	s, err := c.Settings(context.Background(), "ws_1")
	if err != nil {
		log.Fatal(err)
	}
	// Ask for no more than the workspace allows.
	fmt.Println("max lifetime:", s.Expiration.MaxLifetime, "never expire:", s.Expiration.AllowNeverExpire, "on leak:", s.OnLeak)
	// Output: max lifetime: 1y never expire: false on leak: revoke
}

func ExampleClient_Members() {
	srv := exampleServer()
	defer srv.Close()
	c, _ := client.New(srv.URL, client.WithToken("lk_prod_management..."))
	ctx := context.Background()
	members, err := c.Members(ctx, "ws_1")
	if err != nil {
		log.Fatal(err)
	}
	for _, m := range members {
		fmt.Println(m.Email, m.Role, m.Invited)
	}
	m, err := c.SetMemberRole(ctx, "ws_1", "usr_2", "member")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(m.Email, "is now", m.Role)
	// Output:
	// ada@example.com owner false
	// grace@example.com admin true
	// grace@example.com is now member
}
