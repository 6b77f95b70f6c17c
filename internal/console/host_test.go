package console_test

import (
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/console"
)

// TestAttackHostHeaderInConsoleLinks: invitation links and the SCIM base
// URL used to be built from the request's Host header, so a request with
// Host: evil.example (a poisoned cache, a proxy passing Host through)
// showed links to evil.example. They come from the public URL only.
func TestAttackHostHeaderInConsoleLinks(t *testing.T) {
	e := newEnv(t)
	mux := http.NewServeMux()
	console.New(console.Config{Service: e.svc, PublicURL: "https://keys.example.com/"}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	hc := e.client(t)
	do := func(method, path string, form url.Values) answer {
		t.Helper()
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(form.Encode()))
		req.Host = "evil.example"
		if form != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return read(t, resp)
	}
	if got := do("POST", "/login", url.Values{"email": {"owner@acme.test"}, "password": {testPassword}}); got.status != http.StatusSeeOther {
		t.Fatalf("login: got %d", got.status)
	}
	scim := do("GET", "/w/"+e.ws+"/scim", nil)
	if scim.status != http.StatusOK || !scim.has("https://keys.example.com/scim/v2") || scim.has("evil.example") {
		t.Errorf("SCIM page: got %d, public base URL shown %v, Host reflected %v", scim.status, scim.has("https://keys.example.com/scim/v2"), scim.has("evil.example"))
	}
	added := do("POST", "/w/"+e.ws+"/members", url.Values{"email": {"ivy@acme.test"}, "role": {"admin"}})
	if added.has("evil.example") {
		t.Error("the invitation link names the Host header")
	}
	if added.has("/invite?token=") && !added.has("https://keys.example.com/invite?token=") {
		t.Error("the invitation link is not under the public URL")
	}
}
