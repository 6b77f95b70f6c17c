package main

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

// waitAccepted polls instances until they all accept secret again and
// returns how long that took; it fails the test past limit.
func waitAccepted(t *testing.T, ms []*Main, secret string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for _, m := range ms {
		for verifyOn(t, m, secret) != "" {
			if time.Since(start) > limit {
				t.Fatalf("%s still refuses the key %v after the enable", m.URL(), limit)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return time.Since(start)
}

// TestDisableReachesEveryInstance disables a key through one instance and
// sees the other refuse it with key_disabled, through the same NOTIFY as a
// revocation; an enable brings it back everywhere, which a revocation
// never does.
func TestDisableReachesEveryInstance(t *testing.T) {
	c := startCluster(t, 3, nil)
	a, others := c.mains[0], c.mains[1:]
	hc := c.login(t, a)
	keysURL := a.URL() + "/v1/workspaces/" + c.ws + "/keys/"
	for i := range 3 {
		id, secret := c.createKey(t, hc, a)
		for _, m := range c.mains {
			if got := verifyOn(t, m, secret); got != "" {
				t.Fatalf("round %d: a fresh key answers %q on %s", i, got, m.URL())
			}
		}
		got := send(t, hc, "POST", keysURL+id+"/disable", nil)
		if got.status != 200 || acctStr(got.body, "key", "status") != "disabled" || acctStr(got.body, "key", "disabled_at") == "" {
			t.Fatalf("disable: %d %s, want 200 with status disabled", got.status, got.raw)
		}
		if got := send(t, http.DefaultClient, "GET", a.URL()+"/v1/verify", nil, "X-API-Key: "+secret); got.status != 403 || got.errCode() != "key_disabled" {
			t.Fatalf("the instance that disabled answers %d %q at once, want 403 key_disabled", got.status, got.errCode())
		}
		d := waitRejected(t, others, secret, "key_disabled", time.Second)
		t.Logf("round %d: the two other instances refused the disabled key %v after the disable returned", i, d)

		list := send(t, hc, "GET", a.URL()+"/v1/workspaces/"+c.ws+"/keys?status=disabled", nil)
		var ids []string
		for _, k := range list.body["data"].([]any) {
			ids = append(ids, acctStr(k, "id"))
		}
		if !slices.Equal(ids, []string{id}) {
			t.Fatalf("keys listed as disabled: got %v, want [%s]", ids, id)
		}
		if got := send(t, hc, "POST", keysURL+id+"/disable", nil); got.status != 200 {
			t.Fatalf("disabling again: %d %s, want 200 (no change)", got.status, got.raw)
		}

		got = send(t, hc, "POST", keysURL+id+"/enable", nil)
		if got.status != 200 || acctStr(got.body, "key", "status") != "active" {
			t.Fatalf("enable: %d %s, want 200 with status active", got.status, got.raw)
		}
		d = waitAccepted(t, c.mains, secret, time.Second)
		t.Logf("round %d: every instance accepted the enabled key %v after the enable returned", i, d)

		// A revoked key is stopped for good: no enable brings it back.
		if got := send(t, hc, "POST", keysURL+id+"/revoke", nil); got.status != 200 {
			t.Fatalf("revoke: %d %s", got.status, got.raw)
		}
		expect(t, "enabling a revoked key", send(t, hc, "POST", keysURL+id+"/enable", nil), 409, "conflict")
		expect(t, "disabling a revoked key", send(t, hc, "POST", keysURL+id+"/disable", nil), 409, "conflict")
		waitRejected(t, c.mains, secret, "key_revoked", time.Second)
	}
	events := send(t, hc, "GET", a.URL()+"/v1/workspaces/"+c.ws+"/events?limit=200", nil)
	n := map[string]int{}
	for _, ev := range events.body["data"].([]any) {
		n[acctStr(ev, "action")]++
	}
	if n["key.disabled"] != 3 || n["key.enabled"] != 3 {
		t.Fatalf("audit log: %d key.disabled and %d key.enabled, want 3 of each (a repeated disable records nothing)", n["key.disabled"], n["key.enabled"])
	}
}

// TestAttackDisableAcrossRolesAndTenants: whoever may not revoke a key
// may not disable or enable it either, with the same answer, and the key
// keeps verifying. A member may suspend their own personal key.
func TestAttackDisableAcrossRolesAndTenants(t *testing.T) {
	w := newAttackWorld(t)
	keyID, secret := acctCreateKey(t, w.acme, w.acmeURL, map[string]any{"name": "billing"})
	verify := func(what, code string) {
		t.Helper()
		got := send(t, acctClient(w.v), "POST", w.s.URL+"/v1/keys/verify", map[string]any{"key": secret})
		if got.errCode() != code {
			t.Fatalf("%s: verify answers %d %q, want %q", what, got.status, got.errCode(), code)
		}
	}
	for _, op := range []string{"disable", "enable"} {
		expect(t, "Evil Corp's owner, Acme's path, "+op, send(t, w.evil, "POST", w.acmeURL+"/keys/"+keyID+"/"+op, nil), 404, "not_found")
		expect(t, "Evil Corp's owner, own path, "+op, send(t, w.evil, "POST", w.evilURL+"/keys/"+keyID+"/"+op, nil), 404, "not_found")
		readOnly := w.s.managementKey(t, "keys:read")
		expect(t, "a keys:read management key, "+op, send(t, w.v.Client(nil), "POST", w.acmeURL+"/keys/"+keyID+"/"+op, nil, "Authorization: Bearer "+readOnly), 403, "forbidden")
	}
	p := &privWorld{s: w.s, v: w.v, wsURL: w.acmeURL}
	p.join(t, "meg@example.com", "member")
	meg := acctLogin(t, w.v, w.s.URL, "meg@example.com", acctPassword)
	revoke := send(t, meg, "POST", w.acmeURL+"/keys/"+keyID+"/revoke", nil)
	if revoke.status != 403 && revoke.status != 404 {
		t.Fatalf("a member revoking a workspace key: %d %s, want 403 or 404", revoke.status, revoke.raw)
	}
	expect(t, "a member disabling a workspace key", send(t, meg, "POST", w.acmeURL+"/keys/"+keyID+"/disable", nil), revoke.status, revoke.errCode())
	verify("after every refused attempt", "")

	own, ownSecret := acctCreateKey(t, meg, w.acmeURL, map[string]any{"name": "meg's own"})
	expect(t, "a member disabling their own key", send(t, meg, "POST", w.acmeURL+"/keys/"+own+"/disable", nil), 200, "")
	got := send(t, acctClient(w.v), "POST", w.s.URL+"/v1/keys/verify", map[string]any{"key": ownSecret})
	if got.status != 403 || got.errCode() != "key_disabled" {
		t.Fatalf("meg's disabled key: %d %q, want 403 key_disabled", got.status, got.errCode())
	}
	// A disabled management key opens nothing.
	mk := w.s.managementKey(t)
	mkList := send(t, w.acme, "GET", w.acmeURL+"/keys?type=management", nil)
	for _, k := range mkList.body["data"].([]any) {
		expect(t, "disable a management key", send(t, w.acme, "POST", w.acmeURL+"/keys/"+acctStr(k, "id")+"/disable", nil), 200, "")
	}
	expect(t, "a disabled management key", send(t, w.v.Client(nil), "GET", w.acmeURL+"/keys", nil, "Authorization: Bearer "+mk), 401, "unauthenticated")
}
