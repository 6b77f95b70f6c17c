package client_test

// These tests pin the client's side of the protocol (error parsing, what is
// sent, paging, the middleware's answers) against small httptest servers
// that answer as latchkey does. The client is run against the real server
// in cmd/latchkey (client_test.go), where the whole wiring is available.

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

const testToken = "lk_prod_managementSecretThatMustNotLeak0000"

func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func TestErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		body      string
		code, msg string
		requestID string
	}{
		{"api shape", 404, `{"error":{"code":"not_found","message":"key not found","details":{}}}`, "not_found", "key not found", ""},
		{"details and request id", 500, `{"error":{"code":"internal","message":"internal error","details":{"request_id":"r-1"}}}`, "internal", "internal error", "r-1"},
		{"not json", 502, `<html>Bad Gateway</html>`, "http_502", "<html>Bad Gateway</html>", ""},
		{"empty", 503, ``, "http_503", "Service Unavailable", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				answer(w, tt.status, tt.body)
			}))
			defer srv.Close()
			_, err := newClient(t, srv.URL, client.WithToken(testToken)).GetKey(context.Background(), "ws_1", "key_1")
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("got %v, want a *client.Error", err)
			}
			if e.Status != tt.status || string(e.Code) != tt.code || e.Message != tt.msg || e.RequestID != tt.requestID {
				t.Errorf("got %+v, want status %d code %q message %q request id %q", e, tt.status, tt.code, tt.msg, tt.requestID)
			}
			if got := client.IsNotFound(err); got != (tt.status == 404) {
				t.Errorf("IsNotFound: got %v", got)
			}
		})
	}
}

func TestTokenStaysSecret(t *testing.T) {
	var gotAuth []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gotAuth = append(gotAuth, r.Header.Get("Authorization"))
		if r.URL.Path == "/v1/keys/verify" {
			answer(w, 401, `{"valid":false,"error":{"code":"key_invalid","message":"unknown","details":{}}}`)
			return
		}
		answer(w, 401, `{"error":{"code":"unauthenticated","message":"the API key was refused","details":{}}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, client.WithToken(testToken), client.WithUserAgent("test"))
	ctx := context.Background()
	_, err := c.Me(ctx)
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("Me: got error %v, want one without the token", err)
	}
	if _, err := c.Verify(ctx, client.VerifyRequest{Key: "lk_prod_x"}); err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if want := []string{"Bearer " + testToken, ""}; !slices.Equal(gotAuth, want) {
		t.Errorf("Authorization headers: got %q, want %q (verify must not send the management key)", gotAuth, want)
	}

	// A network failure names the URL, never the token.
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	_, err = newClient(t, "http://"+addr, client.WithToken(testToken)).Me(ctx)
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("unreachable: got error %v, want one without the token", err)
	}
}

// newClient is client.New for a URL the test knows to be good.
func newClient(t *testing.T, baseURL string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.New(baseURL, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://host", "http://user:pw@host", "http://user:pw@host:bad",
		"https://", "http://host/?q=1", "http://host/#f", "http://h ost"} {
		c, err := client.New(u, client.WithToken(testToken))
		if err == nil || c != nil {
			t.Errorf("New(%q): got %v, %v; want no client and an error", u, c, err)
		} else if strings.Contains(err.Error(), "pw") {
			t.Errorf("New(%q): the error %q repeats the URL's password", u, err)
		}
	}
	for _, u := range []string{"http://127.0.0.1:8080", "https://keys.example.com/", "https://example.com/latchkey"} {
		if _, err := client.New(u); err != nil {
			t.Errorf("New(%q): %v", u, err)
		}
	}
}

func TestVerifyAnswers(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		header  map[string]string
		body    string
		want    client.VerifyResult
		wantErr bool
	}{
		{name: "valid", status: 200, body: `{"valid":true,"key":{"id":"key_1","workspace_id":"ws_1","name":"n","type":"public_api","environment":"demo","owner":"workspace","scopes":["items:read"],"settings":{},"expires_at":null}}`,
			want: client.VerifyResult{Valid: true}},
		{name: "revoked", status: 401, body: `{"valid":false,"error":{"code":"key_revoked","message":"revoked","details":{}}}`,
			want: client.VerifyResult{Code: latchkey.KeyRevoked, Message: "revoked"}},
		{name: "scope", status: 403, body: `{"valid":false,"error":{"code":"insufficient_scope","message":"m","details":{"missing_scopes":["items:write"]}}}`,
			want: client.VerifyResult{Code: latchkey.InsufficientScope, Message: "m", Missing: []string{"items:write"}}},
		{name: "rate limited", status: 429, header: map[string]string{"Retry-After": "7"}, body: `{"valid":false,"error":{"code":"rate_limited","message":"m","details":{"retry_after_seconds":7}}}`,
			want: client.VerifyResult{Code: latchkey.RateLimited, Message: "m", RetryAfter: 7 * time.Second}},
		{name: "unavailable", status: 503, body: `{"valid":false,"error":{"code":"unavailable","message":"m","details":{}}}`, wantErr: true},
		{name: "bad request", status: 400, body: `{"valid":false,"error":{"code":"invalid_request","message":"m","details":{}}}`, wantErr: true},
		{name: "a proxy's 401", status: 401, body: `nope`, wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				for k, v := range tt.header {
					w.Header().Set(k, v)
				}
				answer(w, tt.status, tt.body)
			}))
			defer srv.Close()
			res, err := newClient(t, srv.URL).Verify(context.Background(), client.VerifyRequest{Key: "lk_prod_x"})
			if tt.wantErr {
				var e *client.Error
				if !errors.As(err, &e) || e.Status != tt.status {
					t.Fatalf("got %v, %v; want a *client.Error with status %d", res, err, tt.status)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if res.Valid != tt.want.Valid || res.Code != tt.want.Code || res.Message != tt.want.Message ||
				!slices.Equal(res.Missing, tt.want.Missing) || res.RetryAfter != tt.want.RetryAfter {
				t.Errorf("got %+v, want %+v", res, tt.want)
			}
			if res.Valid && (res.Key == nil || res.Key.ID != "key_1" || !res.Key.Demo() || !res.Key.HasScope("items:read")) {
				t.Errorf("got key %+v, want key_1, demo, with items:read", res.Key)
			}
		})
	}
}

func TestVerifySends(t *testing.T) {
	var body map[string]any
	var auth string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, auth = nil, r.Header.Get("Authorization")
		json.NewDecoder(r.Body).Decode(&body)
		answer(w, 401, `{"valid":false,"error":{"code":"key_invalid","message":"m","details":{}}}`)
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, client.WithToken(testToken))
	ctx := context.Background()

	c.Verify(ctx, client.VerifyRequest{Key: "k", Scopes: []string{"a:b"}, Type: "public_api", Environment: latchkey.Demo})
	want := map[string]any{"key": "k", "scopes": []any{"a:b"}, "type": "public_api", "environment": "demo"}
	if got, _ := json.Marshal(body); string(got) != mustJSON(want) || auth != "" {
		t.Errorf("got body %s and Authorization %q, want %s and none", got, auth, mustJSON(want))
	}

	// With a key id the key travels as Basic auth, which the server checks.
	c.Verify(ctx, client.VerifyRequest{Key: "k", KeyID: "key_1"})
	if wantAuth := "Basic " + base64.StdEncoding.EncodeToString([]byte("key_1:k")); auth != wantAuth || len(body) != 0 {
		t.Errorf("got body %v and Authorization %q, want {} and %q", body, auth, wantAuth)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAllKeysFollowsCursors(t *testing.T) {
	pages := map[string]string{
		"":   `{"data":[{"id":"key_1"},{"id":"key_2"}],"next_cursor":"c1"}`,
		"c1": `{"data":[{"id":"key_3"}],"next_cursor":""}`,
	}
	var queries []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		queries = append(queries, r.URL.RawQuery)
		answer(w, 200, pages[r.URL.Query().Get("cursor")])
	}))
	defer srv.Close()
	c := newClient(t, srv.URL, client.WithToken(testToken))
	var ids []string
	for k, err := range c.AllKeys(context.Background(), "ws_1", client.ListKeysOptions{Status: latchkey.StatusActive, Limit: 2}) {
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, k.ID)
	}
	if want := []string{"key_1", "key_2", "key_3"}; !slices.Equal(ids, want) {
		t.Errorf("got %v, want %v", ids, want)
	}
	if want := []string{"limit=2&status=active", "cursor=c1&limit=2&status=active"}; !slices.Equal(queries, want) {
		t.Errorf("got queries %q, want %q", queries, want)
	}
}

func TestPathsAreEscaped(t *testing.T) {
	var got string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.URL.EscapedPath()
		answer(w, 404, `{"error":{"code":"not_found","message":"m","details":{}}}`)
	}))
	defer srv.Close()
	newClient(t, srv.URL+"/", client.WithToken(testToken)).GetKey(context.Background(), "ws_1", "../x?y")
	if want := "/v1/workspaces/ws_1/keys/..%2Fx%3Fy"; got != want {
		t.Errorf("got path %q, want %q", got, want)
	}
}

func TestUpdateKeyRequestJSON(t *testing.T) {
	name := "renamed"
	tests := []struct {
		in   client.UpdateKeyRequest
		want string
	}{
		{client.UpdateKeyRequest{}, `{}`},
		{client.UpdateKeyRequest{Name: &name, Scopes: &[]string{}}, `{"name":"renamed","scopes":[]}`},
		{client.UpdateKeyRequest{ClearRateLimit: true}, `{"rate_limit":null}`},
		{client.UpdateKeyRequest{RateLimit: &latchkey.RateLimit{Limit: 5, Period: latchkey.Duration(time.Minute)}}, `{"rate_limit":{"limit":5,"period":` + mustJSON(latchkey.Duration(time.Minute)) + `}}`},
	}
	for _, tt := range tests {
		if got := mustJSON(tt.in); got != tt.want {
			t.Errorf("got %s, want %s", got, tt.want)
		}
	}
}
