package main

import (
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

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
	created := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Acme", "owner": map[string]any{"email": "bob@example.com"}})
	if created.status != 201 {
		t.Fatalf("creating workspace B: %d %s", created.status, created.raw)
	}
	acctAccept(t, acctClient(v), s.URL, acctStr(created.body, "invite_token"), acctPassword)
	wsB := acctStr(created.body, "workspace", "id")
	bob := acctLogin(t, v, s.URL, "bob@example.com", acctPassword)
	urlA, urlB := s.URL+"/v1/workspaces/"+wsA, s.URL+"/v1/workspaces/"+wsB
	bobID := acctStr(created.body, "owner", "user_id")

	// Carol belongs to both, with different roles, under one email: B's
	// invitation reaches her account only when she accepts it signed in.
	carolID := acctStr(acctAddMember(t, alice, urlA, map[string]any{"email": "carol@example.com", "role": "admin", "password": acctPassword}).body, "member", "user_id")
	again := acctAddMember(t, bob, urlB, map[string]any{"email": "carol@example.com"})
	if acctStr(again.body, "member", "user_id") == carolID || again.body["invite_token"] == nil {
		t.Errorf("carol in B = %s", again.raw)
	}
	carol := acctLogin(t, v, s.URL, "carol@example.com", acctPassword)
	if got := send(t, carol, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": acctStr(again.body, "invite_token")}); got.status != 200 || acctStr(got.body, "user", "id") != carolID {
		t.Fatalf("carol accepts B's invitation: %d %s", got.status, got.raw)
	}
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
			{"GET", urlA + "/keys/" + keyA + "/usage/tags", nil},
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
			{"GET", urlB + "/keys/" + keyA + "/usage/tags", nil},
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
