package scim

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/sqlite"
)

// TestAttackHostHeaderInScimLocation: meta.location used to be built from
// the request's Host header, so a request with Host: evil.example got
// links to evil.example back (cache poisoning, links in identity
// providers' consoles). Links come from the configured base URL only.
func TestAttackHostHeaderInScimLocation(t *testing.T) {
	db, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	e := newEnv(t, db)
	for _, c := range []struct{ base, want string }{
		{"https://keys.example.com/scim/v2/", "https://keys.example.com/scim/v2/ServiceProviderConfig"},
		{"", "/scim/v2/ServiceProviderConfig"},
	} {
		mux := http.NewServeMux()
		New(Config{Service: e.svc, Keys: e.v, BaseURL: c.base}).Register(mux)
		srv := httptest.NewServer(mux)
		req, _ := http.NewRequest("GET", srv.URL+Prefix+"/ServiceProviderConfig", nil)
		req.Host = "evil.example"
		req.Header.Set("Authorization", "Bearer "+e.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		var doc struct {
			Meta struct {
				Location string `json:"location"`
			} `json:"meta"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || resp.StatusCode != 200 {
			t.Fatalf("base %q: got %d %s", c.base, resp.StatusCode, b)
		}
		if doc.Meta.Location != c.want || strings.Contains(string(b), "evil.example") {
			t.Errorf("base %q: meta.location %q, want %q and no trace of the Host header", c.base, doc.Meta.Location, c.want)
		}
	}
}
