package console_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
)

// TestAttackConsoleThrottledLoginAnswers500: a throttled console login
// used to answer 500 "internal error". It is the login page with 429 and
// Retry-After, and the owner still logs in from elsewhere.
func TestAttackConsoleThrottledLoginAnswers500(t *testing.T) {
	e := newEnv(t)
	hc := e.client(t)
	var last answer
	for n := range 11 {
		last = e.post(t, hc, "/login", url.Values{"email": {"owner@acme.test"}, "password": {"wrong guess " + strconv.Itoa(n)}})
		if n < 10 && last.status != http.StatusUnauthorized {
			t.Fatalf("guess %d: got %d, want 401", n+1, last.status)
		}
	}
	secs, err := strconv.Atoi(last.header.Get("Retry-After"))
	if last.status != http.StatusTooManyRequests || err != nil || secs < 60 || !last.has(`action="/login"`) || !last.has("Too many failed logins") {
		t.Fatalf("11th guess: got %d, Retry-After %q, want the login page with 429 and Retry-After", last.status, last.header.Get("Retry-After"))
	}
	if last.header.Get("X-Content-Type-Options") != "nosniff" {
		t.Error("the 429 page lacks nosniff")
	}
}

// TestAttackConsoleHugeFormBodies: console forms used to accept 10 MB
// bodies (RSS 158 → 451 MB for 20 of them). They are capped like the
// API's, at 1 MiB, and refused with 413 — anonymous or logged in.
func TestAttackConsoleHugeFormBodies(t *testing.T) {
	e := newEnv(t)
	big := "email=owner%40acme.test&password=" + strings.Repeat("a", 2<<20)
	for _, c := range []struct {
		name string
		hc   *http.Client
		path string
	}{
		{"anonymous login", e.client(t), "/login"},
		{"logged-in key creation", e.login(t, "owner@acme.test"), "/w/" + e.ws + "/keys"},
		{"logged-in settings", e.login(t, "owner@acme.test"), "/w/" + e.ws + "/settings"},
	} {
		resp, err := c.hc.Post(e.srv.URL+c.path, "application/x-www-form-urlencoded", strings.NewReader(big))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		got := read(t, resp)
		if got.status != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with 2 MiB: got %d, want 413", c.name, got.status)
		}
	}
	// The owner's session and login are unaffected.
	if got := e.get(t, e.login(t, "owner@acme.test"), "/w/"+e.ws+"/keys"); got.status != http.StatusOK {
		t.Errorf("keys page after: got %d", got.status)
	}
}
