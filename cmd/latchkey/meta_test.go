package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

// TestKeyMetadataRoundTrip: a key's external id and metadata, set at
// creation and by PATCH, come back from verification (the body of POST
// /v1/keys/verify, the header of forward-auth) and filter the key list;
// every answer is checked against the OpenAPI document.
func TestKeyMetadataRoundTrip(t *testing.T) {
	w := newAttackWorld(t)
	meta := map[string]any{"plan": "pro", "seats": 12.0, "tags": []any{"eu", "beta"}}
	id, secret := acctCreateKey(t, w.acme, w.acmeURL, map[string]any{"name": "billing", "external_id": "cus_123", "meta": meta})
	acctCreateKey(t, w.acme, w.acmeURL, map[string]any{"name": "other customer", "external_id": "cus_999"})
	acctCreateKey(t, w.acme, w.acmeURL, map[string]any{"name": "no customer"})

	verified := func(what string) map[string]any {
		t.Helper()
		got := send(t, acctClient(w.v), "POST", w.s.URL+"/v1/keys/verify", map[string]any{"key": secret})
		if got.status != 200 {
			t.Fatalf("%s: verify %d %s", what, got.status, got.raw)
		}
		return acctObj(got.body["key"])
	}
	k := verified("after create")
	if k["external_id"] != "cus_123" || !jsonEqual(k["meta"], meta) {
		t.Fatalf("verify: got external_id %v meta %v, want cus_123 and %v", k["external_id"], k["meta"], meta)
	}
	fwd := send(t, w.v.Client(nil), "GET", w.s.URL+"/v1/verify", nil, "X-API-Key: "+secret)
	if fwd.status != 200 || fwd.header.Get("X-Latchkey-External-Id") != "cus_123" {
		t.Fatalf("forward-auth: %d, X-Latchkey-External-Id %q, want 200 and cus_123", fwd.status, fwd.header.Get("X-Latchkey-External-Id"))
	}

	list := send(t, w.acme, "GET", w.acmeURL+"/keys?external_id=cus_123", nil)
	var names []string
	for _, x := range list.body["data"].([]any) {
		names = append(names, acctStr(x, "name"))
	}
	if !slices.Equal(names, []string{"billing"}) {
		t.Fatalf("?external_id=cus_123: got %v, want [billing]", names)
	}

	keyURL := w.acmeURL + "/keys/" + id
	expect(t, "patch", send(t, w.acme, "PATCH", keyURL, map[string]any{"external_id": "cus_456", "meta": map[string]any{"plan": "team"}}), 200, "")
	k = verified("after patch")
	if k["external_id"] != "cus_456" || !jsonEqual(k["meta"], map[string]any{"plan": "team"}) {
		t.Fatalf("verify after patch: got %v %v", k["external_id"], k["meta"])
	}
	expect(t, "clear", send(t, w.acme, "PATCH", keyURL, `{"external_id": "", "meta": null}`), 200, "")
	k = verified("after clearing")
	if _, ok := k["external_id"]; ok {
		t.Fatalf("verify after clearing: external_id %v still there", k["external_id"])
	}
	if _, ok := k["meta"]; ok {
		t.Fatalf("verify after clearing: meta %v still there", k["meta"])
	}
	if fwd := send(t, w.v.Client(nil), "GET", w.s.URL+"/v1/verify", nil, "X-API-Key: "+secret); fwd.header.Get("X-Latchkey-External-Id") != "" {
		t.Fatalf("forward-auth after clearing: X-Latchkey-External-Id %q, want empty", fwd.header.Get("X-Latchkey-External-Id"))
	}

	big := `{"blob":"` + strings.Repeat("x", 4096) + `"}`
	justFits := `{"b":"` + strings.Repeat("x", 4096-len(`{"b":""}`)) + `"}`
	for _, tt := range []struct {
		name, body string
		status     int
	}{
		{"invalid JSON", `{"meta": {"a": }`, 400},
		{"a string", `{"meta": "plan=pro"}`, 400},
		{"an array", `{"meta": [1, 2]}`, 400},
		{"over 4 KiB", `{"meta": ` + big + `}`, 400},
		{"exactly 4 KiB", `{"meta": ` + justFits + `}`, 200},
		{"external id over 256", `{"external_id": "` + strings.Repeat("é", 257) + `"}`, 400},
		{"external id with a newline", `{"external_id": "cus\n1"}`, 400},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := send(t, w.acme, "PATCH", keyURL, tt.body)
			if got.status != tt.status {
				t.Fatalf("PATCH: got %d %s, want %d", got.status, got.raw, tt.status)
			}
			if tt.status == 400 && got.errCode() != "invalid_request" {
				t.Fatalf("PATCH: error code %q, want invalid_request", got.errCode())
			}
			create := send(t, w.acme, "POST", w.acmeURL+"/keys", `{"name": "x", `+strings.TrimPrefix(tt.body, "{"))
			if want := map[int]int{400: 400, 200: 201}[tt.status]; create.status != want {
				t.Fatalf("POST: got %d %s, want %d", create.status, create.raw, want)
			}
		})
	}

	// Metadata is the workspace's business: another workspace's owner
	// can neither read nor set it, nor find the key by it.
	expect(t, "Evil Corp's owner sets meta", send(t, w.evil, "PATCH", keyURL, map[string]any{"meta": map[string]any{"plan": "free"}}), 404, "not_found")
	evilList := send(t, w.evil, "GET", w.evilURL+"/keys?external_id=cus_999", nil)
	if n := len(evilList.body["data"].([]any)); evilList.status != 200 || n != 0 {
		t.Fatalf("Evil Corp lists by Acme's external id: %d with %d keys, want 200 and none", evilList.status, n)
	}
	expect(t, "Evil Corp lists Acme's keys by external id", send(t, w.evil, "GET", w.acmeURL+"/keys?external_id=cus_999", nil), 404, "not_found")
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	return string(ja) == string(jb)
}
