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
		`{"key":"\u00e9\ud83d\ude00\n"}`, `{"key":null,"scopes":null}`, `{"key":"a"} x`, `{"scopes":[1]}`, ` { "type" : "x" } `,
		`{"key":"k","credits":{"cost":5},"ratelimits":[{"name":"burst","cost":2},{"name":"daily"}],"tags":["path=/v1/items","v=2"]}`,
		`{"credits":{"cost":0},"ratelimits":[]}`, `{"credits":{"cost":-1}}`, `{"credits":{"cost":1.5}}`, `{"ratelimits":[{"cost":1}]}`,
		`{"tags":["a","b","c","d","e","f","g","h","i","j","k"]}`, `{"ip":"192.0.2.1"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		var p postRequest
		lists, msg := p.parse(s, postLists{})
		scopes := lists.scopes
		if msg != "" || strings.TrimSpace(s) == "" {
			return
		}
		var want struct {
			Key         *string   `json:"key"`
			Scopes      *[]string `json:"scopes"`
			Type        *string   `json:"type"`
			Environment *string   `json:"environment"`
			IP          *string   `json:"ip"`
			Credits     *struct {
				Cost *int64 `json:"cost"`
			} `json:"credits"`
			Ratelimits *[]struct {
				Name string `json:"name"`
				Cost *int64 `json:"cost"`
			} `json:"ratelimits"`
			Tags *[]string `json:"tags"`
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
		if p.key != deref(want.Key) || p.typ != deref(want.Type) || p.env != deref(want.Environment) || p.ip != deref(want.IP) || !slices.Equal(scopes, ws) {
			t.Fatalf("%q: got %q %q %q %q %q, want %+v", s, p.key, p.typ, p.env, p.ip, scopes, want)
		}
		wantCost := int64(0)
		if want.Credits != nil && want.Credits.Cost != nil {
			if wantCost = *want.Credits.Cost; wantCost == 0 {
				wantCost = CostNone
			}
		}
		if p.cost != wantCost {
			t.Fatalf("%q: cost %d, want %d", s, p.cost, wantCost)
		}
		var wl []LimitUse
		if want.Ratelimits != nil {
			for _, r := range *want.Ratelimits {
				u := LimitUse{Name: r.Name}
				if r.Cost != nil {
					if u.Cost = *r.Cost; u.Cost == 0 {
						u.Cost = CostNone
					}
				}
				wl = append(wl, u)
			}
		}
		if !slices.Equal(lists.limits, wl) {
			t.Fatalf("%q: limits %v, want %v", s, lists.limits, wl)
		}
		var wt []string
		if want.Tags != nil {
			wt = *want.Tags
		}
		if !slices.Equal(lists.tags, wt) {
			t.Fatalf("%q: tags %v, want %v", s, lists.tags, wt)
		}
	})
}
