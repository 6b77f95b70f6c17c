package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// anyToken matches a latchkey token anywhere in an answer.
var anyToken = regexp.MustCompile(`lk_(prod|demo)_[0-9A-Za-z]{38}`)

// Operators approve SCIM key requests and must never see a secret: not in
// the approval's answer, not under the former /issue name, not in any list
// they may read after the workspace picked the key up.
func TestAttackOperatorReceivesScimSecret(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v, s.URL, "support@vendor.example", acctPassword)
	owner := acctLogin(t, v, s.URL, s.OwnerEmail, s.OwnerPassword)
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	expect(t, "reserve SCIM keys to operators", send(t, owner, "PATCH", wsURL+"/settings", map[string]any{"scim_key_issuance": "operator"}), 200, "")

	var seen []exchange
	var picked []string
	for _, verb := range []string{"approve", "issue"} {
		req := send(t, owner, "POST", wsURL+"/scim-key-requests", map[string]any{"contact_email": "it@acme.example", "integration": "okta"})
		id := acctStr(req.body, "request", "id")
		got := send(t, op, "POST", s.URL+"/v1/scim-key-requests/"+id+"/"+verb, nil)
		if got.status != 200 || acctStr(got.body, "request", "state") != "approved" {
			t.Fatalf("%s: %d %s", verb, got.status, got.raw)
		}
		seen = append(seen, got, send(t, op, "POST", s.URL+"/v1/scim-key-requests/"+id+"/"+verb, nil))
		// The victim loses nothing: the workspace picks its key up.
		up := send(t, owner, "POST", wsURL+"/scim-key-requests/"+id+"/pickup", nil)
		if up.status != 201 || !anyToken.MatchString(acctStr(up.body, "secret")) {
			t.Fatalf("pickup after %s: %d %s", verb, up.status, up.raw)
		}
		picked = append(picked, acctStr(up.body, "secret"))
		if got := send(t, apitest.New(t).Client(nil), "POST", s.URL+"/v1/keys/verify", map[string]any{"key": acctStr(up.body, "secret"), "type": "scim"}); got.status != 200 {
			t.Errorf("the picked-up key verifies %d %s", got.status, got.raw)
		}
	}
	seen = append(seen,
		send(t, op, "GET", s.URL+"/v1/scim-key-requests", nil),
		send(t, op, "GET", wsURL+"/scim-key-requests", nil),
		send(t, op, "GET", wsURL+"/keys?type=scim", nil),
	)
	for _, got := range seen {
		if anyToken.Match(got.raw) || strings.Contains(string(got.raw), `"secret"`) {
			t.Errorf("an operator's answer holds a secret: %d %s", got.status, got.raw)
		}
		for _, secret := range picked {
			if strings.Contains(string(got.raw), secret) {
				t.Errorf("an operator's answer holds the picked-up secret: %s", got.raw)
			}
		}
	}
	v.ReportCoverage(t, false)
}

// Another workspace's admins, a member of the workspace and its
// management keys try to pick up the SCIM key an operator approved for
// Acme.
func TestAttackPickUpAnotherWorkspacesScimKey(t *testing.T) {
	t.Parallel()
	s := startServer(t)
	v := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v, s.URL, "support@vendor.example", acctPassword)
	owner := acctLogin(t, v, s.URL, s.OwnerEmail, s.OwnerPassword)
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	mk := s.managementKey(t, "keys:read", "keys:write", "members:read", "members:write", "events:read", "vaults:read", "vaults:write")
	expect(t, "reserve SCIM keys to operators", send(t, owner, "PATCH", wsURL+"/settings", map[string]any{"scim_key_issuance": "operator"}), 200, "")
	acctAddMember(t, owner, wsURL, map[string]any{"email": "mo@acme.example", "role": "member", "password": acctPassword})
	mo := acctLogin(t, v, s.URL, "mo@acme.example", acctPassword)

	evil := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Evil Corp", "owner": map[string]any{"email": "eve@evil.example"}})
	if evil.status != 201 {
		t.Fatalf("create Evil Corp: %d %s", evil.status, evil.raw)
	}
	acctAccept(t, acctClient(v), s.URL, acctStr(evil.body, "invite_token"), acctPassword)
	evilURL := s.URL + "/v1/workspaces/" + acctStr(evil.body, "workspace", "id")
	eve := acctLogin(t, v, s.URL, "eve@evil.example", acctPassword)
	expect(t, "Evil reserves SCIM keys to operators", send(t, eve, "PATCH", evilURL+"/settings", map[string]any{"scim_key_issuance": "operator"}), 200, "")

	req := send(t, owner, "POST", wsURL+"/scim-key-requests", map[string]any{"contact_email": "it@acme.example", "integration": "okta"})
	id := acctStr(req.body, "request", "id")
	expect(t, "approve", send(t, op, "POST", s.URL+"/v1/scim-key-requests/"+id+"/approve", nil), 200, "")

	for _, c := range []struct {
		what   string
		got    exchange
		status int
		code   string
	}{
		{"Evil's owner, through Evil's workspace", send(t, eve, "POST", evilURL+"/scim-key-requests/"+id+"/pickup", nil), 404, "not_found"},
		{"Evil's owner, through Acme's workspace", send(t, eve, "POST", wsURL+"/scim-key-requests/"+id+"/pickup", nil), 404, "not_found"},
		{"Acme's member", send(t, mo, "POST", wsURL+"/scim-key-requests/"+id+"/pickup", nil), 403, "forbidden"},
		{"Acme's management key", send(t, acctClient(v), "POST", wsURL+"/scim-key-requests/"+id+"/pickup", nil, "Authorization: Bearer "+mk), 403, "forbidden"},
		{"anonymous", send(t, acctClient(v), "POST", wsURL+"/scim-key-requests/"+id+"/pickup", nil), 401, "unauthenticated"},
	} {
		expect(t, c.what, c.got, c.status, c.code)
		if anyToken.Match(c.got.raw) {
			t.Errorf("%s got a secret: %s", c.what, c.got.raw)
		}
	}
	if l := acctIDs(send(t, owner, "GET", wsURL+"/keys?type=scim", nil), "id"); len(l) != 0 {
		t.Errorf("SCIM keys after the attempts: %v, want none", l)
	}
	// The victim loses nothing: Acme's owner picks the key up, once.
	up := send(t, owner, "POST", wsURL+"/scim-key-requests/"+id+"/pickup", nil)
	if up.status != 201 || acctStr(up.body, "key", "workspace_id") != s.WorkspaceID {
		t.Fatalf("Acme's pickup: %d %s", up.status, up.raw)
	}
	expect(t, "a second pickup", send(t, owner, "POST", wsURL+"/scim-key-requests/"+id+"/pickup", nil), 409, "conflict")
	if evs := acctEvents(t, eve, evilURL, "scim_key."); len(evs) != 0 {
		t.Errorf("Evil's log shows Acme's SCIM key: %v", evs)
	}
	v.ReportCoverage(t, false)
}
