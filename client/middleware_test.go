package client_test

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/client"
)

// fakeVerifier answers POST /v1/keys/verify as latchkey does, for a few
// known keys, and records what it was asked.
type fakeVerifier struct {
	calls  int
	scopes []string
	auth   string
}

func (f *fakeVerifier) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.calls++
	var in struct {
		Key    *string  `json:"key"`
		Scopes []string `json:"scopes"`
	}
	json.NewDecoder(r.Body).Decode(&in)
	f.scopes, f.auth = in.Scopes, r.Header.Get("Authorization")
	key := ""
	if in.Key != nil {
		key = *in.Key
	} else if strings.HasPrefix(f.auth, "Basic ") {
		key = "good" // the test sends Basic only with the good key
	}
	switch key {
	case "good":
		answer(w, 200, `{"valid":true,"key":{"id":"key_1","workspace_id":"ws_1","name":"n","type":"public_api","environment":"production","owner":"workspace","scopes":["items:read"],"settings":{},"expires_at":null}}`)
	case "narrow":
		w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey", error="insufficient_scope", scope="items:read"`)
		answer(w, 403, `{"valid":false,"error":{"code":"insufficient_scope","message":"m","details":{"missing_scopes":["items:read"]}}}`)
	case "busy":
		w.Header().Set("Retry-After", "3")
		answer(w, 429, `{"valid":false,"error":{"code":"rate_limited","message":"m","details":{"retry_after_seconds":3}}}`)
	case "":
		w.Header().Set("WWW-Authenticate", `Bearer realm="latchkey"`)
		answer(w, 401, `{"valid":false,"error":{"code":"key_missing","message":"m","details":{}}}`)
	default:
		answer(w, 401, `{"valid":false,"error":{"code":"key_invalid","message":"m","details":{}}}`)
	}
}

func TestMiddleware(t *testing.T) {
	fake := &fakeVerifier{}
	latch := httptest.NewServer(fake)
	defer latch.Close()
	protected := func(c *client.Client) http.Handler {
		return client.Middleware(c, client.MiddlewareOptions{Scopes: []string{"items:read"}})(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			k, ok := client.KeyFromContext(r.Context())
			if !ok {
				t.Error("the handler ran without a key in its context")
				return
			}
			io.WriteString(w, "hello "+k.ID)
		}))
	}
	h := protected(newClient(t, latch.URL))

	tests := []struct {
		name       string
		header     [2]string
		status     int
		code       string // the error code of the JSON answer
		header2    [2]string
		askedForIt bool // whether latchkey is called
	}{
		{"x-api-key", [2]string{"X-API-Key", "good"}, 200, "", [2]string{}, true},
		{"bearer", [2]string{"Authorization", "Bearer good"}, 200, "", [2]string{}, true},
		{"basic", [2]string{"Authorization", "Basic a2V5XzE6Z29vZA=="}, 200, "", [2]string{}, true},
		{"no key", [2]string{}, 401, "key_missing", [2]string{"WWW-Authenticate", `Bearer realm="latchkey"`}, false},
		{"empty x-api-key", [2]string{"X-API-Key", ""}, 401, "key_missing", [2]string{"WWW-Authenticate", `Bearer realm="latchkey"`}, false},
		{"unknown", [2]string{"X-API-Key", "lk_prod_nope"}, 401, "key_invalid", [2]string{}, true},
		{"scope", [2]string{"X-API-Key", "narrow"}, 403, "insufficient_scope", [2]string{"WWW-Authenticate", `Bearer realm="latchkey", error="insufficient_scope", scope="items:read"`}, true},
		{"rate", [2]string{"X-API-Key", "busy"}, 429, "rate_limited", [2]string{"Retry-After", "3"}, true},
		{"other scheme", [2]string{"Authorization", "Token good"}, 401, "key_malformed", [2]string{}, false},
		{"basic without id", [2]string{"Authorization", "Basic Omdvb2Q="}, 401, "key_malformed", [2]string{}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake.calls = 0
			r := httptest.NewRequest("GET", "/things", nil)
			if tt.header[0] != "" {
				r.Header.Set(tt.header[0], tt.header[1])
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != tt.status {
				t.Fatalf("got status %d (%s), want %d", w.Code, w.Body, tt.status)
			}
			if asked := fake.calls > 0; asked != tt.askedForIt {
				t.Errorf("latchkey called: got %v, want %v", asked, tt.askedForIt)
			}
			if tt.askedForIt && !slices.Equal(fake.scopes, []string{"items:read"}) {
				t.Errorf("required scopes sent: got %v, want [items:read]", fake.scopes)
			}
			if tt.status == 200 {
				if got := w.Body.String(); got != "hello key_1" {
					t.Errorf("got body %q, want %q", got, "hello key_1")
				}
				return
			}
			var body struct {
				Valid bool
				Error struct{ Code string }
			}
			if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil || body.Valid || body.Error.Code != tt.code {
				t.Errorf("got body %s, want valid false and code %s", w.Body, tt.code)
			}
			if tt.header2[0] != "" && w.Header().Get(tt.header2[0]) != tt.header2[1] {
				t.Errorf("got %s %q, want %q", tt.header2[0], w.Header().Get(tt.header2[0]), tt.header2[1])
			}
		})
	}

	t.Run("latchkey unreachable", func(t *testing.T) {
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		w := httptest.NewRecorder()
		r := httptest.NewRequest("GET", "/things", nil)
		r.Header.Set("X-API-Key", "good")
		protected(newClient(t, "http://"+addr)).ServeHTTP(w, r)
		if w.Code != http.StatusServiceUnavailable || strings.Contains(w.Body.String(), "good") {
			t.Errorf("got %d %s, want 503 without the key", w.Code, w.Body)
		}
	})
}
