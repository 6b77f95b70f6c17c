package main

import (
	"net/http"
	"net/http/cookiejar"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// TestInviteProvisionedMember: a user provisioned over SCIM has no
// password; an owner makes them an invite link and they can log in.
func TestInviteProvisionedMember(t *testing.T) {
	s := startServer(t)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	ws := s.URL + "/v1/workspaces/" + s.WorkspaceID
	created := send(t, owner, "POST", ws+"/keys", map[string]any{"name": "Okta", "type": "scim", "settings": map[string]any{"integration": "okta"}})
	if created.status != 201 {
		t.Fatalf("scim key: %d %s", created.status, created.raw)
	}
	scimKey := created.body["secret"].(string)
	st, user := scimCall(t, s.Main, scimKey, "POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],
		"userName":"dana@example.com","active":true,"emails":[{"value":"dana@example.com","type":"work","primary":true}]}`)
	if st != 201 {
		t.Fatalf("SCIM create: %d %v", st, user)
	}
	id := user["id"].(string)

	inv := send(t, owner, "POST", ws+"/members/"+id+"/invite", nil)
	if inv.status != 201 {
		t.Fatalf("invite: %d %s", inv.status, inv.raw)
	}
	tok := inv.body["invite_token"].(string)
	jar, _ := cookiejar.New(nil)
	dana := v.Client(&http.Client{Jar: jar, Timeout: 10 * time.Second})
	expect(t, "accept the invite", send(t, dana, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": tok, "password": "dana chooses a passphrase"}), 200, "")
	me := send(t, dana, "GET", s.URL+"/v1/me", nil)
	if me.status != 200 || me.body["workspaces"].([]any)[0].(map[string]any)["role"] != "member" {
		t.Errorf("me after accepting: %d %s", me.status, me.raw)
	}
	expect(t, "an invite for a member with a password", send(t, owner, "POST", ws+"/members/"+id+"/invite", nil), 409, "conflict")
	expect(t, "an invite for the owner", send(t, owner, "POST", ws+"/members/"+s.OwnerID+"/invite", nil), 409, "conflict")
	expect(t, "an invite for nobody", send(t, owner, "POST", ws+"/members/usr_01ARZ3NDEKTSV4RRFFQ69G5FAV/invite", nil), 404, "not_found")
	expect(t, "an invite by the member", send(t, dana, "POST", ws+"/members/"+s.OwnerID+"/invite", nil), 403, "forbidden")
}

// TestChangePassword: the owner replaces the printed one-time password;
// other sessions end, the one making the change stays.
func TestChangePassword(t *testing.T) {
	s := startServer(t)
	v := apitest.New(t)
	a, b := v.Client(s.login(t)), v.Client(s.login(t))
	mk := s.managementKey(t, "keys:read")
	expect(t, "wrong current password", send(t, a, "POST", s.URL+"/v1/me/password", map[string]string{"current_password": "nope nope nope", "new_password": "a brand new passphrase"}), 400, "invalid_request")
	expect(t, "weak new password", send(t, a, "POST", s.URL+"/v1/me/password", map[string]string{"current_password": s.OwnerPassword, "new_password": "short"}), 400, "invalid_request")
	expect(t, "change", send(t, a, "POST", s.URL+"/v1/me/password", map[string]string{"current_password": s.OwnerPassword, "new_password": "a brand new passphrase"}), 204, "")
	expect(t, "the changing session stays", send(t, a, "GET", s.URL+"/v1/me", nil), 200, "")
	expect(t, "another session ends", send(t, b, "GET", s.URL+"/v1/me", nil), 401, "unauthenticated")
	anon := v.Client(&http.Client{Timeout: 10 * time.Second})
	expect(t, "the old password", send(t, anon, "POST", s.URL+"/v1/auth/login", map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}), 401, "unauthenticated")
	expect(t, "the new password", send(t, anon, "POST", s.URL+"/v1/auth/login", map[string]string{"email": s.OwnerEmail, "password": "a brand new passphrase"}), 200, "")
	expect(t, "a management key", send(t, anon, "POST", s.URL+"/v1/me/password", map[string]string{"current_password": "x", "new_password": "y"}, "Authorization: Bearer "+mk), 403, "forbidden")
}
