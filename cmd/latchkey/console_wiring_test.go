package main

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// TestConsoleWiring checks the console as `latchkey serve` mounts it: next
// to the API without taking its routes, sharing its session, and behind
// the server's cross-origin protection.
func TestConsoleWiring(t *testing.T) {
	s := startServer(t)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
	get := func(path string) *http.Response {
		t.Helper()
		resp, err := hc.Get(s.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/"); resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Errorf("GET /: got %d to %q, want 303 to /login", resp.StatusCode, resp.Header.Get("Location"))
	}
	for path, ctype := range map[string]string{
		"/healthz": "text/plain", "/readyz": "text/plain", "/openapi.json": "application/json",
		"/v1/me": "application/json", "/v1/nope": "application/json", "/login": "text/html",
	} {
		if got := get(path).Header.Get("Content-Type"); !strings.HasPrefix(got, ctype) {
			t.Errorf("GET %s: got Content-Type %q, want %s (the console must not take other surfaces' routes)", path, got, ctype)
		}
	}

	// A login through the API opens the console too: one session cookie.
	if status := s.call(t, hc, http.MethodPost, "/v1/auth/login", map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}, nil); status != http.StatusOK {
		t.Fatalf("API login: got %d", status)
	}
	if resp := get("/w/" + s.WorkspaceID + "/keys"); resp.StatusCode != http.StatusOK {
		t.Errorf("console page after an API login: got %d, want 200", resp.StatusCode)
	}

	// A cross-site form post is refused before the console sees it.
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/w/"+s.WorkspaceID+"/keys", strings.NewReader(url.Values{"name": {"csrf"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", "https://evil.example")
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: got %d, want 403", resp.StatusCode)
	}

	// Logging out of the console ends the API session as well.
	resp, err = hc.PostForm(s.URL+"/logout", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if status := s.call(t, hc, http.MethodGet, "/v1/me", nil, nil); status != http.StatusUnauthorized {
		t.Errorf("API after console logout: got %d, want 401", status)
	}
}
