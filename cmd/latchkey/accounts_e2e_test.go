package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// End-to-end tests of accounts and access control (members, roles,
// personal keys, management keys, settings, tenants, login throttling)
// through the real wiring, every exchange validated against openapi.json.

// acctPassword is a password the policy accepts, for the users the tests
// create.
const acctPassword = "Violet-Canyon-Ledger-58"

// acctClient returns a validated client with its own cookie jar.
func acctClient(v *apitest.Validator) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		panic(err)
	}
	return v.Client(&http.Client{Jar: jar, Timeout: 15 * time.Second})
}

// acctLogin logs email in and returns a validated client holding the session.
func acctLogin(t *testing.T, v *apitest.Validator, base, email, pw string) *http.Client {
	t.Helper()
	hc := acctClient(v)
	got := send(t, hc, "POST", base+"/v1/auth/login", map[string]string{"email": email, "password": pw})
	if got.status != 200 {
		t.Fatalf("login as %s: %d %s", email, got.status, got.raw)
	}
	return hc
}

// acctOperator creates a platform operator with the CLI, on the store of a
// running server (SQLite in WAL mode lets both write).
func acctOperator(t *testing.T, dataDir, email, pw string) {
	t.Helper()
	pwFile := filepath.Join(t.TempDir(), "operator-password")
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := []string{"operator", "create", "--data-dir", dataDir, "--email", email, "--password-file", pwFile}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("latchkey operator create: exit %d, stderr %q", code, errb.String())
	}
}

// acctObj returns x as a JSON object (nil when it is not one).
func acctObj(x any) map[string]any {
	m, _ := x.(map[string]any)
	return m
}

// acctStr returns the string at the path of keys in x ("" when absent).
func acctStr(x any, path ...string) string {
	for _, k := range path {
		x = acctObj(x)[k]
	}
	s, _ := x.(string)
	return s
}

// acctIDs returns the field of every row of a list answer.
func acctIDs(e exchange, field string) []string {
	list, _ := e.body["data"].([]any)
	out := []string{}
	for _, x := range list {
		out = append(out, acctStr(x, field))
	}
	return out
}

// acctDetail returns the answer's error.details[name].
func acctDetail(e exchange, name string) any {
	return acctObj(acctObj(e.body["error"])["details"])[name]
}

// acctMe returns the roles of the caller's workspaces, by workspace id.
func acctMe(t *testing.T, hc *http.Client, base string) map[string]string {
	t.Helper()
	got := send(t, hc, "GET", base+"/v1/me", nil)
	if got.status != 200 {
		t.Fatalf("GET /v1/me: %d %s", got.status, got.raw)
	}
	roles := map[string]string{}
	for _, w := range got.body["workspaces"].([]any) {
		roles[acctStr(w, "id")] = acctStr(w, "role")
	}
	return roles
}

// acctAddMember adds a member and fails the test unless the answer is 201.
func acctAddMember(t *testing.T, hc *http.Client, wsURL string, in map[string]any) exchange {
	t.Helper()
	got := send(t, hc, "POST", wsURL+"/members", in)
	if got.status != 201 {
		t.Fatalf("adding %v: %d %s", in, got.status, got.raw)
	}
	return got
}

// acctCreateKey creates a key and fails the test unless the answer is 201; it
// returns the key id and the secret.
func acctCreateKey(t *testing.T, hc *http.Client, wsURL string, in map[string]any, headers ...string) (string, string) {
	t.Helper()
	got := send(t, hc, "POST", wsURL+"/keys", in, headers...)
	if got.status != 201 {
		t.Fatalf("creating key %v: %d %s", in, got.status, got.raw)
	}
	return acctStr(got.body, "key", "id"), acctStr(got.body, "secret")
}

// acctEvents lists the workspace's events with the given action.
func acctEvents(t *testing.T, hc *http.Client, wsURL, action string) []map[string]any {
	t.Helper()
	got := send(t, hc, "GET", wsURL+"/events?limit=200&action="+action, nil)
	if got.status != 200 {
		t.Fatalf("events %s: %d %s", action, got.status, got.raw)
	}
	var out []map[string]any
	for _, e := range got.body["data"].([]any) {
		out = append(out, acctObj(e))
	}
	return out
}

func acctVerify(t *testing.T, base, secret string) (int, string) {
	t.Helper()
	got := send(t, apitest.New(t).Client(nil), "POST", base+"/v1/keys/verify", map[string]any{"key": secret})
	return got.status, got.errCode()
}

func TestMembersEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID

	// A new user with an initial password can log in and sees the workspace.
	ann := acctAddMember(t, owner, wsURL, map[string]any{"email": "Ann@Example.com", "name": "Ann", "role": "admin", "password": acctPassword})
	annID := acctStr(ann.body, "member", "user_id")
	if m := acctObj(ann.body["member"]); m["email"] != "ann@example.com" || m["role"] != "admin" || m["active"] != true || ann.body["invite_token"] != nil {
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
		"password of existing user": {map[string]any{"email": s.OwnerEmail, "password": acctPassword}, 409, "conflict", "password"},
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

	// Removal ends the member's session; with no workspace left the
	// account cannot log in (403, only after the right password).
	expect(t, "remove bob", send(t, owner, "DELETE", wsURL+"/members/"+bobID, nil), 204, "")
	expect(t, "bob's session after removal", send(t, bobC, "GET", s.URL+"/v1/me", nil), 401, "unauthenticated")
	expect(t, "bob logs in without a workspace", send(t, acctClient(v), "POST", s.URL+"/v1/auth/login", map[string]string{"email": "bob@example.com", "password": acctPassword}), 403, "forbidden")
	expect(t, "bob's wrong password", send(t, acctClient(v), "POST", s.URL+"/v1/auth/login", map[string]string{"email": "bob@example.com", "password": "wrong-password-123"}), 401, "unauthenticated")
	expect(t, "remove bob twice", send(t, owner, "DELETE", wsURL+"/members/"+bobID, nil), 404, "not_found")

	// An existing user is added back as is: no invite, their password kept.
	back := acctAddMember(t, owner, wsURL, map[string]any{"email": "bob@example.com", "role": "admin", "name": "ignored"})
	if back.body["invite_token"] != nil || acctStr(back.body, "member", "user_id") != bobID || acctStr(back.body, "member", "role") != "admin" {
		t.Errorf("re-adding bob = %s", back.raw)
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

	// Removing the member stops her personal keys at once and ends her session.
	expect(t, "remove mia", send(t, owner, "DELETE", wsURL+"/members/"+mia, nil), 204, "")
	if st, code := acctVerify(t, s.URL, mine2Secret); st != 401 || code != "owner_deprovisioned" {
		t.Errorf("the removed member's key verifies %d %q, want 401 owner_deprovisioned", st, code)
	}
	expect(t, "mia's next call", send(t, miaC, "GET", wsURL+"/keys", nil), 401, "unauthenticated")
	removed := acctEvents(t, owner, wsURL, "member.removed")
	if len(removed) != 1 || acctStr(removed[0], "target") != mia || acctStr(removed[0], "actor", "id") != s.OwnerID || acctStr(removed[0], "ip") == "" {
		t.Errorf("member.removed events = %v", removed)
	}
	var stopped []string
	for _, e := range acctEvents(t, owner, wsURL, "key.owner_deprovisioned") {
		stopped = append(stopped, acctStr(e, "target"))
		if acctObj(e["data"])["reason"] != "removed" || acctObj(e["data"])["owner"] != mia {
			t.Errorf("key.owner_deprovisioned data = %v", e["data"])
		}
	}
	if !slices.Equal(stopped, []string{mine2}) {
		t.Errorf("key.owner_deprovisioned for %v, want only the active key %s", stopped, mine2)
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
	// Removed, the key sees nothing of the workspace.
	expect(t, "remove adam", send(t, owner, "DELETE", wsURL+"/members/"+adam, nil), 204, "")
	expect(t, "list after removal", send(t, anon, "GET", wsURL+"/keys", nil, bearer), 404, "not_found")
	v.ReportCoverage(t, false)
}

func TestWorkspaceSettingsEndToEnd(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	settings := wsURL + "/settings"

	acctAddMember(t, owner, wsURL, map[string]any{"email": "sam@example.com", "role": "super_admin", "password": acctPassword})
	acctAddMember(t, owner, wsURL, map[string]any{"email": "ada@example.com", "role": "admin", "password": acctPassword})
	acctAddMember(t, owner, wsURL, map[string]any{"email": "meg@example.com", "password": acctPassword})
	sam := acctLogin(t, v, s.URL, "sam@example.com", acctPassword)
	ada := acctLogin(t, v, s.URL, "ada@example.com", acctPassword)
	meg := acctLogin(t, v, s.URL, "meg@example.com", acctPassword)

	before := send(t, owner, "GET", settings, nil)
	if before.status != 200 || acctStr(before.body, "expiration", "max_lifetime") != "1y" || before.body["members_may_create_personal_keys"] != true {
		t.Fatalf("default settings = %d %s", before.status, before.raw)
	}

	// The policy is validated as a whole: a 30-day maximum conflicts with
	// the default presets 90d and 1y.
	for name, tc := range map[string]struct {
		body  any
		field string
	}{
		"max lifetime under a preset": {map[string]any{"expiration": map[string]any{"max_lifetime": "30d"}}, "expiration.presets"},
		"max lifetime over 10 years":  {map[string]any{"expiration": map[string]any{"max_lifetime": "20y"}}, "expiration.max_lifetime"},
		"notice longer than max":      {map[string]any{"expiration": map[string]any{"notice_before": []string{"2y"}}}, "expiration.notice_before"},
		"six notice windows":          {map[string]any{"expiration": map[string]any{"notice_before": []string{"1d", "2d", "3d", "4d", "5d", "6d"}}}, "expiration.notice_before"},
		"zero retention":              {map[string]any{"expiration": map[string]any{"revoked_retention": "0"}}, "expiration.revoked_retention"},
		"zero deletion delay":         {map[string]any{"expiration": map[string]any{"delete_after_expiry": "0"}}, "expiration.delete_after_expiry"},
		"non-duration preset":         {map[string]any{"expiration": map[string]any{"presets": []string{"1d", "soon"}}}, "expiration.presets"},
		"unknown issuance":            {map[string]any{"scim_key_issuance": "nobody"}, "scim_key_issuance"},
		"unknown field":               {map[string]any{"colour": "red"}, "colour"},
		"unknown expiration field":    {map[string]any{"expiration": map[string]any{"forever": true}}, "forever"},
		"wrong type":                  {map[string]any{"members_may_create_personal_keys": "yes"}, "members_may_create_personal_keys"},
	} {
		got := send(t, owner, "PATCH", settings, tc.body)
		expect(t, name, got, 400, "invalid_request")
		if acctDetail(got, "field") != tc.field {
			t.Errorf("%s: details.field = %v, want %q (%s)", name, acctDetail(got, "field"), tc.field, got.raw)
		}
	}
	t.Run("malformed durations name their field", func(t *testing.T) {
		for name, body := range map[string]any{
			"duration as a number": `{"expiration": {"max_lifetime": 30}}`,
			"malformed duration":   map[string]any{"expiration": map[string]any{"max_lifetime": "forever"}},
		} {
			got := send(t, owner, "PATCH", settings, body)
			expect(t, name, got, 400, "invalid_request")
			if acctDetail(got, "field") != "expiration.max_lifetime" {
				t.Errorf("%s: details.field = %v, want expiration.max_lifetime (%s)", name, acctDetail(got, "field"), got.raw)
			}
		}
	})
	if got := send(t, owner, "GET", settings, nil); string(got.raw) != string(before.raw) {
		t.Errorf("refused changes changed the settings: %s", got.raw)
	}

	policy := map[string]any{"expiration": map[string]any{"max_lifetime": "30d", "presets": []string{"1d", "5d", "30d"}, "notice_before": []string{"7d", "1d"}}}
	got := send(t, owner, "PATCH", settings, policy)
	exp := acctObj(got.body["expiration"])
	if got.status != 200 || exp["max_lifetime"] != "30d" || len(exp["presets"].([]any)) != 3 || len(exp["notice_before"].([]any)) != 2 || exp["delete_after_expiry"] != "90d" {
		t.Fatalf("patch policy: %d %s", got.status, got.raw)
	}
	tooLong := send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "quarterly", "expires_in": "90d"})
	expect(t, "a key longer than max_lifetime", tooLong, 400, "invalid_request")
	if msg := acctStr(tooLong.body, "error", "message"); !strings.Contains(msg, "maximum lifetime") || !strings.Contains(msg, "30d") || acctDetail(tooLong, "field") != "expires_in" {
		t.Errorf("the refusal is not clear: %s", tooLong.raw)
	}
	dflt := send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "default life"})
	if at, err := time.Parse(time.RFC3339, acctStr(dflt.body, "key", "expires_at")); err != nil || at.After(time.Now().Add(30*24*time.Hour+time.Minute)) || at.Before(time.Now().Add(29*24*time.Hour)) {
		t.Errorf("a key without expiry expires at %v, want in 30 days", acctStr(dflt.body, "key", "expires_at"))
	}
	expect(t, "a key within max_lifetime", send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "monthly", "expires_in": "30d"}), 201, "")
	expect(t, "never, where not allowed", send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "forever", "expires_in": "never"}), 400, "invalid_request")
	expect(t, "allow never", send(t, sam, "PATCH", settings, map[string]any{"expiration": map[string]any{"allow_never_expire": true}}), 200, "")
	if k := send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "forever", "expires_in": "never"}); k.status != 201 || acctObj(k.body["key"])["expires_at"] != nil {
		t.Errorf("a never-expiring key: %d %s", k.status, k.raw)
	}

	// SCIM key issuance decides who creates scim keys.
	expect(t, "issuance by the operator", send(t, owner, "PATCH", settings, map[string]any{"scim_key_issuance": "operator", "scim_custom_attributes": true}), 200, "")
	expect(t, "an owner creates a scim key", send(t, owner, "POST", wsURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 403, "forbidden")
	expect(t, "an admin creates a scim key", send(t, ada, "POST", wsURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 403, "forbidden")
	expect(t, "issuance by admins", send(t, owner, "PATCH", settings, map[string]any{"scim_key_issuance": "admins"}), 200, "")
	expect(t, "an admin creates a scim key", send(t, ada, "POST", wsURL+"/keys", map[string]any{"name": "okta", "type": "scim"}), 201, "")

	// Who may change settings.
	mk := s.managementKey(t, "keys:read", "keys:write", "members:read", "members:write", "events:read")
	expect(t, "a member", send(t, meg, "PATCH", settings, map[string]any{"scim_custom_attributes": false}), 403, "forbidden")
	expect(t, "an admin", send(t, ada, "PATCH", settings, map[string]any{"scim_custom_attributes": false}), 403, "forbidden")
	expect(t, "a management key", send(t, acctClient(v), "PATCH", settings, map[string]any{"scim_custom_attributes": false}, "Authorization: Bearer "+mk), 403, "forbidden")
	expect(t, "a management key reads", send(t, acctClient(v), "GET", settings, nil, "Authorization: Bearer "+mk), 200, "")
	expect(t, "a member reads", send(t, meg, "GET", settings, nil), 200, "")
	expect(t, "anonymous", send(t, acctClient(v), "PATCH", settings, map[string]any{}), 401, "unauthenticated")

	// Each change is one event with its actor, address and fields; an
	// empty patch changes nothing and records nothing.
	n := len(acctEvents(t, owner, wsURL, "settings.updated"))
	expect(t, "empty patch", send(t, owner, "PATCH", settings, map[string]any{}), 200, "")
	expect(t, "same value", send(t, owner, "PATCH", settings, map[string]any{"expiration": map[string]any{}}), 200, "")
	evs := acctEvents(t, owner, wsURL, "settings.updated")
	if len(evs) != n || n != 4 {
		t.Errorf("settings.updated events: %d, then %d after empty patches; want 4", n, len(evs))
	}
	first := evs[len(evs)-1]
	changed, _ := acctObj(first["data"])["changed"].([]any)
	if acctStr(first, "actor", "type") != "user" || acctStr(first, "actor", "id") != s.OwnerID || acctStr(first, "actor", "label") != s.OwnerEmail ||
		acctStr(first, "ip") != "127.0.0.1" || acctStr(first, "target") != s.WorkspaceID || len(changed) != 3 {
		t.Errorf("settings.updated = %v", first)
	}
	if acctStr(evs[len(evs)-2], "actor", "label") != "sam@example.com" {
		t.Errorf("the super admin's change is recorded as %v", evs[len(evs)-2]["actor"])
	}
	v.ReportCoverage(t, false)
}

func TestCrossTenantIsolation(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v, s.URL, "support@vendor.example", acctPassword)

	// Workspace A is the server's "Acme"; workspace B is another "Acme"
	// created by the operator, with another owner.
	alice := v.Client(s.login(t))
	wsA := s.WorkspaceID
	created := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Acme", "owner": map[string]any{"email": "bob@example.com", "password": acctPassword}})
	if created.status != 201 {
		t.Fatalf("creating workspace B: %d %s", created.status, created.raw)
	}
	wsB := acctStr(created.body, "workspace", "id")
	bob := acctLogin(t, v, s.URL, "bob@example.com", acctPassword)
	urlA, urlB := s.URL+"/v1/workspaces/"+wsA, s.URL+"/v1/workspaces/"+wsB
	bobID := acctStr(created.body, "owner", "user_id")

	// Carol belongs to both, with different roles, under one email.
	carolID := acctStr(acctAddMember(t, alice, urlA, map[string]any{"email": "carol@example.com", "role": "admin", "password": acctPassword}).body, "member", "user_id")
	again := acctAddMember(t, bob, urlB, map[string]any{"email": "carol@example.com"})
	if acctStr(again.body, "member", "user_id") != carolID || again.body["invite_token"] != nil {
		t.Errorf("carol in B = %s", again.raw)
	}
	carol := acctLogin(t, v, s.URL, "carol@example.com", acctPassword)
	if roles := acctMe(t, carol, s.URL); len(roles) != 2 || roles[wsA] != "admin" || roles[wsB] != "member" {
		t.Errorf("carol's workspaces = %v", roles)
	}
	dave := acctStr(acctAddMember(t, bob, urlB, map[string]any{"email": "dave@example.com", "password": acctPassword}).body, "member", "user_id")

	// The same names and settings on both sides.
	keyA, secretA := acctCreateKey(t, alice, urlA, map[string]any{"name": "Billing"})
	keyB, _ := acctCreateKey(t, bob, urlB, map[string]any{"name": "Billing"})
	carolKeyB, _ := acctCreateKey(t, carol, urlB, map[string]any{"name": "Billing", "owner": "me"})
	_, mkB := acctCreateKey(t, bob, urlB, map[string]any{"name": "Billing", "type": "management", "scopes": []string{"keys:read", "keys:write", "members:read", "members:write", "events:read"}})
	for _, u := range []struct {
		hc  *http.Client
		url string
	}{{alice, urlA}, {bob, urlB}} {
		expect(t, "issuance by operator", send(t, u.hc, "PATCH", u.url+"/settings", map[string]any{"scim_key_issuance": "operator"}), 200, "")
	}
	reqA := send(t, alice, "POST", urlA+"/scim-key-requests", map[string]any{"contact_email": "it@acme.example", "integration": "okta"})
	reqB := send(t, bob, "POST", urlB+"/scim-key-requests", map[string]any{"contact_email": "it@acme.example", "integration": "okta"})
	if reqA.status != 201 || reqB.status != 201 {
		t.Fatalf("scim key requests: %s %s", reqA.raw, reqB.raw)
	}
	reqAID, reqBID := acctStr(reqA.body, "request", "id"), acctStr(reqB.body, "request", "id")
	settingsA := send(t, alice, "GET", urlA+"/settings", nil).raw

	// From B (its owner's session, and a management key of B with every
	// scope), every path of A answers 404, and every path of B answers
	// 404 for A's objects.
	mkC := acctClient(v)
	for who, call := range map[string]func(method, url string, body any) exchange{
		"B's owner":          func(m, u string, b any) exchange { return send(t, bob, m, u, b) },
		"B's management key": func(m, u string, b any) exchange { return send(t, mkC, m, u, b, "Authorization: Bearer "+mkB) },
	} {
		for _, c := range []struct {
			method, path string
			body         any
		}{
			{"GET", urlA + "/keys", nil},
			{"POST", urlA + "/keys", map[string]any{"name": "planted"}},
			{"GET", urlA + "/keys/" + keyA, nil},
			{"PATCH", urlA + "/keys/" + keyA, map[string]any{"name": "taken"}},
			{"POST", urlA + "/keys/" + keyA + "/revoke", nil},
			{"POST", urlA + "/keys/" + keyA + "/reset", nil},
			{"GET", urlA + "/keys/" + keyA + "/usage", nil},
			{"DELETE", urlA + "/keys/" + keyA, nil},
			{"GET", urlA + "/settings", nil},
			{"PATCH", urlA + "/settings", map[string]any{"scim_key_issuance": "admins"}},
			{"GET", urlA + "/events", nil},
			{"GET", urlA + "/members", nil},
			{"POST", urlA + "/members", map[string]any{"email": "mole@example.com", "role": "member", "password": acctPassword}},
			{"PATCH", urlA + "/members/" + s.OwnerID, map[string]any{"role": "member"}},
			{"PATCH", urlA + "/members/" + carolID, map[string]any{"role": "member"}},
			{"DELETE", urlA + "/members/" + carolID, nil},
			{"DELETE", urlA + "/members/" + s.OwnerID, nil},
			{"GET", urlA + "/scim-key-requests", nil},
			{"POST", urlA + "/scim-key-requests", map[string]any{"contact_email": "mole@example.com", "integration": "okta"}},
			{"GET", urlB + "/keys/" + keyA, nil},
			{"PATCH", urlB + "/keys/" + keyA, map[string]any{"name": "taken"}},
			{"POST", urlB + "/keys/" + keyA + "/revoke", nil},
			{"POST", urlB + "/keys/" + keyA + "/reset", nil},
			{"GET", urlB + "/keys/" + keyA + "/usage", nil},
			{"DELETE", urlB + "/keys/" + keyA, nil},
			{"PATCH", urlB + "/members/" + s.OwnerID, map[string]any{"role": "member"}},
			{"DELETE", urlB + "/members/" + s.OwnerID, nil},
		} {
			got := call(c.method, c.path, c.body)
			if got.status != 404 || got.errCode() != "not_found" {
				t.Errorf("%s: %s %s: %d %s, want 404", who, c.method, strings.TrimPrefix(c.path, s.URL), got.status, got.raw)
			}
		}
		// Fulfilling requests is for operators, whoever asks and whichever the id.
		for _, id := range []string{reqAID, "skr_01ARZ3NDEKTSV4RRFFQ69G5FAV"} {
			expect(t, who+" issues a request", call("POST", s.URL+"/v1/scim-key-requests/"+id+"/issue", nil), 403, "forbidden")
		}
		expect(t, who+" lists the queue", call("GET", s.URL+"/v1/scim-key-requests", nil), 403, "forbidden")
		expect(t, who+" lists workspaces", call("GET", s.URL+"/v1/workspaces", nil), 403, "forbidden")
	}
	// Carol is an admin in A but a member in B: A's role does not carry over.
	expect(t, "carol reads B's workspace key", send(t, carol, "GET", urlB+"/keys/"+keyB, nil), 404, "not_found")
	expect(t, "carol reads B's members", send(t, carol, "GET", urlB+"/members", nil), 403, "forbidden")
	expect(t, "carol reads B's events", send(t, carol, "GET", urlB+"/events", nil), 403, "forbidden")
	expect(t, "carol reads her own key of B through A", send(t, carol, "GET", urlA+"/keys/"+carolKeyB, nil), 404, "not_found")
	expect(t, "carol revokes B's key through A", send(t, carol, "POST", urlA+"/keys/"+keyB+"/revoke", nil), 404, "not_found")
	expect(t, "carol, an admin, removes anyone through A", send(t, carol, "DELETE", urlA+"/members/"+dave, nil), 403, "forbidden")
	expect(t, "A's owner removes B's member", send(t, alice, "DELETE", urlA+"/members/"+dave, nil), 404, "not_found")
	expect(t, "A's owner promotes B's member", send(t, alice, "PATCH", urlA+"/members/"+dave, map[string]any{"role": "owner"}), 404, "not_found")
	if l := acctIDs(send(t, carol, "GET", urlB+"/keys", nil), "id"); !slices.Equal(l, []string{carolKeyB}) {
		t.Errorf("carol lists B's keys: %v, want only her own", l)
	}

	// Lists never hold the other workspace's objects.
	aIDs := []string{wsA, keyA, s.OwnerID, reqAID}
	lists := map[string]exchange{
		"B keys":          send(t, bob, "GET", urlB+"/keys", nil),
		"B members":       send(t, bob, "GET", urlB+"/members", nil),
		"B events":        send(t, bob, "GET", urlB+"/events?limit=200", nil),
		"B scim requests": send(t, bob, "GET", urlB+"/scim-key-requests", nil),
		"B settings":      send(t, bob, "GET", urlB+"/settings", nil),
		"A keys (carol)":  send(t, carol, "GET", urlA+"/keys", nil),
	}
	for name, l := range lists {
		if l.status != 200 {
			t.Errorf("%s: %d %s", name, l.status, l.raw)
		}
		for _, id := range aIDs {
			if name != "A keys (carol)" && strings.Contains(string(l.raw), id) {
				t.Errorf("%s mentions %s of workspace A: %s", name, id, l.raw)
			}
		}
		for _, row := range acctRows(l) {
			if w, ok := row["workspace_id"]; ok && name != "A keys (carol)" && w != wsB {
				t.Errorf("%s holds an object of %v", name, w)
			}
		}
	}
	if l := acctIDs(lists["A keys (carol)"], "id"); slices.Contains(l, keyB) || slices.Contains(l, carolKeyB) || !slices.Contains(l, keyA) {
		t.Errorf("A's keys as seen by carol: %v", l)
	}
	if l := acctIDs(lists["B members"], "user_id"); !slices.Equal(l, []string{bobID, carolID, dave}) {
		t.Errorf("B's members = %v", l)
	}
	if l := acctIDs(lists["B scim requests"], "id"); !slices.Equal(l, []string{reqBID}) {
		t.Errorf("B's scim requests = %v", l)
	}

	// Nothing of A changed.
	if st, _ := acctVerify(t, s.URL, secretA); st != 200 {
		t.Errorf("A's key verifies %d after B's attempts", st)
	}
	if got := send(t, alice, "GET", urlA+"/keys/"+keyA, nil); acctStr(got.body, "key", "name") != "Billing" || acctStr(got.body, "key", "status") != "active" {
		t.Errorf("A's key = %s", got.raw)
	}
	if got := send(t, alice, "GET", urlA+"/settings", nil).raw; string(got) != string(settingsA) {
		t.Errorf("A's settings changed: %s, were %s", got, settingsA)
	}
	if l := acctIDs(send(t, alice, "GET", urlA+"/members", nil), "user_id"); !slices.Equal(l, []string{s.OwnerID, carolID}) {
		t.Errorf("A's members = %v", l)
	}
	if roles := acctMe(t, alice, s.URL); len(roles) != 1 || roles[wsA] != "owner" {
		t.Errorf("alice's workspaces = %v", roles)
	}
	for _, e := range acctEvents(t, alice, urlA, "") {
		if acctStr(e, "workspace_id") != wsA || acctStr(e, "actor", "id") == bobID {
			t.Errorf("A's log holds %v", e)
		}
	}
	// The operator sees both requests; each workspace only its own.
	if l := acctIDs(send(t, op, "GET", s.URL+"/v1/scim-key-requests", nil), "id"); !slices.Contains(l, reqAID) || !slices.Contains(l, reqBID) {
		t.Errorf("the operator's queue = %v", l)
	}
	v.ReportCoverage(t, false)
}

// acctRows returns the answer's data list, or nothing when it is not a list.
func acctRows(e exchange) []map[string]any {
	list, _ := e.body["data"].([]any)
	var out []map[string]any
	for _, x := range list {
		out = append(out, acctObj(x))
	}
	return out
}

// acctFrom returns a validated client whose connections come from the
// given loopback address, so that tests can be several clients to the
// login throttle.
func acctFrom(t *testing.T, v *apitest.Validator, ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}, Timeout: 5 * time.Second}
	conn, err := d.DialContext(context.Background(), "tcp", "127.0.0.1:1")
	if err != nil && strings.Contains(err.Error(), "assign requested address") {
		t.Skipf("cannot send from %s on this system: %v", ip, err)
	}
	if conn != nil {
		conn.Close()
	}
	jar, _ := cookiejar.New(nil)
	tr := &http.Transport{DialContext: d.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return v.Client(&http.Client{Jar: jar, Timeout: 15 * time.Second, Transport: tr})
}

func TestLoginThrottle(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	login := s.URL + "/v1/auth/login"
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	acctAddMember(t, owner, wsURL, map[string]any{"email": "zoe@example.com", "password": acctPassword})
	// Two clients from two addresses, so that the per-address count of one
	// does not lock the other: one guesses at a real account, one at an
	// email that does not exist. They must get the same answers.
	known, unknown := acctFrom(t, v, "127.0.0.2"), acctFrom(t, v, "127.0.0.3")
	start := time.Now()
	var answers [2][]exchange
	var wg sync.WaitGroup
	for i, c := range []struct {
		hc    *http.Client
		email string
	}{{known, s.OwnerEmail}, {unknown, "nobody@example.com"}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 11 {
				answers[i] = append(answers[i], send(t, c.hc, "POST", login, map[string]string{"email": c.email, "password": "guess-number-" + strconv.Itoa(n)}))
			}
		}()
	}
	wg.Wait()
	if took := time.Since(start); took < 3*time.Second {
		t.Errorf("10 failures took %v: the answers were not slowed down", took)
	}
	for n := range 11 {
		k, u := answers[0][n], answers[1][n]
		want, code := 401, "unauthenticated"
		if n == 10 {
			want, code = 429, "rate_limited"
		}
		expect(t, "attempt "+strconv.Itoa(n+1)+" on a real account", k, want, code)
		expect(t, "attempt "+strconv.Itoa(n+1)+" on an unknown email", u, want, code)
		if acctStr(k.body, "error", "message") != acctStr(u.body, "error", "message") {
			t.Errorf("attempt %d tells emails apart: %s vs %s", n+1, k.raw, u.raw)
		}
	}
	for _, a := range []exchange{answers[0][10], answers[1][10]} {
		secs, err := strconv.Atoi(a.header.Get("Retry-After"))
		if err != nil || secs < 60 || secs > 15*60+1 || acctDetail(a, "retry_after_seconds") != float64(secs) {
			t.Errorf("429 with Retry-After %q and details %s", a.header.Get("Retry-After"), a.raw)
		}
	}
	// Locked out: even the right password, and from another address.
	expect(t, "the right password while locked", send(t, known, "POST", login, map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}), 429, "rate_limited")
	other := acctFrom(t, v, "127.0.0.4")
	expect(t, "the right password from elsewhere", send(t, other, "POST", login, map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}), 429, "rate_limited")
	// The locked address cannot try other accounts either.
	expect(t, "another email from the locked address", send(t, unknown, "POST", login, map[string]string{"email": "someone@example.com", "password": "guess-number-x"}), 429, "rate_limited")
	// Another account from a clean address is not affected.
	expect(t, "another account", send(t, other, "POST", login, map[string]string{"email": "zoe@example.com", "password": acctPassword}), 200, "")
	t.Logf("throttled for %v", time.Since(start))
	// Failures on the real account are in its workspace's log, with the
	// address; the locked-out attempts never reached the password check.
	failed := acctEvents(t, owner, wsURL, "auth.login_failed")
	if len(failed) != 10 || acctStr(failed[0], "ip") != "127.0.0.2" || acctStr(failed[0], "target") != s.OwnerID {
		t.Errorf("auth.login_failed events: %d, first %v", len(failed), failed)
	}
	v.ReportCoverage(t, false)
}

func TestCrossOriginRefused(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	evil := []string{"Origin: https://evil.example", "Sec-Fetch-Site: cross-site"}
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/members", map[string]any{"email": "mole@example.com", "role": "owner", "password": acctPassword}},
		{"PATCH", "/settings", map[string]any{"members_may_create_personal_keys": false}},
		{"DELETE", "/members/" + s.OwnerID, nil},
		{"POST", "/keys", map[string]any{"name": "csrf"}},
	} {
		got := send(t, owner, c.method, wsURL+c.path, c.body, evil...)
		expect(t, "cross-origin "+c.method+" "+c.path, got, 403, "forbidden")
		if !strings.HasPrefix(got.header.Get("Content-Type"), "application/json") {
			t.Errorf("cross-origin refusal is %q, want JSON", got.header.Get("Content-Type"))
		}
	}
	expect(t, "cross-origin accept-invite", send(t, acctClient(v), "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": "x", "password": acctPassword}, evil...), 403, "forbidden")
	expect(t, "cross-origin GET is harmless and allowed", send(t, owner, "GET", wsURL+"/settings", nil, evil...), 200, "")
	if l := acctIDs(send(t, owner, "GET", wsURL+"/members", nil), "user_id"); len(l) != 1 {
		t.Errorf("members after refused cross-origin calls: %v", l)
	}
	if st := send(t, owner, "GET", wsURL+"/settings", nil); st.body["members_may_create_personal_keys"] != true {
		t.Errorf("settings changed by a cross-origin call: %s", st.raw)
	}
	expect(t, "same-origin POST", send(t, owner, "POST", wsURL+"/members", map[string]any{"email": "ok@example.com"}, "Sec-Fetch-Site: same-origin"), 201, "")
	v.ReportCoverage(t, false)
}

// TestAccountsProtocolErrors sends each account endpoint what every
// endpoint refuses alike: no credentials, a body that is not JSON, a body
// over 1 MiB.
func TestAccountsProtocolErrors(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v, s.URL, "support@vendor.example", acctPassword)
	owner := v.Client(s.login(t))
	anon := acctClient(v)
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	member := wsURL + "/members/" + s.OwnerID
	issue := s.URL + "/v1/scim-key-requests/skr_01ARZ3NDEKTSV4RRFFQ69G5FAV/issue"
	huge := `{"name": "` + strings.Repeat("a", 1<<20) + `"}`
	for _, c := range []struct {
		method, url string
		hc          *http.Client
		body        bool
	}{
		{"GET", wsURL + "/members", owner, false},
		{"POST", wsURL + "/members", owner, true},
		{"PATCH", member, owner, true},
		{"DELETE", member, owner, false},
		{"PATCH", wsURL + "/settings", owner, true},
		{"GET", wsURL + "/settings", owner, false},
		{"GET", wsURL + "/scim-key-requests", owner, false},
		{"POST", wsURL + "/scim-key-requests", owner, true},
		{"GET", s.URL + "/v1/workspaces", op, false},
		{"POST", s.URL + "/v1/workspaces", op, true},
		{"GET", s.URL + "/v1/scim-key-requests", op, false},
		{"POST", issue, op, true},
		{"POST", s.URL + "/v1/auth/accept-invite", anon, true},
		{"POST", s.URL + "/v1/auth/login", anon, true},
	} {
		what := c.method + " " + strings.TrimPrefix(c.url, s.URL)
		if c.hc != anon {
			expect(t, what+" without credentials", send(t, anon, c.method, c.url, nil), 401, "unauthenticated")
			expect(t, what+" with an ended session", send(t, anon, c.method, c.url, nil, "Cookie: latchkey_session=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"), 401, "unauthenticated")
		}
		if !c.body {
			continue
		}
		expect(t, what+" with a form", send(t, c.hc, c.method, c.url, nil, "Content-Type: application/x-www-form-urlencoded"), 415, "unsupported_media")
		expect(t, what+" over 1 MiB", send(t, c.hc, c.method, c.url, huge), 413, "body_too_large")
		expect(t, what+" with malformed JSON", send(t, c.hc, c.method, c.url, `{"email": `), 400, "invalid_request")
	}
	expect(t, "login with an empty body", send(t, anon, "POST", s.URL+"/v1/auth/login", nil), 400, "invalid_request")
	mk := s.managementKey(t, "events:read")
	expect(t, "settings without keys:read", send(t, anon, "GET", wsURL+"/settings", nil, "Authorization: Bearer "+mk), 403, "forbidden")
	expect(t, "members without members:read", send(t, anon, "GET", wsURL+"/members", nil, "Authorization: Bearer "+mk), 403, "forbidden")
	expect(t, "scim requests with a management key", send(t, anon, "GET", wsURL+"/scim-key-requests", nil, "Authorization: Bearer "+mk), 403, "forbidden")
	v.ReportCoverage(t, false)
}
