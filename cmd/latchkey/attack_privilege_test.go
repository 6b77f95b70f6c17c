package main

import (
	"context"
	"net/http"
	"slices"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/api/apitest"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/password"
)

// End-to-end attacks on key privilege (issue 9, items 3, 4 and 18): no
// principal can create, widen or obtain a secret more powerful than itself.
// Each asserts that the attacker gains nothing and the victim loses nothing.

// privWorld is one server with an owner and, added straight into the
// store (so these tests do not depend on how people are invited), an admin
// and a member, each logged in with an OpenAPI-validated client.
type privWorld struct {
	s                  *testServer
	v                  *apitest.Validator
	wsURL              string
	owner, admin, meg  *http.Client
	adminID, megUserID string
}

func newPrivWorld(t *testing.T) *privWorld {
	t.Helper()
	s := startServer(t)
	v := apitest.New(t)
	w := &privWorld{s: s, v: v, wsURL: s.URL + "/v1/workspaces/" + s.WorkspaceID}
	w.owner = acctLogin(t, v, s.URL, s.OwnerEmail, s.OwnerPassword)
	w.adminID = w.join(t, "ada@example.com", latchkey.RoleAdmin)
	w.megUserID = w.join(t, "meg@example.com", latchkey.RoleMember)
	w.admin = acctLogin(t, v, s.URL, "ada@example.com", acctPassword)
	w.meg = acctLogin(t, v, s.URL, "meg@example.com", acctPassword)
	return w
}

// join makes a user with acctPassword an active member with role r.
func (w *privWorld) join(t *testing.T, email string, r latchkey.Role) string {
	t.Helper()
	ctx := context.Background()
	hash, err := password.Hash(acctPassword)
	if err != nil {
		t.Fatal(err)
	}
	ids := id.NewGenerator(nil, nil)
	st := w.s.Main.store
	u := &latchkey.User{ID: ids.New(id.User), Email: email, PasswordHash: hash, CreatedAt: w.s.Main.service.Now()}
	if err := st.CreateUser(ctx, u, nil); err != nil {
		t.Fatal(err)
	}
	ev := latchkey.Event{ID: ids.New(id.Event), WorkspaceID: w.s.WorkspaceID, At: u.CreatedAt,
		Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventMemberAdded, Target: u.ID}
	m := &latchkey.Member{WorkspaceID: w.s.WorkspaceID, UserID: u.ID, Role: r, Active: true, CreatedAt: u.CreatedAt}
	if err := st.AddMember(ctx, m, ev); err != nil {
		t.Fatal(err)
	}
	return u.ID
}

// key reads a key as the owner.
func (w *privWorld) key(t *testing.T, keyID string) map[string]any {
	t.Helper()
	got := send(t, w.owner, "GET", w.wsURL+"/keys/"+keyID, nil)
	if got.status != 200 {
		t.Fatalf("reading %s: %d %s", keyID, got.status, got.raw)
	}
	if k := acctObj(got.body["key"]); k != nil {
		return k
	}
	return got.body
}

func scopesOf(k map[string]any) []string {
	var out []string
	list, _ := k["scopes"].([]any)
	for _, s := range list {
		out = append(out, s.(string))
	}
	return out
}

// eventsOn lists the actions recorded on target.
func (w *privWorld) eventsOn(t *testing.T, target string) []string {
	t.Helper()
	got := send(t, w.owner, "GET", w.wsURL+"/events?limit=200&target="+target, nil)
	if got.status != 200 {
		t.Fatalf("events: %d %s", got.status, got.raw)
	}
	var out []string
	for _, e := range got.body["data"].([]any) {
		out = append(out, acctStr(e, "action"))
	}
	return out
}

// TestAttackAdminWidensOwnersKeyThenResets is item 3: an admin widens the
// owner's keys:read management key to members:write and resets it to take
// a secret acting with the owner's role.
func TestAttackAdminWidensOwnersKeyThenResets(t *testing.T) {
	w := newPrivWorld(t)
	keyID, secret := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "reporting", "type": "management", "scopes": []string{"keys:read"}})
	ownerBearer := "Authorization: Bearer " + secret

	for _, scopes := range [][]string{{"members:write"}, {"keys:read", "members:write"}, {"keys:read", "events:read"}} {
		expect(t, "the admin widens the owner's key", send(t, w.admin, "PATCH", w.wsURL+"/keys/"+keyID, map[string]any{"scopes": scopes}), 403, "forbidden")
	}
	expect(t, "the admin resets the owner's key", send(t, w.admin, "POST", w.wsURL+"/keys/"+keyID+"/reset", map[string]any{}), 403, "forbidden")
	expect(t, "the admin resets it with a grace period", send(t, w.admin, "POST", w.wsURL+"/keys/"+keyID+"/reset", map[string]any{"grace_period": "1d"}), 403, "forbidden")

	// The attacker gains nothing: no secret, no new scope, still an admin.
	expect(t, "the admin promotes herself", send(t, w.admin, "PATCH", w.wsURL+"/members/"+w.adminID, map[string]any{"role": "super_admin"}), 403, "forbidden")
	if got := scopesOf(w.key(t, keyID)); !slices.Equal(got, []string{"keys:read"}) {
		t.Errorf("the owner's key's scopes: got %v, want [keys:read]", got)
	}
	// The victim loses nothing: the key still works with its one secret.
	expect(t, "the owner's key still reads keys", send(t, acctClient(w.v), "GET", w.wsURL+"/keys", nil, ownerBearer), 200, "")
	expect(t, "and still cannot write members", send(t, acctClient(w.v), "POST", w.wsURL+"/members", map[string]any{"email": "x@example.com"}, ownerBearer), 403, "forbidden")
	if evs := w.eventsOn(t, keyID); !slices.Equal(evs, []string{latchkey.EventKeyCreated}) {
		t.Errorf("events on the owner's key: got %v, want only its creation", evs)
	}
	// A management key is no API key of the product.
	if status, code := acctVerify(t, w.s.URL, secret); status != 403 || code != "wrong_type" {
		t.Errorf("the management key at /v1/keys/verify: got %d %q, want 403 wrong_type", status, code)
	}

	// What stays allowed: the admin narrows or renames it, the owner resets it.
	expect(t, "the admin renames it", send(t, w.admin, "PATCH", w.wsURL+"/keys/"+keyID, map[string]any{"name": "reporting (ro)"}), 200, "")
	expect(t, "the owner widens it", send(t, w.owner, "PATCH", w.wsURL+"/keys/"+keyID, map[string]any{"scopes": []string{"keys:read", "members:read"}}), 200, "")
	expect(t, "the owner resets it", send(t, w.owner, "POST", w.wsURL+"/keys/"+keyID+"/reset", map[string]any{}), 200, "")
}

// TestAttackManagementKeyWidensItself is item 4: a keys:read keys:write
// management key creates a management key with members:write, or widens
// itself, to add an admin of its own.
func TestAttackManagementKeyWidensItself(t *testing.T) {
	w := newPrivWorld(t)
	keyID, secret := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "deployer", "type": "management", "scopes": []string{"keys:read", "keys:write"}})
	bearer := "Authorization: Bearer " + secret
	hc := acctClient(w.v)
	members := func() int {
		got := send(t, w.owner, "GET", w.wsURL+"/members", nil)
		return len(got.body["data"].([]any))
	}
	before := members()

	for _, scopes := range [][]string{{"members:write"}, {"keys:read", "keys:write", "members:read"}, {"vaults:read"}} {
		expect(t, "the key creates a wider management key", send(t, hc, "POST", w.wsURL+"/keys", map[string]any{"name": "wider", "type": "management", "scopes": scopes}, bearer), 403, "forbidden")
	}
	expect(t, "the key widens itself", send(t, hc, "PATCH", w.wsURL+"/keys/"+keyID, map[string]any{"scopes": []string{"keys:read", "keys:write", "members:write"}}, bearer), 403, "forbidden")
	expect(t, "the key creates a SCIM key", send(t, hc, "POST", w.wsURL+"/keys", map[string]any{"name": "idp", "type": "scim"}, bearer), 403, "forbidden")
	expect(t, "the key adds a member", send(t, hc, "POST", w.wsURL+"/members", map[string]any{"email": "mallory@example.com", "role": "admin"}, bearer), 403, "forbidden")

	// The attacker gains nothing.
	if got := members(); got != before {
		t.Errorf("members: got %d, want %d", got, before)
	}
	list := send(t, w.owner, "GET", w.wsURL+"/keys?type=management", nil)
	for _, k := range list.body["data"].([]any) {
		if slices.Contains(scopesOf(acctObj(k)), "members:write") {
			t.Errorf("a management key with members:write exists: %v", k)
		}
	}
	// The victim loses nothing; a narrower key is still the key's to make.
	if got := scopesOf(w.key(t, keyID)); !slices.Equal(got, []string{"keys:read", "keys:write"}) {
		t.Errorf("the key's scopes: got %v, want [keys:read keys:write]", got)
	}
	expect(t, "the key creates a narrower management key", send(t, hc, "POST", w.wsURL+"/keys", map[string]any{"name": "ro", "type": "management", "scopes": []string{"keys:read"}}, bearer), 201, "")
	expect(t, "the key creates a product key", send(t, hc, "POST", w.wsURL+"/keys", map[string]any{"name": "api", "scopes": []string{"items:read"}}, bearer), 201, "")
}

// TestAttackMemberUndoesAdminsNarrowing is item 18: where members may not
// create personal keys, a member re-widens the key an admin narrowed,
// removes its rate limit, and resets it with a grace period to hold two
// live secrets.
func TestAttackMemberUndoesAdminsNarrowing(t *testing.T) {
	w := newPrivWorld(t)
	keyID, secret := acctCreateKey(t, w.meg, w.wsURL, map[string]any{"name": "mine", "owner": "me", "scopes": []string{"items:read", "secrets:read"}})
	keyURL := w.wsURL + "/keys/" + keyID
	narrowed := map[string]any{"scopes": []string{"items:read"}, "rate_limit": map[string]any{"limit": 10, "period": "1m"}}
	expect(t, "the admin narrows the member's key", send(t, w.admin, "PATCH", keyURL, narrowed), 200, "")
	expect(t, "the owner turns personal keys off", send(t, w.owner, "PATCH", w.wsURL+"/settings", map[string]any{"members_may_create_personal_keys": false}), 200, "")

	expect(t, "the member re-widens the scopes", send(t, w.meg, "PATCH", keyURL, map[string]any{"scopes": []string{"items:read", "secrets:read"}}), 403, "forbidden")
	expect(t, "the member removes the rate limit", send(t, w.meg, "PATCH", keyURL, map[string]any{"rate_limit": nil}), 403, "forbidden")
	expect(t, "the member loosens the rate limit", send(t, w.meg, "PATCH", keyURL, map[string]any{"rate_limit": map[string]any{"limit": 1000, "period": "1s"}}), 403, "forbidden")
	expect(t, "the member resets with a grace period", send(t, w.meg, "POST", keyURL+"/reset", map[string]any{"grace_period": "7d"}), 403, "forbidden")
	expect(t, "the member makes a new key instead", send(t, w.meg, "POST", w.wsURL+"/keys", map[string]any{"name": "another", "owner": "me", "scopes": []string{"secrets:read"}}), 403, "forbidden")

	// The attacker gains nothing: the narrowing holds, one secret verifies.
	k := w.key(t, keyID)
	if got := scopesOf(k); !slices.Equal(got, []string{"items:read"}) {
		t.Errorf("scopes: got %v, want [items:read]", got)
	}
	if rl := acctObj(k["rate_limit"]); rl == nil || rl["limit"] != 10.0 || rl["period"] != "1m" {
		t.Errorf("rate limit: got %v, want 10 per 1m", k["rate_limit"])
	}
	got := send(t, acctClient(w.v), "POST", w.s.URL+"/v1/keys/verify", map[string]any{"key": secret, "scopes": []string{"secrets:read"}})
	expect(t, "the old secret for secrets:read", got, 403, "insufficient_scope")

	// The victim (the admin's decision) loses nothing, and the member keeps
	// what is theirs: narrowing further and replacing the secret outright.
	expect(t, "the member narrows further", send(t, w.meg, "PATCH", keyURL, map[string]any{"rate_limit": map[string]any{"limit": 5, "period": "1h"}}), 200, "")
	reset := send(t, w.meg, "POST", keyURL+"/reset", map[string]any{})
	expect(t, "the member resets without grace", reset, 200, "")
	if status, code := acctVerify(t, w.s.URL, secret); status != 401 || code != "key_revoked" && code != "key_invalid" {
		t.Errorf("the replaced secret: got %d %q, want 401 key_invalid", status, code)
	}
	if status, _ := acctVerify(t, w.s.URL, acctStr(reset.body, "secret")); status != 200 {
		t.Errorf("the new secret: got %d, want 200", status)
	}
}

// TestAttackAdminTakesSCIMKey: a SCIM key deprovisions any member, owners
// included, so an admin may neither create one nor reset the owner's.
func TestAttackAdminTakesSCIMKey(t *testing.T) {
	w := newPrivWorld(t)
	keyID, secret := acctCreateKey(t, w.owner, w.wsURL, map[string]any{"name": "okta", "type": "scim"})
	expect(t, "the admin creates a SCIM key", send(t, w.admin, "POST", w.wsURL+"/keys", map[string]any{"name": "mine", "type": "scim"}), 403, "forbidden")
	expect(t, "the admin resets the owner's SCIM key", send(t, w.admin, "POST", w.wsURL+"/keys/"+keyID+"/reset", map[string]any{}), 403, "forbidden")
	expect(t, "the admin changes its contact", send(t, w.admin, "PATCH", w.wsURL+"/keys/"+keyID, map[string]any{"settings": map[string]any{"contact_email": "ada@example.com"}}), 403, "forbidden")
	// The owner's SCIM key keeps working, and is no API key of the product.
	got := send(t, &http.Client{}, "GET", w.s.URL+"/scim/v2/Users", nil, "Authorization: Bearer "+secret)
	if got.status != 200 {
		t.Errorf("the owner's SCIM key: got %d, want 200", got.status)
	}
	if status, code := acctVerify(t, w.s.URL, secret); status != 403 || code != "wrong_type" {
		t.Errorf("the SCIM key at /v1/keys/verify: got %d %q, want 403 wrong_type", status, code)
	}
	if evs := w.eventsOn(t, keyID); !slices.Equal(evs, []string{latchkey.EventKeyCreated}) {
		t.Errorf("events on the SCIM key: got %v, want only its creation", evs)
	}
}
