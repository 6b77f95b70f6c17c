package verify

import (
	"bytes"
	"encoding/json"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
)

func TestInsufficientScopeDetails(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key()
	r := httptest.NewRequest("POST", "/", strings.NewReader(`{"key":"`+tok+`","scopes":["secrets:read","items:read","a\"b"]}`))
	_, a := serve(t, f.v.PostHandler(), r)
	got, _ := a.Error.Details["missing_scopes"].([]any)
	if len(got) != 2 || got[0] != "secrets:read" || got[1] != `a"b` {
		t.Errorf("missing_scopes: got %v, want [secrets:read a\"b]", a.Error.Details)
	}
}

// FuzzPostBody checks the hand-written decoder against encoding/json: it
// never panics, and whatever it accepts, encoding/json in strict mode reads
// the same way.
func FuzzPostBody(f *testing.F) {
	for _, s := range []string{``, `{}`, `{"key":"lk_prod_x","scopes":["a","b"],"type":"t","environment":"demo"}`,
		`{"key":"\u00e9\ud83d\ude00\n"}`, `{"key":null,"scopes":null}`, `{"key":"a"} x`, `{"scopes":[1]}`, ` { "type" : "x" } `} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p postRequest
		scopes, msg := p.parse(s, nil)
		if msg != "" || strings.TrimSpace(s) == "" {
			return
		}
		var want struct {
			Key         *string   `json:"key"`
			Scopes      *[]string `json:"scopes"`
			Type        *string   `json:"type"`
			Environment *string   `json:"environment"`
		}
		dec := json.NewDecoder(bytes.NewReader([]byte(s)))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&want); err != nil {
			t.Fatalf("accepted %q, encoding/json refuses it: %v", s, err)
		}
		deref := func(p *string) string {
			if p == nil {
				return ""
			}
			return *p
		}
		var ws []string
		if want.Scopes != nil {
			ws = *want.Scopes
		}
		if p.key != deref(want.Key) || p.typ != deref(want.Type) || p.env != deref(want.Environment) || !slices.Equal(scopes, ws) {
			t.Fatalf("%q: got %q %q %q %q, want %+v", s, p.key, p.typ, p.env, scopes, want)
		}
	})
}
