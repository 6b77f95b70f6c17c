package main

import (
	"maps"
	"net/http"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// TestUsageByOutcomeAndTagsEndToEnd verifies a key in several ways, with
// tags, and reads its usage by outcome and per tag through the API, every
// exchange validated against the OpenAPI document.
func TestUsageByOutcomeAndTagsEndToEnd(t *testing.T) {
	s := startServer(t)
	v := apitest.New(t)
	hc := v.Client(&http.Client{Timeout: 10 * time.Second})
	auth := "Authorization: Bearer " + s.managementKey(t)
	keys := s.URL + "/v1/workspaces/" + s.WorkspaceID + "/keys"
	created := send(t, hc, "POST", keys, map[string]any{"name": "tagged", "scopes": []string{"items:read"}}, auth)
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	secret, id := acctStr(created.body, "secret"), acctStr(created.body, "key", "id")

	verify := func(body map[string]any, status int) {
		t.Helper()
		body["key"] = secret
		if got := send(t, hc, "POST", s.URL+"/v1/keys/verify", body); got.status != status {
			t.Fatalf("verify %v: got %d %s, want %d", body, got.status, got.raw, status)
		}
	}
	verify(map[string]any{"scopes": []string{"items:read"}, "tags": []string{"path=/v1/items", "version=2.1"}}, 200)
	verify(map[string]any{"tags": []string{"path=/v1/items"}}, 200)
	verify(map[string]any{"scopes": []string{"items:write"}, "tags": []string{"path=/v1/items"}}, 403)
	verify(map[string]any{"environment": "demo"}, 403)
	verify(map[string]any{"type": "scim"}, 403)

	wantOutcomes := map[string]float64{"valid": 2, "insufficient_scope": 1, "wrong_environment": 1, "wrong_type": 1}
	deadline := time.Now().Add(10 * time.Second)
	for {
		got := send(t, hc, "GET", keys+"/"+id+"/usage", nil, auth)
		expect(t, "usage", got, 200, "")
		days, _ := got.body["data"].([]any)
		if len(days) == 1 {
			d := days[0].(map[string]any)
			out := map[string]float64{}
			for k, n := range d["outcomes"].(map[string]any) {
				out[k] = n.(float64)
			}
			if maps.Equal(out, wantOutcomes) {
				if d["valid"] != 2.0 || d["denied"] != 3.0 || d["environment"] != "production" {
					t.Errorf("usage day: got %v, want 2 valid and 3 denied in production", d)
				}
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage never showed the outcomes %v: %s", wantOutcomes, got.raw)
		}
		time.Sleep(20 * time.Millisecond)
	}

	got := send(t, hc, "GET", keys+"/"+id+"/usage/tags", nil, auth)
	expect(t, "usage tags", got, 200, "")
	want := map[string][2]float64{"path=/v1/items": {3, 2}, "version=2.1": {1, 1}}
	data, _ := got.body["data"].([]any)
	if len(data) != len(want) {
		t.Fatalf("usage tags: got %s, want %v", got.raw, want)
	}
	for _, x := range data {
		tg := x.(map[string]any)
		w, ok := want[tg["tag"].(string)]
		if !ok || tg["verifications"] != w[0] || tg["valid"] != w[1] || tg["day"] != time.Now().UTC().Format(time.DateOnly) {
			t.Errorf("usage tag: got %v, want today's %v", tg, want)
		}
	}

	// Bad ranges are refused with the field named.
	expect(t, "tags from after to", send(t, hc, "GET", keys+"/"+id+"/usage/tags?from=2030-01-02&to=2030-01-01", nil, auth), 400, "invalid_request")
	expect(t, "tags bad day", send(t, hc, "GET", keys+"/"+id+"/usage/tags?from=yesterday", nil, auth), 400, "invalid_request")
	expect(t, "tags of no key", send(t, hc, "GET", keys+"/key_01J00000000000000000000000/usage/tags", nil, auth), 404, "not_found")
}

// TestAttackReadUsageWithoutKeysRead: a management key of the same
// workspace that may not read keys may not read their usage either.
func TestAttackReadUsageWithoutKeysRead(t *testing.T) {
	s := startServer(t)
	v := apitest.New(t)
	hc := v.Client(&http.Client{Timeout: 10 * time.Second})
	keys := s.URL + "/v1/workspaces/" + s.WorkspaceID + "/keys"
	created := send(t, hc, "POST", keys, map[string]any{"name": "watched"}, "Authorization: Bearer "+s.managementKey(t))
	id := acctStr(created.body, "key", "id")
	narrow := "Authorization: Bearer " + s.managementKey(t, "events:read", "keys:write")
	for _, path := range []string{"/usage", "/usage/tags"} {
		got := send(t, hc, "GET", keys+"/"+id+path, nil, narrow)
		expect(t, "usage"+path+" with a key lacking keys:read", got, 403, "forbidden")
	}
}
