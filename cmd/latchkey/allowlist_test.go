package main

import (
	"net/http"
	"slices"
	"testing"
	"time"
)

func allowedOf(k map[string]any) []string {
	var out []string
	list, _ := k["allowed_ips"].([]any)
	for _, s := range list {
		out = append(out, s.(string))
	}
	return out
}

// TestAttackMemberUndoesAdminsAllowlist: an admin binds a member's
// personal key to the office network; where members may not create
// personal keys, the member may neither drop the allowlist nor widen it,
// only narrow it further.
func TestAttackMemberUndoesAdminsAllowlist(t *testing.T) {
	w := newPrivWorld(t)
	keyID, secret := acctCreateKey(t, w.meg, w.wsURL, map[string]any{"name": "mine", "owner": "me"})
	keyURL := w.wsURL + "/keys/" + keyID
	office := []string{"203.0.113.0/24", "2001:db8:1::/48"}
	expect(t, "the admin binds the key", send(t, w.admin, "PATCH", keyURL, map[string]any{"allowed_ips": office}), 200, "")
	expect(t, "the owner turns personal keys off", send(t, w.owner, "PATCH", w.wsURL+"/settings", map[string]any{"members_may_create_personal_keys": false}), 200, "")

	expect(t, "the member drops the allowlist", send(t, w.meg, "PATCH", keyURL, map[string]any{"allowed_ips": []string{}}), 403, "forbidden")
	expect(t, "the member widens it", send(t, w.meg, "PATCH", keyURL, map[string]any{"allowed_ips": []string{"0.0.0.0/0", "::/0"}}), 403, "forbidden")
	expect(t, "the member adds a network", send(t, w.meg, "PATCH", keyURL, map[string]any{"allowed_ips": append(slices.Clone(office), "198.51.100.0/24")}), 403, "forbidden")
	expect(t, "the member moves it", send(t, w.meg, "PATCH", keyURL, map[string]any{"allowed_ips": []string{"198.51.100.0/24"}}), 403, "forbidden")

	if got := allowedOf(w.key(t, keyID)); !slices.Equal(got, office) {
		t.Fatalf("allowlist: got %v, want %v", got, office)
	}
	got := send(t, acctClient(w.v), "POST", w.s.URL+"/v1/keys/verify", map[string]any{"key": secret, "ip": "198.51.100.1"})
	expect(t, "from the attacker's network", got, 403, "ip_not_allowed")

	expect(t, "the member narrows it", send(t, w.meg, "PATCH", keyURL, map[string]any{"allowed_ips": []string{"203.0.113.128/25"}}), 200, "")
	got = send(t, acctClient(w.v), "POST", w.s.URL+"/v1/keys/verify", map[string]any{"key": secret, "ip": "203.0.113.200"})
	expect(t, "from the narrowed network", got, 200, "")
}

// TestAttackAllowlistEditsAcrossRolesAndTenants: a member cannot touch
// the allowlist of a workspace key, and another workspace's owner cannot
// touch any: both get 404, and the key keeps its allowlist.
func TestAttackAllowlistEditsAcrossRolesAndTenants(t *testing.T) {
	w := newAttackWorld(t)
	keyID, _ := acctCreateKey(t, w.acme, w.acmeURL, map[string]any{"name": "office only", "allowed_ips": []string{"203.0.113.0/24"}})
	patch := map[string]any{"allowed_ips": []string{}}
	expect(t, "Evil Corp's owner, Acme's path", send(t, w.evil, "PATCH", w.acmeURL+"/keys/"+keyID, patch), 404, "not_found")
	expect(t, "Evil Corp's owner, own path", send(t, w.evil, "PATCH", w.evilURL+"/keys/"+keyID, patch), 404, "not_found")
	evilKey := w.s.managementKey(t, "keys:read") // an Acme key with keys:read only
	expect(t, "a keys:read management key", send(t, w.v.Client(nil), "PATCH", w.acmeURL+"/keys/"+keyID, patch, "Authorization: Bearer "+evilKey), 403, "forbidden")

	p := &privWorld{s: w.s, v: w.v, wsURL: w.acmeURL}
	p.megUserID = p.join(t, "meg@example.com", "member")
	meg := acctLogin(t, w.v, w.s.URL, "meg@example.com", acctPassword)
	got := send(t, meg, "PATCH", w.acmeURL+"/keys/"+keyID, patch)
	if got.status != 404 && got.status != 403 {
		t.Fatalf("a member on a workspace key: got %d %s, want 403 or 404", got.status, got.raw)
	}
	k := send(t, w.acme, "GET", w.acmeURL+"/keys/"+keyID, nil)
	if got := allowedOf(acctObj(k.body["key"])); !slices.Equal(got, []string{"203.0.113.0/24"}) {
		t.Fatalf("allowlist after the attempts: got %v, want it unchanged", got)
	}
}

// TestManagementKeyBoundToNetworks: a management key with an allowlist
// opens the management API from those networks only (the test client is
// 127.0.0.1).
func TestManagementKeyBoundToNetworks(t *testing.T) {
	w := newPrivWorld(t)
	_, elsewhere := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "ci elsewhere", "type": "management", "scopes": []string{"keys:read"}, "allowed_ips": []string{"203.0.113.0/24"}})
	_, local := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "ci here", "type": "management", "scopes": []string{"keys:read"}, "allowed_ips": []string{"127.0.0.0/8", "::1"}})
	expect(t, "from outside its networks", send(t, w.v.Client(nil), "GET", w.wsURL+"/keys", nil, "Authorization: Bearer "+elsewhere), 403, "forbidden")
	expect(t, "from inside its networks", send(t, w.v.Client(nil), "GET", w.wsURL+"/keys", nil, "Authorization: Bearer "+local), 200, "")

	// SCIM keys too: the identity provider's key works from its networks only.
	_, scimAway := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "okta away", "type": "scim", "allowed_ips": []string{"203.0.113.0/24"}})
	_, scimHere := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "okta here", "type": "scim", "allowed_ips": []string{"127.0.0.1"}})
	plain := &http.Client{Timeout: 10 * time.Second}
	if got := send(t, plain, "GET", w.s.URL+"/scim/v2/Users", nil, "Authorization: Bearer "+scimAway); got.status != 403 {
		t.Fatalf("a SCIM key from outside its networks: got %d %s, want 403", got.status, got.raw)
	}
	if got := send(t, plain, "GET", w.s.URL+"/scim/v2/Users", nil, "Authorization: Bearer "+scimHere); got.status != 200 {
		t.Fatalf("a SCIM key from inside its networks: got %d %s, want 200", got.status, got.raw)
	}
}
