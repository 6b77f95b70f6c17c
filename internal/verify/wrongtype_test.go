package verify

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

// TestAttackManagementOrSCIMKeyPresentedAsAPIKey: a leaked management or
// SCIM key presented to the product's verify calls is not an API key of
// the product. Both endpoints answer 403 wrong_type unless the request
// names that type, cold and warm; product keys still pass.
func TestAttackManagementOrSCIMKeyPresentedAsAPIKey(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Verifiable = latchkey.DefaultCatalog().Verifiable })
	mgmt, _ := f.key(func(k *latchkey.Key) {
		k.Type, k.Scopes, k.Settings = latchkey.TypeManagement, []string{"keys:read"}, nil
	})
	scim, _ := f.key(func(k *latchkey.Key) { k.Type, k.Scopes, k.Settings = latchkey.TypeSCIM, nil, nil })
	api, _ := f.key()
	agent, _ := f.key(func(k *latchkey.Key) { k.Type, k.Scopes = latchkey.TypeOnPremise, nil })
	tests := []struct {
		name, method, target, body, tok string
		status                          int
		code                            string
	}{
		{"post management key", "POST", "/", `{"key":"` + mgmt + `"}`, "", 403, "wrong_type"},
		{"post management key with scopes", "POST", "/", `{"key":"` + mgmt + `","scopes":["keys:read"]}`, "", 403, "wrong_type"},
		{"post scim key", "POST", "/", `{"key":"` + scim + `"}`, "", 403, "wrong_type"},
		{"post management key asked for by name", "POST", "/", `{"key":"` + mgmt + `","type":"management"}`, "", 200, ""},
		{"post scim key asked for by name", "POST", "/", `{"key":"` + scim + `","type":"scim"}`, "", 200, ""},
		{"post public api key", "POST", "/", `{"key":"` + api + `"}`, "", 200, ""},
		{"post on premise key", "POST", "/", `{"key":"` + agent + `"}`, "", 200, ""},
		{"get management key", "GET", "/", "", mgmt, 403, "wrong_type"},
		{"get scim key", "GET", "/?scope=items:read", "", scim, 403, "wrong_type"},
		{"get management key asked for by name", "GET", "/?type=management", "", mgmt, 200, ""},
		{"get scim key as public api", "GET", "/?type=public_api", "", scim, 403, "wrong_type"},
		{"get public api key", "GET", "/", "", api, 200, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, pass := range []string{"cold", "warm"} {
				h := f.v.PostHandler()
				if tt.method == "GET" {
					h = f.v.ForwardAuthHandler()
				}
				r := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
				if tt.tok != "" {
					r.Header.Set("X-API-Key", tt.tok)
				}
				w, a := serve(t, h, r)
				if w.Code != tt.status {
					t.Fatalf("%s: status: got %d, want %d (%+v)", pass, w.Code, tt.status, a.Error)
				}
				if tt.code != "" && (a.Valid || a.Key != nil || a.Error.Code != tt.code) {
					t.Fatalf("%s: got valid=%v %+v, want %s", pass, a.Valid, a.Error, tt.code)
				}
				if tt.method == "GET" && tt.code != "" && w.Header().Get("X-Latchkey-Key-Id") != "" {
					t.Fatalf("%s: a refused key's id is in the forward-auth headers", pass)
				}
			}
		})
	}
	// The management API's own authentication still takes these keys.
	if _, code := f.v.Authenticate(context.Background(), mgmt); code != "" {
		t.Errorf("Authenticate(management key): got %q, want valid", code)
	}
}

// TestVerifiableDefaults: without a catalog, only scim and management keys
// need their type named; a catalog decides for every other type.
func TestVerifiableDefaults(t *testing.T) {
	f := newFixture(t)
	custom, _ := f.key(func(k *latchkey.Key) { k.Type = "partner" })
	mgmt, _ := f.key(func(k *latchkey.Key) { k.Type = latchkey.TypeManagement })
	if r := f.v.Check(f.ctx, custom, Request{}); r.Code != "" {
		t.Errorf("a custom type without a catalog: got %q, want valid", r.Code)
	}
	if r := f.v.Check(f.ctx, mgmt, Request{}); r.Code != latchkey.WrongType {
		t.Errorf("a management key without a catalog: got %q, want wrong_type", r.Code)
	}
	g := newFixture(t, func(c *Config) { c.Verifiable = latchkey.DefaultCatalog().Verifiable })
	custom, _ = g.key(func(k *latchkey.Key) { k.Type = "partner" })
	if r := g.v.Check(g.ctx, custom, Request{}); r.Code != latchkey.WrongType {
		t.Errorf("a type the catalog does not know: got %q, want wrong_type", r.Code)
	}
	if r := g.v.Check(g.ctx, custom, Request{Type: "partner"}); r.Code != "" {
		t.Errorf("the same, asked for by name: got %q, want valid", r.Code)
	}
}
