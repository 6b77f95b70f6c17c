package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

func TestMembersEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID

	// A new person accepts their invitation with a password of their own,
	// can log in and sees the workspace.
	ann := acctAddMember(t, owner, wsURL, map[string]any{"email": "Ann@Example.com", "name": "Ann", "role": "admin", "password": acctPassword})
	annID := acctStr(ann.body, "member", "user_id")
	if m := acctObj(ann.body["member"]); m["email"] != "ann@example.com" || m["role"] != "admin" || m["active"] != true || m["invited"] != true || ann.body["invite_token"] == nil {
		t.Errorf("added ann = %s", ann.raw)
	}
	annC := acctLogin(t, v, s.URL, "ann@example.com", acctPassword)
	if roles := acctMe(t, annC, s.URL); len(roles) != 1 || roles[s.WorkspaceID] != "admin" {
		t.Errorf("ann's workspaces = %v", roles)
	}

	// A new user without a password gets a one-time invite.
	bob := acctAddMember(t, owner, wsURL, map[string]any{"email": "bob@example.com"})
	bobID, invite := acctStr(bob.body, "member", "user_id"), acctStr(bob.body, "invite_token")
	if acctStr(bob.body, "member", "role") != "member" || invite == "" || acctStr(bob.body, "invite_url") != "/invite?token="+invite {
		t.Fatalf("invited bob = %s", bob.raw)
	}
	expect(t, "login before accepting the invite", send(t, acctClient(v), "POST", s.URL+"/v1/auth/login",
		map[string]string{"email": "bob@example.com", "password": acctPassword}), 401, "unauthenticated")
	anon := acctClient(v)
	weak := send(t, anon, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": invite, "password": "123456789012"})
	expect(t, "accept with a common password", weak, 400, "invalid_request")
	if acctDetail(weak, "field") != "password" {
		t.Errorf("weak password: details = %s", weak.raw)
	}
	expect(t, "accept with a short password", send(t, anon, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": invite, "password": "short"}), 400, "invalid_request")
	expect(t, "accept with an unknown token", send(t, anon, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": strings.Repeat("A", 43), "password": acctPassword}), 404, "not_found")
	bobC := acctClient(v)
	accepted := send(t, bobC, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": invite, "password": acctPassword})
	if ck := accepted.header.Get("Set-Cookie"); accepted.status != 200 || acctStr(accepted.body, "user", "id") != bobID ||
		!strings.HasPrefix(ck, "latchkey_session=") || !strings.Contains(ck, "HttpOnly") || !strings.Contains(ck, "SameSite=Lax") {
		t.Fatalf("accept invite: %d %s", accepted.status, accepted.raw)
	}
	if roles := acctMe(t, bobC, s.URL); roles[s.WorkspaceID] != "member" {
		t.Errorf("bob's workspaces after accepting = %v", roles)
	}
	expect(t, "the invite is one-time", send(t, anon, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": invite, "password": "Another-Good-Passphrase-3"}), 404, "not_found")
	acctLogin(t, v, s.URL, "bob@example.com", acctPassword)

	// Refused additions.
	for name, tc := range map[string]struct {
		in     map[string]any
		status int
		code   string
		field  string
	}{
		"weak password":             {map[string]any{"email": "weak@example.com", "password": "short"}, 400, "invalid_request", "password"},
		"common password":           {map[string]any{"email": "weak@example.com", "password": "1q2w3e4r5t6y"}, 400, "invalid_request", "password"},
		"bad email":                 {map[string]any{"email": "not an email"}, 400, "invalid_request", "email"},
		"bad role":                  {map[string]any{"email": "role@example.com", "role": "king"}, 400, "invalid_request", "role"},
		"already a member":          {map[string]any{"email": "ann@example.com"}, 409, "conflict", ""},
		"password of existing user": {map[string]any{"email": s.OwnerEmail, "password": acctPassword}, 400, "invalid_request", "password"},
		"password of a new user":    {map[string]any{"email": "fresh@example.com", "password": acctPassword}, 400, "invalid_request", "password"},
		"unknown field":             {map[string]any{"email": "x@example.com", "admin": true}, 400, "invalid_request", "admin"},
	} {
		got := send(t, owner, "POST", wsURL+"/members", tc.in)
		expect(t, name, got, tc.status, tc.code)
		if tc.field != "" && acctDetail(got, "field") != tc.field {
			t.Errorf("%s: details.field = %v, want %s", name, acctDetail(got, "field"), tc.field)
		}
	}
	if got := send(t, owner, "GET", wsURL+"/members", nil); len(acctIDs(got, "user_id")) != 3 {
		t.Errorf("after refused additions the members are %s", got.raw)
	}

	// Roles: owners and super admins manage members; only owners manage owners.
	promoted := send(t, owner, "PATCH", wsURL+"/members/"+annID, map[string]string{"role": "super_admin"})
	if promoted.status != 200 || acctStr(promoted.body, "member", "role") != "super_admin" {
		t.Fatalf("promote ann: %d %s", promoted.status, promoted.raw)
	}
	expect(t, "super admin makes an owner", send(t, annC, "PATCH", wsURL+"/members/"+bobID, map[string]string{"role": "owner"}), 403, "forbidden")
	expect(t, "super admin adds an owner", send(t, annC, "POST", wsURL+"/members", map[string]any{"email": "newowner@example.com", "role": "owner", "password": acctPassword}), 403, "forbidden")
	expect(t, "super admin demotes the owner", send(t, annC, "PATCH", wsURL+"/members/"+s.OwnerID, map[string]string{"role": "admin"}), 403, "forbidden")
	expect(t, "super admin removes the owner", send(t, annC, "DELETE", wsURL+"/members/"+s.OwnerID, nil), 403, "forbidden")
	expect(t, "super admin makes a member an admin", send(t, annC, "PATCH", wsURL+"/members/"+bobID, map[string]string{"role": "admin"}), 200, "")
	expect(t, "admin lists members", send(t, bobC, "GET", wsURL+"/members", nil), 200, "")
	expect(t, "admin adds a member", send(t, bobC, "POST", wsURL+"/members", map[string]any{"email": "c@example.com"}), 403, "forbidden")
	expect(t, "admin changes a role", send(t, bobC, "PATCH", wsURL+"/members/"+annID, map[string]string{"role": "member"}), 403, "forbidden")
	expect(t, "super admin demotes to member", send(t, annC, "PATCH", wsURL+"/members/"+bobID, map[string]string{"role": "member"}), 200, "")
	expect(t, "member lists members", send(t, bobC, "GET", wsURL+"/members", nil), 403, "forbidden")
	expect(t, "member removes a member", send(t, bobC, "DELETE", wsURL+"/members/"+annID, nil), 403, "forbidden")
	expect(t, "role missing", send(t, owner, "PATCH", wsURL+"/members/"+bobID, map[string]string{}), 400, "invalid_request")
	expect(t, "unknown role", send(t, owner, "PATCH", wsURL+"/members/"+bobID, map[string]string{"role": "boss"}), 400, "invalid_request")
	expect(t, "unknown user", send(t, owner, "PATCH", wsURL+"/members/usr_01ARZ3NDEKTSV4RRFFQ69G5FAV", map[string]string{"role": "admin"}), 404, "not_found")
	expect(t, "junk user id", send(t, owner, "DELETE", wsURL+"/members/nobody", nil), 404, "not_found")

	// The last active owner can be neither demoted nor removed.
	lastDemote := send(t, owner, "PATCH", wsURL+"/members/"+s.OwnerID, map[string]string{"role": "admin"})
	expect(t, "demote the last owner", lastDemote, 409, "conflict")
	expect(t, "remove the last owner", send(t, owner, "DELETE", wsURL+"/members/"+s.OwnerID, nil), 409, "conflict")
	expect(t, "the last owner keeps the role", send(t, owner, "PATCH", wsURL+"/members/"+s.OwnerID, map[string]string{"role": "owner"}), 200, "")
	expect(t, "owner makes ann owner", send(t, owner, "PATCH", wsURL+"/members/"+annID, map[string]string{"role": "owner"}), 200, "")
	expect(t, "an owner demotes another owner", send(t, annC, "PATCH", wsURL+"/members/"+s.OwnerID, map[string]string{"role": "super_admin"}), 200, "")
	expect(t, "ann is now the last owner", send(t, annC, "DELETE", wsURL+"/members/"+annID, nil), 409, "conflict")
	expect(t, "a super admin cannot take it back", send(t, owner, "PATCH", wsURL+"/members/"+annID, map[string]string{"role": "admin"}), 403, "forbidden")
	if roles := acctMe(t, owner, s.URL); roles[s.WorkspaceID] != "super_admin" {
		t.Errorf("the first owner's role is %v, want super_admin", roles)
	}

	// Removal ends the member's access to this workspace at once; their
	// session is theirs and stays, with no workspace left in it, and with
	// no workspace the account cannot log in (403, only after the right
	// password).
	expect(t, "remove bob", send(t, owner, "DELETE", wsURL+"/members/"+bobID, nil), 204, "")
	if roles := acctMe(t, bobC, s.URL); len(roles) != 0 {
		t.Errorf("bob's workspaces after removal = %v", roles)
	}
	expect(t, "bob reads the workspace after removal", send(t, bobC, "GET", wsURL+"/keys", nil), 404, "not_found")
	expect(t, "bob logs in without a workspace", send(t, acctClient(v), "POST", s.URL+"/v1/auth/login", map[string]string{"email": "bob@example.com", "password": acctPassword}), 403, "forbidden")
	expect(t, "bob's wrong password", send(t, acctClient(v), "POST", s.URL+"/v1/auth/login", map[string]string{"email": "bob@example.com", "password": "wrong-password-123"}), 401, "unauthenticated")
	expect(t, "remove bob twice", send(t, owner, "DELETE", wsURL+"/members/"+bobID, nil), 404, "not_found")

	// Adding bob back invites him like anyone: a new identity and a link;
	// he joins by accepting while signed in to his account, which keeps its
	// id and password.
	back := acctAddMember(t, owner, wsURL, map[string]any{"email": "bob@example.com", "role": "admin", "name": "ignored"})
	if back.body["invite_token"] == nil || acctStr(back.body, "member", "user_id") == bobID || acctStr(back.body, "member", "role") != "admin" {
		t.Errorf("re-adding bob = %s", back.raw)
	}
	expect(t, "bob accepts with a new password", send(t, acctClient(v), "POST", s.URL+"/v1/auth/accept-invite",
		map[string]string{"token": acctStr(back.body, "invite_token"), "password": "Another-Good-Passphrase-3"}), 409, "conflict")
	joined := send(t, bobC, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": acctStr(back.body, "invite_token")})
	if joined.status != 200 || acctStr(joined.body, "user", "id") != bobID {
		t.Fatalf("bob accepts signed in: %d %s", joined.status, joined.raw)
	}
	if roles := acctMe(t, acctLogin(t, v, s.URL, "bob@example.com", acctPassword), s.URL); roles[s.WorkspaceID] != "admin" {
		t.Errorf("bob back: %v", roles)
	}

	// Every change is in the log with its actor and address.
	actions := map[string]int{}
	for _, e := range acctEvents(t, annC, wsURL, "member.") {
		actions[acctStr(e, "action")]++
		if acctStr(e, "actor", "type") != "user" || acctStr(e, "actor", "id") == "" || acctStr(e, "ip") == "" || acctStr(e, "target") == "" {
			t.Errorf("event without actor, ip or target: %v", e)
		}
	}
	if actions["member.added"] != 3 || actions["member.removed"] != 1 || actions["member.updated"] != 5 {
		t.Errorf("member events = %v", actions)
	}
	v.ReportCoverage(t, false)
}

func TestPersonalKeysEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID

	mia := acctStr(acctAddMember(t, owner, wsURL, map[string]any{"email": "mia@example.com", "password": acctPassword}).body, "member", "user_id")
	maxID := acctStr(acctAddMember(t, owner, wsURL, map[string]any{"email": "max@example.com", "password": acctPassword}).body, "member", "user_id")
	miaC := acctLogin(t, v, s.URL, "mia@example.com", acctPassword)
	maxC := acctLogin(t, v, s.URL, "max@example.com", acctPassword)

	wsKey, _ := acctCreateKey(t, owner, wsURL, map[string]any{"name": "Company integration"})
	ownersOwn, _ := acctCreateKey(t, owner, wsURL, map[string]any{"name": "Owner's own", "owner": "me"})
	mine, mineSecret := acctCreateKey(t, miaC, wsURL, map[string]any{"name": "Mia's script", "owner": "me", "scopes": []string{"items:read"}})
	mine2, mine2Secret := acctCreateKey(t, miaC, wsURL, map[string]any{"name": "Mia's default"}) // a member's default owner is herself
	maxKey, _ := acctCreateKey(t, maxC, wsURL, map[string]any{"name": "Max's", "owner": "me"})

	one := send(t, miaC, "GET", wsURL+"/keys/"+mine, nil)
	if one.status != 200 || acctStr(one.body, "key", "owner") != mia || acctStr(one.body, "key", "created_by") != mia {
		t.Errorf("mia's key = %d %s", one.status, one.raw)
	}
	if got := send(t, miaC, "GET", wsURL+"/keys/"+mine2, nil); acctStr(got.body, "key", "owner") != mia {
		t.Errorf("a member's key without owner is %s, want personal", got.raw)
	}
	for query, want := range map[string][]string{
		"": {mine2, mine}, "?owner=me": {mine2, mine}, "?owner=workspace": {}, "?owner=" + maxID: {}, "?owner=" + mia: {mine2, mine},
	} {
		got := send(t, miaC, "GET", wsURL+"/keys"+query, nil)
		if l := acctIDs(got, "id"); got.status != 200 || !slices.Equal(l, want) {
			t.Errorf("mia lists %q: %d %v, want %v", query, got.status, l, want)
		}
	}
	all := acctIDs(send(t, owner, "GET", wsURL+"/keys", nil), "id")
	for _, k := range []string{wsKey, ownersOwn, mine, mine2, maxKey} {
		if !slices.Contains(all, k) {
			t.Errorf("the owner does not see key %s in %v", k, all)
		}
	}

	for _, k := range []string{wsKey, ownersOwn, maxKey} {
		expect(t, "member reads another's key", send(t, miaC, "GET", wsURL+"/keys/"+k, nil), 404, "not_found")
		expect(t, "member edits another's key", send(t, miaC, "PATCH", wsURL+"/keys/"+k, map[string]any{"name": "mine now"}), 404, "not_found")
		expect(t, "member revokes another's key", send(t, miaC, "POST", wsURL+"/keys/"+k+"/revoke", nil), 404, "not_found")
		expect(t, "member resets another's key", send(t, miaC, "POST", wsURL+"/keys/"+k+"/reset", nil), 404, "not_found")
		expect(t, "member deletes another's key", send(t, miaC, "DELETE", wsURL+"/keys/"+k, nil), 404, "not_found")
		expect(t, "member reads another's usage", send(t, miaC, "GET", wsURL+"/keys/"+k+"/usage", nil), 404, "not_found")
	}
	expect(t, "member creates a workspace key", send(t, miaC, "POST", wsURL+"/keys", map[string]any{"name": "x", "owner": "workspace"}), 403, "forbidden")
	expect(t, "member creates a personal on_premise key", send(t, miaC, "POST", wsURL+"/keys", map[string]any{"name": "x", "type": "on_premise"}), 403, "forbidden")
	expect(t, "member creates a management key", send(t, miaC, "POST", wsURL+"/keys", map[string]any{"name": "x", "type": "management", "owner": "me"}), 403, "forbidden")
	expect(t, "member reads the log", send(t, miaC, "GET", wsURL+"/events", nil), 403, "forbidden")
	expect(t, "member reads settings", send(t, miaC, "GET", wsURL+"/settings", nil), 200, "")
	expect(t, "member edits her key", send(t, miaC, "PATCH", wsURL+"/keys/"+mine, map[string]any{"description": "cron"}), 200, "")
	expect(t, "member revokes her key", send(t, miaC, "POST", wsURL+"/keys/"+mine+"/revoke", nil), 200, "")
	if st, code := acctVerify(t, s.URL, mineSecret); st != 401 || code != "key_revoked" {
		t.Errorf("revoked personal key verifies %d %s", st, code)
	}

	// The workspace can forbid new personal keys.
	off := send(t, owner, "PATCH", wsURL+"/settings", map[string]any{"members_may_create_personal_keys": false})
	if off.status != 200 || off.body["members_may_create_personal_keys"] != false {
		t.Fatalf("switching personal keys off: %d %s", off.status, off.raw)
	}
	expect(t, "member creates a personal key where forbidden", send(t, miaC, "POST", wsURL+"/keys", map[string]any{"name": "y", "owner": "me"}), 403, "forbidden")
	expect(t, "an owner still may", send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "y", "owner": "me"}), 201, "")
	if st, _ := acctVerify(t, s.URL, mine2Secret); st != 200 {
		t.Errorf("an existing personal key stopped when new ones were forbidden: %d", st)
	}

	// Removing the member revokes her personal keys at once, for good, and
	// ends her access to the workspace.
	expect(t, "remove mia", send(t, owner, "DELETE", wsURL+"/members/"+mia, nil), 204, "")
	if st, code := acctVerify(t, s.URL, mine2Secret); st != 401 || code != "key_revoked" {
		t.Errorf("the removed member's key verifies %d %q, want 401 key_revoked", st, code)
	}
	expect(t, "mia's next call", send(t, miaC, "GET", wsURL+"/keys", nil), 404, "not_found")
	removed := acctEvents(t, owner, wsURL, "member.removed")
	if len(removed) != 1 || acctStr(removed[0], "target") != mia || acctStr(removed[0], "actor", "id") != s.OwnerID || acctStr(removed[0], "ip") == "" {
		t.Errorf("member.removed events = %v", removed)
	}
	var stopped []string
	for _, e := range acctEvents(t, owner, wsURL, "key.revoked") {
		if acctObj(e["data"])["reason"] != "member removed" {
			continue
		}
		stopped = append(stopped, acctStr(e, "target"))
		if acctObj(e["data"])["member"] != mia {
			t.Errorf("key.revoked data = %v", e["data"])
		}
	}
	if !slices.Equal(stopped, []string{mine2}) {
		t.Errorf("keys revoked with the member: %v, want only the active key %s", stopped, mine2)
	}
	// Max, another member, is untouched.
	expect(t, "max still lists his keys", send(t, maxC, "GET", wsURL+"/keys", nil), 200, "")
	v.ReportCoverage(t, false)
}

func TestManagementKeyOfDemotedCreator(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	anon := acctClient(v)

	adam := acctStr(acctAddMember(t, owner, wsURL, map[string]any{"email": "adam@example.com", "role": "admin", "password": acctPassword}).body, "member", "user_id")
	adamC := acctLogin(t, v, s.URL, "adam@example.com", acctPassword)
	_, mk := acctCreateKey(t, adamC, wsURL, map[string]any{"name": "adam's automation", "type": "management", "scopes": []string{"keys:read", "keys:write", "members:read"}})
	bearer := "Authorization: Bearer " + mk
	// A scope beyond the creator's role is refused at creation.
	strong := send(t, adamC, "POST", wsURL+"/keys", map[string]any{"name": "too strong", "type": "management", "scopes": []string{"members:read", "members:write"}})
	expect(t, "a key beyond its creator's role", strong, 403, "forbidden")

	made, _ := acctCreateKey(t, anon, wsURL, map[string]any{"name": "made by the key"}, bearer)
	target, _ := acctCreateKey(t, owner, wsURL, map[string]any{"name": "the owner's"})
	if l := acctIDs(send(t, anon, "GET", wsURL+"/keys?owner=workspace", nil, bearer), "id"); !slices.Contains(l, made) || !slices.Contains(l, target) {
		t.Errorf("the admin's key lists %v", l)
	}
	expect(t, "the admin's key lists members", send(t, anon, "GET", wsURL+"/members", nil, bearer), 200, "")

	expect(t, "demote adam", send(t, owner, "PATCH", wsURL+"/members/"+adam, map[string]string{"role": "member"}), 200, "")
	expect(t, "create a workspace key", send(t, anon, "POST", wsURL+"/keys", map[string]any{"name": "after", "owner": "workspace"}, bearer), 403, "forbidden")
	expect(t, "revoke a workspace key", send(t, anon, "POST", wsURL+"/keys/"+target+"/revoke", nil, bearer), 404, "not_found")
	expect(t, "revoke the key it made", send(t, anon, "POST", wsURL+"/keys/"+made+"/revoke", nil, bearer), 404, "not_found")
	expect(t, "read a workspace key", send(t, anon, "GET", wsURL+"/keys/"+target, nil, bearer), 404, "not_found")
	expect(t, "list members", send(t, anon, "GET", wsURL+"/members", nil, bearer), 403, "forbidden")
	if got := send(t, anon, "GET", wsURL+"/keys", nil, bearer); got.status != 200 || len(acctIDs(got, "id")) != 0 {
		t.Errorf("the demoted creator's key lists %d %s", got.status, got.raw)
	}
	if got := send(t, owner, "GET", wsURL+"/keys/"+target, nil); acctStr(got.body, "key", "status") != "active" {
		t.Errorf("the owner's key changed: %s", got.raw)
	}

	// Promoted again, the key does again what its scopes say.
	expect(t, "promote adam", send(t, owner, "PATCH", wsURL+"/members/"+adam, map[string]string{"role": "admin"}), 200, "")
	expect(t, "revoke after promotion", send(t, anon, "POST", wsURL+"/keys/"+made+"/revoke", nil, bearer), 200, "")
	// Removed, the key is revoked with him: it is refused for good.
	expect(t, "remove adam", send(t, owner, "DELETE", wsURL+"/members/"+adam, nil), 204, "")
	expect(t, "list after removal", send(t, anon, "GET", wsURL+"/keys", nil, bearer), 401, "unauthenticated")
	v.ReportCoverage(t, false)
}
