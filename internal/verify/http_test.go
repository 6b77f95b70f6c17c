package verify

import (
	"encoding/base64"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

type answer struct {
	Valid bool `json:"valid"`
	Key   *struct {
		ID          string         `json:"id"`
		WorkspaceID string         `json:"workspace_id"`
		Name        string         `json:"name"`
		Type        string         `json:"type"`
		Environment string         `json:"environment"`
		Owner       string         `json:"owner"`
		Scopes      []string       `json:"scopes"`
		Settings    map[string]any `json:"settings"`
		ExpiresAt   *time.Time     `json:"expires_at"`
	} `json:"key"`
	Error *struct {
		Code    string         `json:"code"`
		Message string         `json:"message"`
		Details map[string]any `json:"details"`
	} `json:"error"`
}

func serve(t *testing.T, h http.Handler, r *http.Request) (*httptest.ResponseRecorder, answer) {
	t.Helper()
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	var a answer
	if r.Method == http.MethodGet && w.Code == http.StatusOK {
		// Forward-auth successes answer in headers only.
		if w.Body.Len() != 0 || w.Header().Get("Cache-Control") != "no-store" || w.Header().Get("X-Latchkey-Key-Id") == "" {
			t.Fatalf("forward-auth success: body %q, headers %v; want no body, no-store and the X-Latchkey headers", w.Body.String(), w.Header())
		}
		return w, answer{Valid: true}
	}
	dec := json.NewDecoder(w.Body)
	dec.DisallowUnknownFields()
	if err := dec.Decode(&a); err != nil {
		t.Fatalf("answer is not the documented JSON: %v", err)
	}
	if ct, cc := w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"); ct != "application/json" || cc != "no-store" {
		t.Errorf("headers: got %q %q, want application/json no-store", ct, cc)
	}
	if !a.Valid && (a.Error == nil || a.Error.Message == "" || a.Error.Details == nil) {
		t.Errorf("failure without code, message and details: %+v", a.Error)
	}
	return w, a
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestHandlers(t *testing.T) {
	f := newFixture(t)
	tok, k := f.key()
	revoked, _ := f.key(func(k *latchkey.Key) { k.RevokedAt = ptr(t0) })
	demo, _ := f.key(func(k *latchkey.Key) { k.Environment = latchkey.Demo; k.Owner = f.user })
	limited, _ := f.key(func(k *latchkey.Key) {
		k.RateLimit = &latchkey.RateLimit{Limit: 1, Period: latchkey.Duration(time.Hour)}
	})
	f.v.Check(f.ctx, limited, Request{}) // spends the hour's allowance

	const invalidToken = `Bearer realm="latchkey", error="invalid_token"`
	tests := []struct {
		name    string
		method  string
		target  string
		body    string
		headers map[string]string
		status  int
		code    string // "" for valid
		www     string
	}{
		{"post key in body", "POST", "/", `{"key":"` + tok + `","scopes":["items:read"],"type":"public_api","environment":"production"}`, nil, 200, "", ""},
		{"post X-API-Key", "POST", "/", `{"scopes":["items:read"]}`, map[string]string{"X-API-Key": tok}, 200, "", ""},
		{"post bearer", "POST", "/", ``, map[string]string{"Authorization": "Bearer " + tok}, 200, "", ""},
		{"post basic", "POST", "/", `{}`, map[string]string{"Authorization": basic(k.ID, tok)}, 200, "", ""},
		{"post basic with another key id", "POST", "/", `{}`, map[string]string{"Authorization": basic("key_other", tok)}, 401, "key_invalid", invalidToken},
		{"post basic not base64", "POST", "/", `{}`, map[string]string{"Authorization": "Basic !!!"}, 401, "key_malformed", invalidToken},
		{"post unknown scheme", "POST", "/", `{}`, map[string]string{"Authorization": "Token " + tok}, 401, "key_malformed", invalidToken},
		{"post no key", "POST", "/", `{"key":null}`, nil, 401, "key_missing", `Bearer realm="latchkey"`},
		{"post malformed key", "POST", "/", `{"key":"lk_prod_short"}`, nil, 401, "key_malformed", invalidToken},
		{"post revoked", "POST", "/", `{"key":"` + revoked + `"}`, nil, 401, "key_revoked", invalidToken},
		{"post wrong type", "POST", "/", `{"key":"` + tok + `","type":"scim"}`, nil, 403, "wrong_type", ""},
		{"post wrong environment", "POST", "/", `{"key":"` + tok + `","environment":"demo"}`, nil, 403, "wrong_environment", ""},
		{"post insufficient scope", "POST", "/", `{"key":"` + tok + `","scopes":["items:read","secrets:read"]}`, nil, 403, "insufficient_scope",
			`Bearer realm="latchkey", error="insufficient_scope", scope="items:read secrets:read"`},
		{"post rate limited", "POST", "/", `{"key":"` + limited + `"}`, nil, 429, "rate_limited", ""},
		{"post escaped key", "POST", "/", `{"key":"` + strings.Replace(tok, "_", `\u005f`, 1) + `"}`, nil, 200, "", ""},
		{"post unknown field", "POST", "/", `{"key":"` + tok + `","scope":["items:read"]}`, nil, 400, "invalid_request", ""},
		{"post duplicate field", "POST", "/", `{"key":"` + tok + `","key":"` + tok + `"}`, nil, 400, "invalid_request", ""},
		{"post malformed", "POST", "/", `{"key":`, nil, 400, "invalid_request", ""},
		{"post not an object", "POST", "/", `["key"]`, nil, 400, "invalid_request", ""},
		{"post trailing data", "POST", "/", `{"key":"` + tok + `"} {}`, nil, 400, "invalid_request", ""},
		{"post key not a string", "POST", "/", `{"key":42}`, nil, 400, "invalid_request", ""},
		{"post scopes not strings", "POST", "/", `{"key":"` + tok + `","scopes":[1]}`, nil, 400, "invalid_request", ""},
		{"post bad environment", "POST", "/", `{"key":"` + tok + `","environment":"staging"}`, nil, 400, "invalid_request", ""},
		{"post too large", "POST", "/", `{"key":"` + strings.Repeat("a", 1<<20) + `"}`, nil, 413, "body_too_large", ""},
		{"get X-API-Key", "GET", "/?scope=items:read&scope=accounts:read", "", map[string]string{"X-API-Key": tok}, 200, "", ""},
		{"get comma scopes", "GET", "/?scope=items:read,accounts%3Aread&type=public_api&environment=production", "", map[string]string{"Authorization": "Bearer " + tok}, 200, "", ""},
		{"get basic", "GET", "/", "", map[string]string{"Authorization": basic(k.ID, tok)}, 200, "", ""},
		{"get demo", "GET", "/?environment=demo", "", map[string]string{"X-API-Key": demo}, 200, "", ""},
		{"get missing", "GET", "/", "", nil, 401, "key_missing", `Bearer realm="latchkey"`},
		{"get insufficient scope", "GET", "/?scope=secrets:read", "", map[string]string{"X-API-Key": tok}, 403, "insufficient_scope",
			`Bearer realm="latchkey", error="insufficient_scope", scope="secrets:read"`},
		{"get bad environment", "GET", "/?environment=staging", "", map[string]string{"X-API-Key": tok}, 400, "invalid_request", ""},
		{"get bad escape", "GET", "/?scope=%zz", "", map[string]string{"X-API-Key": tok}, 400, "invalid_request", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := f.v.PostHandler()
			if tt.method == "GET" {
				h = f.v.ForwardAuthHandler()
			}
			r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			for k, v := range tt.headers {
				r.Header.Set(k, v)
			}
			w, a := serve(t, h, r)
			if w.Code != tt.status {
				t.Fatalf("status: got %d, want %d (%+v)", w.Code, tt.status, a.Error)
			}
			if got := w.Header().Get("WWW-Authenticate"); got != tt.www {
				t.Errorf("WWW-Authenticate: got %q, want %q", got, tt.www)
			}
			if tt.code == "" {
				if !a.Valid || (a.Key == nil && tt.method == "POST") || a.Error != nil {
					t.Fatalf("got %+v, want valid with a key", a)
				}
				return
			}
			if a.Valid || a.Key != nil || a.Error.Code != tt.code {
				t.Fatalf("got valid=%v code %q, want %q", a.Valid, a.Error.Code, tt.code)
			}
			if strings.Contains(w.Body.String(), tok) || strings.Contains(w.Body.String(), revoked) {
				t.Error("the answer echoes the token")
			}
		})
	}
}

func TestValidAnswers(t *testing.T) {
	f := newFixture(t)
	tok, k := f.key(func(k *latchkey.Key) { k.Environment = latchkey.Demo; k.Owner = f.user })
	r := httptest.NewRequest("GET", "/?scope=items:read", nil)
	r.Header.Set("X-API-Key", tok)
	w, a := serve(t, f.v.ForwardAuthHandler(), r)
	want := map[string]string{
		"X-Latchkey-Key-Id": k.ID, "X-Latchkey-Workspace-Id": f.ws, "X-Latchkey-Environment": "demo",
		"X-Latchkey-Scopes": "items:read accounts:read", "X-Latchkey-Owner": f.user,
	}
	for h, v := range want {
		if got := w.Header().Get(h); got != v {
			t.Errorf("%s: got %q, want %q", h, got, v)
		}
	}
	_ = a
	// The POST answer carries the key and no forward-auth headers.
	r = httptest.NewRequest("POST", "/", strings.NewReader(`{"key":"`+tok+`"}`))
	w, a = serve(t, f.v.PostHandler(), r)
	if w.Header().Get("X-Latchkey-Key-Id") != "" {
		t.Error("POST answer has X-Latchkey-Key-Id")
	}
	got := a.Key
	if got.ID != k.ID || got.WorkspaceID != f.ws || got.Name != k.Name || got.Type != "public_api" ||
		got.Environment != "demo" || got.Owner != f.user || strings.Join(got.Scopes, " ") != "items:read accounts:read" ||
		got.Settings["note"] != "x" || got.ExpiresAt == nil || !got.ExpiresAt.Equal(*k.ExpiresAt) {
		t.Errorf("key: got %+v, want %+v", got, k)
	}
}

func TestRetryAfterAndUnavailable(t *testing.T) {
	f := newFixture(t)
	limited, _ := f.key(func(k *latchkey.Key) {
		k.RateLimit = &latchkey.RateLimit{Limit: 1, Period: latchkey.Duration(10 * time.Second)}
	})
	other, _ := f.key()
	f.v.Check(f.ctx, limited, Request{})
	f.clock.Add(9500 * time.Millisecond) // 0.5s to wait: Retry-After rounds up to 1
	r := httptest.NewRequest("GET", "/", nil)
	r.Header.Set("X-API-Key", limited)
	w, a := serve(t, f.v.ForwardAuthHandler(), r)
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || a.Error.Details["retry_after_seconds"] != 1.0 {
		t.Errorf("got %d Retry-After %q %v, want 429 Retry-After 1", w.Code, w.Header().Get("Retry-After"), a.Error.Details)
	}
	f.db.Close()
	r = httptest.NewRequest("POST", "/", strings.NewReader(`{"key":"`+other+`"}`))
	w, a = serve(t, f.v.PostHandler(), r)
	if w.Code != 503 || a.Error.Code != "unavailable" {
		t.Errorf("store down: got %d %q, want 503 unavailable", w.Code, a.Error.Code)
	}
}

func TestBodyLimitWithoutContentLength(t *testing.T) {
	f := newFixture(t)
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"key":"`+strings.Repeat("a", 1<<20)+`"}`))
	r.ContentLength = -1 // chunked: the limit must hold while reading
	w, a := serve(t, f.v.PostHandler(), r)
	if w.Code != 413 || a.Error.Code != "body_too_large" {
		t.Errorf("got %d %q, want 413 body_too_large", w.Code, a.Error.Code)
	}
}
