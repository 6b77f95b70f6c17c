package main

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"
)

// scimCall sends one SCIM request with a bearer key and decodes the answer.
func scimCall(t *testing.T, m *Main, key, method, path, body string) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, m.URL()+"/scim/v2"+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/scim+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	if len(raw) > 0 {
		if ct := resp.Header.Get("Content-Type"); ct != "application/scim+json" {
			t.Fatalf("%s %s: Content-Type %q", method, path, ct)
		}
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("%s %s: %s", method, path, raw)
		}
	}
	return resp.StatusCode, out
}

// TestScimDeprovisioningReachesEveryInstance: an identity provider
// deprovisions a member through instance A; their personal key answers
// owner_deprovisioned on instance B within a second and they cannot log
// in; reactivation through B restores both.
func TestScimDeprovisioningReachesEveryInstance(t *testing.T) {
	c := startCluster(t, 2, nil)
	a, b := c.mains[0], c.mains[1]
	owner := c.login(t, a)
	ws := a.URL() + "/v1/workspaces/" + c.ws
	const email, pw = "mia@example.com", "Mia-Lantern-Orbit-42"
	if got := acctAddMember(t, owner, ws, map[string]any{"email": email, "password": pw, "role": "member"}); got.status != 201 {
		t.Fatalf("add member: %d %s", got.status, got.raw)
	}
	login := func(m *Main) int {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		got := send(t, hc, "POST", m.URL()+"/v1/auth/login", map[string]string{"email": email, "password": pw})
		if got.status == 200 {
			return 200
		}
		return got.status
	}
	jar, _ := cookiejar.New(nil)
	member := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if got := send(t, member, "POST", a.URL()+"/v1/auth/login", map[string]string{"email": email, "password": pw}); got.status != 200 {
		t.Fatalf("member login: %d %s", got.status, got.raw)
	}
	got := send(t, member, "POST", ws+"/keys", map[string]any{"name": "mine", "owner": "me"})
	if got.status != 201 {
		t.Fatalf("personal key: %d %s", got.status, got.raw)
	}
	personal := got.body["secret"].(string)
	if code := verifyOn(t, b, personal); code != "" {
		t.Fatalf("the personal key on b: %q, want valid", code)
	}
	got = send(t, owner, "POST", ws+"/keys", map[string]any{"name": "Okta", "type": "scim",
		"settings": map[string]any{"integration": "okta", "contact_email": "it@example.com"}})
	if got.status != 201 {
		t.Fatalf("scim key: %d %s", got.status, got.raw)
	}
	scimKey := got.body["secret"].(string)

	// Each key opens its own door only.
	if got := send(t, http.DefaultClient, "GET", ws+"/keys", nil, "Authorization: Bearer "+scimKey); got.status != 401 {
		t.Errorf("a scim key on the management API: %d, want 401", got.status)
	}
	if status, _ := scimCall(t, a, personal, "GET", "/Users", ""); status != 401 {
		t.Errorf("a public_api key on /scim/v2: %d, want 401", status)
	}

	status, user := scimCall(t, a, scimKey, "POST", "/Users",
		`{"userName":"Mia@Example.com","emails":[{"value":"mia@example.com","type":"work","primary":true}],"active":true}`)
	if status != 201 {
		t.Fatalf("provision: %d %v", status, user)
	}
	id := user["id"].(string)
	for round := range 2 {
		start := time.Now()
		if status, body := scimCall(t, a, scimKey, "PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","value":{"active":false}}]}`); status != 200 || body["active"] != false {
			t.Fatalf("round %d: deprovision: %d %v", round, status, body)
		}
		if code := verifyOn(t, a, personal); code != "owner_deprovisioned" {
			t.Fatalf("round %d: a answers %q at once, want owner_deprovisioned", round, code)
		}
		d := waitRejected(t, []*Main{b}, personal, "owner_deprovisioned", time.Second)
		t.Logf("round %d: b refused the key %v after the PATCH returned (%v in all)", round, d, time.Since(start))
		if s := login(b); s == 200 {
			t.Fatalf("round %d: a deprovisioned member logged in", round)
		}
		// The session is the person's; their access to this workspace ends
		// at the next request on every instance.
		if got := send(t, member, "GET", b.URL()+"/v1/workspaces/"+c.ws+"/keys", nil); got.status != 404 {
			t.Errorf("round %d: the member still reaches the workspace after deprovisioning: %d", round, got.status)
		}

		if status, body := scimCall(t, b, scimKey, "PATCH", "/Users/"+id,
			`{"Operations":[{"op":"Replace","path":"active","value":"True"}]}`); status != 200 || body["active"] != true {
			t.Fatalf("round %d: reactivate: %d %v", round, status, body)
		}
		deadline := time.Now().Add(time.Second)
		for verifyOn(t, a, personal) != "" || verifyOn(t, b, personal) != "" {
			if time.Now().After(deadline) {
				t.Fatalf("round %d: the key did not come back within a second", round)
			}
			time.Sleep(5 * time.Millisecond)
		}
		if s := login(a); s != 200 {
			t.Fatalf("round %d: reactivated member cannot log in: %d", round, s)
		}
		jar, _ := cookiejar.New(nil)
		member = &http.Client{Jar: jar, Timeout: 10 * time.Second}
		send(t, member, "POST", a.URL()+"/v1/auth/login", map[string]string{"email": email, "password": pw})
	}

	// Entra's hard delete removes the membership: the key is revoked
	// everywhere, for good.
	if status, _ := scimCall(t, b, scimKey, "DELETE", "/Users/"+id, ""); status != 204 {
		t.Fatalf("delete: %d", status)
	}
	waitRejected(t, []*Main{a, b}, personal, "key_revoked", time.Second)
	if s := login(a); s == 200 {
		t.Fatal("a deleted member logged in")
	}
}
