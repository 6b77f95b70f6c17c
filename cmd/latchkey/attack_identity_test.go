package main

import (
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// The identity attacks of the security review, replayed end to end: Acme
// is the server's first workspace, Evil Corp a second one with its own
// owner. Each test asserts that the attacker gains nothing and that the
// victim loses nothing.

// attackWorld is Acme (the victim) and Evil Corp (the attacker) on one server.
type attackWorld struct {
	s          *testServer
	v          *apitest.Validator
	op         *http.Client
	acme, evil *http.Client // their owners' sessions
	acmeURL    string
	evilURL    string
}

func newAttackWorld(t *testing.T) *attackWorld {
	t.Helper()
	s := startServer(t)
	v := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	w := &attackWorld{s: s, v: v, op: acctLogin(t, v, s.URL, "support@vendor.example", acctPassword)}
	w.acme = v.Client(s.login(t))
	created := send(t, w.op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Evil Corp", "owner": map[string]any{"email": "mallory@evil.example"}})
	if created.status != 201 {
		t.Fatalf("creating Evil Corp: %d %s", created.status, created.raw)
	}
	acctAccept(t, acctClient(v), s.URL, acctStr(created.body, "invite_token"), acctPassword)
	w.evil = acctLogin(t, v, s.URL, "mallory@evil.example", acctPassword)
	w.acmeURL = s.URL + "/v1/workspaces/" + s.WorkspaceID
	w.evilURL = s.URL + "/v1/workspaces/" + acctStr(created.body, "workspace", "id")
	return w
}

// accept posts an invitation acceptance from hc.
func (w *attackWorld) accept(t *testing.T, hc *http.Client, token, pw string) exchange {
	t.Helper()
	body := map[string]string{"token": token}
	if pw != "" {
		body["password"] = pw
	}
	return send(t, hc, "POST", w.s.URL+"/v1/auth/accept-invite", body)
}

func TestAttackCrossTenantTakeoverOfInvitedUser(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t)
	// Acme invites alice as super admin; she has not accepted yet.
	alice := acctAddMember(t, w.acme, w.acmeURL, map[string]any{"email": "alice@acme.example", "role": "super_admin"})
	aliceID, aliceToken := acctStr(alice.body, "member", "user_id"), acctStr(alice.body, "invite_token")

	// Evil adds her address: the answer is a new identity of Evil's, not Alice's.
	grab := acctAddMember(t, w.evil, w.evilURL, map[string]any{"email": "alice@acme.example"})
	if got := acctStr(grab.body, "member", "user_id"); got == aliceID || strings.Contains(string(grab.raw), aliceID) {
		t.Fatalf("Evil's answer names Acme's identity: %s", grab.raw)
	}
	// Evil re-issues an invite for Acme's identity: not its member.
	expect(t, "Evil invites Acme's identity", send(t, w.evil, "POST", w.evilURL+"/members/"+aliceID+"/invite", nil), 404, "not_found")
	// Evil accepts its own invitation with a password it chose: that makes an
	// account in Evil only.
	attacker := acctClient(w.v)
	if got := w.accept(t, attacker, acctStr(grab.body, "invite_token"), "Mallory-Chosen-Pass-99"); got.status != 200 {
		t.Fatalf("Evil accepts its own invitation: %d %s", got.status, got.raw)
	}
	if roles := acctMe(t, attacker, w.s.URL); len(roles) != 1 || roles[w.s.WorkspaceID] != "" {
		t.Errorf("the attacker's account reaches %v", roles)
	}
	expect(t, "the attacker reads Acme", send(t, attacker, "GET", w.acmeURL+"/members", nil), 404, "not_found")
	// Alice's real invitation still works for its holder (she signs in to the
	// account the address now has, or Acme's admin sees it pending).
	if got := send(t, w.acme, "GET", w.acmeURL+"/members", nil); !strings.Contains(string(got.raw), aliceID) {
		t.Errorf("Alice's pending membership is gone: %s", got.raw)
	}
	if got := w.accept(t, acctClient(w.v), aliceToken, "Alice-Own-Passphrase-1"); got.status == 200 {
		t.Errorf("Alice's token set a password on the address Evil claimed")
	}
	// The attacker's password never opens Acme.
	expect(t, "attacker as alice reads Acme", send(t, acctLogin(t, w.v, w.s.URL, "alice@acme.example", "Mallory-Chosen-Pass-99"), "GET", w.acmeURL+"/keys", nil), 404, "not_found")
}

func TestAttackOperatorInviteSetsExistingPassword(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t)
	created := send(t, w.op, "POST", w.s.URL+"/v1/workspaces", map[string]any{"name": "x", "owner": map[string]any{"email": w.s.OwnerEmail}})
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	expect(t, "the operator's token sets the Acme owner's password", w.accept(t, acctClient(w.v), acctStr(created.body, "invite_token"), "Operator-Chosen-Pass-77"), 409, "conflict")
	expect(t, "the operator's password logs in", send(t, acctClient(w.v), "POST", w.s.URL+"/v1/auth/login",
		map[string]string{"email": w.s.OwnerEmail, "password": "Operator-Chosen-Pass-77"}), 401, "unauthenticated")
	acctLogin(t, w.v, w.s.URL, w.s.OwnerEmail, w.s.OwnerPassword)
}

func TestAttackPreRegistrationHijack(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t)
	// Evil pre-registers bob@acme.example with a password it chooses.
	pre := acctAddMember(t, w.evil, w.evilURL, map[string]any{"email": "bob@acme.example"})
	expect(t, "Evil sets bob's password at adding", send(t, w.evil, "POST", w.evilURL+"/members", map[string]any{"email": "bob2@acme.example", "password": acctPassword}), 400, "invalid_request")
	attacker := acctClient(w.v)
	w.accept(t, attacker, acctStr(pre.body, "invite_token"), "Mallory-Chosen-Pass-99")
	expect(t, "Evil removes bob", send(t, w.evil, "DELETE", w.evilURL+"/members/"+acctStr(pre.body, "member", "user_id"), nil), 204, "")
	// Acme adds bob as admin: an invitation, not the attacker's account.
	added := acctAddMember(t, w.acme, w.acmeURL, map[string]any{"email": "bob@acme.example", "role": "admin"})
	if acctStr(added.body, "member", "invited") != "" || acctObj(added.body["member"])["invited"] != true {
		t.Errorf("Acme's bob is not pending: %s", added.raw)
	}
	// The pre-registered account belongs to no workspace now: it cannot
	// log in, and it reaches nothing of Acme's.
	hijacker := acctClient(w.v)
	expect(t, "the hijacker logs in", send(t, hijacker, "POST", w.s.URL+"/v1/auth/login",
		map[string]string{"email": "bob@acme.example", "password": "Mallory-Chosen-Pass-99"}), 403, "forbidden")
	expect(t, "the hijacker reads Acme's keys", send(t, hijacker, "GET", w.acmeURL+"/keys", nil), 401, "unauthenticated")
	if got := send(t, w.acme, "GET", w.acmeURL+"/members", nil); !strings.Contains(string(got.raw), acctStr(added.body, "member", "user_id")) {
		t.Errorf("Acme's invitation of bob is gone: %s", got.raw)
	}
}

func TestAttackScimLinksAnotherWorkspacesOwner(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t)
	acmeOwner := acctLogin(t, w.v, w.s.URL, w.s.OwnerEmail, w.s.OwnerPassword)
	_, scimKey := acctCreateKey(t, w.evil, w.evilURL, map[string]any{"name": "okta", "type": "scim"})
	status, body := scimCall(t, w.s.Main, scimKey, "POST", "/Users", `{"userName":"`+w.s.OwnerEmail+`","active":true}`)
	if status != 201 {
		t.Fatalf("SCIM create: %d %v", status, body)
	}
	id, _ := body["id"].(string)
	if id == w.s.OwnerID {
		t.Fatalf("Evil's SCIM linked Acme's owner")
	}
	if status, _ := scimCall(t, w.s.Main, scimKey, "PATCH", "/Users/"+id, `{"Operations":[{"op":"replace","value":{"active":false}}]}`); status != 200 {
		t.Fatalf("SCIM deactivate: %d", status)
	}
	if status, _ := scimCall(t, w.s.Main, scimKey, "DELETE", "/Users/"+id, ""); status != 204 {
		t.Fatalf("SCIM delete: %d", status)
	}
	// The victim's session, workspaces and log are untouched.
	if roles := acctMe(t, acmeOwner, w.s.URL); len(roles) != 1 || roles[w.s.WorkspaceID] != "owner" {
		t.Errorf("Acme's owner now sees %v", roles)
	}
	for _, e := range acctEvents(t, w.acme, w.acmeURL, "member.") {
		t.Errorf("Acme's log records a membership change it did not make: %v", e)
	}
}

func TestAttackCrossTenantSessionTermination(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t)
	acctAddMember(t, w.acme, w.acmeURL, map[string]any{"email": "dave@acme.example", "password": acctPassword})
	dave := acctLogin(t, w.v, w.s.URL, "dave@acme.example", acctPassword)
	grab := acctAddMember(t, w.evil, w.evilURL, map[string]any{"email": "dave@acme.example"})
	expect(t, "Evil removes its dave", send(t, w.evil, "DELETE", w.evilURL+"/members/"+acctStr(grab.body, "member", "user_id"), nil), 204, "")
	expect(t, "Dave's Acme session", send(t, dave, "GET", w.acmeURL+"/keys", nil), 200, "")
	if roles := acctMe(t, dave, w.s.URL); len(roles) != 1 {
		t.Errorf("Dave sees %v: a workspace he never joined", roles)
	}
}

func TestAttackEnumerationThroughAdding(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t)
	existing := send(t, w.evil, "POST", w.evilURL+"/members", map[string]any{"email": w.s.OwnerEmail})
	unknown := send(t, w.evil, "POST", w.evilURL+"/members", map[string]any{"email": "nobody-at-all@acme.example"})
	operator := send(t, w.evil, "POST", w.evilURL+"/members", map[string]any{"email": "support@vendor.example"})
	shape := func(e exchange) string {
		m := acctObj(e.body["member"])
		return strings.Join([]string{http.StatusText(e.status), acctStr(m, "role"), strings.Repeat("x", len(acctStr(e.body, "invite_token"))),
			func() string {
				if m["invited"] == true {
					return "invited"
				}
				return "joined"
			}()}, "|")
	}
	if shape(existing) != shape(unknown) || shape(operator) != shape(unknown) {
		t.Errorf("answers differ: existing %s, unknown %s, operator %s", existing.raw, unknown.raw, operator.raw)
	}
	if strings.Contains(string(existing.raw), w.s.OwnerID) {
		t.Errorf("the answer reveals the Acme owner's id: %s", existing.raw)
	}
}

func TestAttackRoleChangeRaceAgainstOwnerPromotion(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t)
	for round := range 5 {
		sa := acctAddMember(t, w.acme, w.acmeURL, map[string]any{"email": "sa" + string(rune('a'+round)) + "@acme.example", "role": "super_admin", "password": acctPassword})
		target := acctStr(acctAddMember(t, w.acme, w.acmeURL, map[string]any{"email": "t" + string(rune('a'+round)) + "@acme.example", "role": "super_admin", "password": acctPassword}).body, "member", "user_id")
		saC := acctLogin(t, w.v, w.s.URL, acctStr(sa.body, "member", "email"), acctPassword)
		var wg sync.WaitGroup
		wg.Add(2)
		go func() {
			defer wg.Done()
			send(t, w.acme, "PATCH", w.acmeURL+"/members/"+target, map[string]string{"role": "owner"})
		}()
		go func() {
			defer wg.Done()
			send(t, saC, "PATCH", w.acmeURL+"/members/"+target, map[string]string{"role": "member"})
		}()
		wg.Wait()
		// Either order is fine, but a super admin must never have demoted an owner.
		for _, e := range acctEvents(t, w.acme, w.acmeURL, "member.updated") {
			d := acctObj(e["data"])
			if acctStr(e, "target") == target && d["from"] == "owner" && acctStr(e, "actor", "label") == acctStr(sa.body, "member", "email") {
				t.Fatalf("round %d: a super admin demoted an owner: %v", round, e)
			}
		}
	}
}

func TestAttackRemovedMembersKeysComeBack(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t)
	acctAddMember(t, w.acme, w.acmeURL, map[string]any{"email": "rita@acme.example", "role": "admin", "password": acctPassword})
	rita := acctLogin(t, w.v, w.s.URL, "rita@acme.example", acctPassword)
	_, personal := acctCreateKey(t, rita, w.acmeURL, map[string]any{"name": "mine", "owner": "me"})
	_, mgmt := acctCreateKey(t, rita, w.acmeURL, map[string]any{"name": "automation", "type": "management", "scopes": []string{"keys:read"}})
	members := send(t, w.acme, "GET", w.acmeURL+"/members", nil)
	var ritaID string
	for _, m := range members.body["data"].([]any) {
		if acctStr(m, "email") == "rita@acme.example" {
			ritaID = acctStr(m, "user_id")
		}
	}
	expect(t, "remove rita", send(t, w.acme, "DELETE", w.acmeURL+"/members/"+ritaID, nil), 204, "")
	// Re-added and accepted with her own account, she is back; her old keys are not.
	back := acctAddMember(t, w.acme, w.acmeURL, map[string]any{"email": "rita@acme.example", "role": "admin"})
	if got := w.accept(t, rita, acctStr(back.body, "invite_token"), ""); got.status != 200 {
		t.Fatalf("rita accepts: %d %s", got.status, got.raw)
	}
	if st, code := acctVerify(t, w.s.URL, personal); st != 401 || code != "key_revoked" {
		t.Errorf("the removed member's personal key after re-admission: %d %q, want 401 key_revoked", st, code)
	}
	expect(t, "the removed member's management key after re-admission", send(t, acctClient(w.v), "GET", w.acmeURL+"/keys", nil, "Authorization: Bearer "+mgmt), 401, "unauthenticated")
	// A fresh instance on the same store, as after a restart, says the
	// same: the store, not a cache, holds the revocation.
	fresh := serveDataDir(t, w.s).URL()
	if st, code := acctVerify(t, fresh, personal); st != 401 || code != "key_revoked" {
		t.Errorf("on a fresh instance: %d %q, want 401 key_revoked", st, code)
	}
}

func TestAttackAcceptInviteWithoutTokenHashes(t *testing.T) {
	t.Parallel()
	w := newAttackWorld(t)
	// Bogus tokens are refused before any password is hashed: many at once
	// answer 404 quickly and leave nothing behind.
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			got := w.accept(t, acctClient(w.v), strings.Repeat(string(rune('A'+i%26)), 43), acctPassword)
			if got.status != 404 {
				t.Errorf("bogus token %d: %d %s", i, got.status, got.raw)
			}
		}()
	}
	wg.Wait()
	// Parallel requests make the shared transport dial spare connections
	// that never carry a request; close them so that the server's shutdown
	// does not wait out its grace for them.
	http.DefaultTransport.(*http.Transport).CloseIdleConnections()
}
