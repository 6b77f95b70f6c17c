package main

import (
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/client"
)

// TestPlatformProvisionsAWorkspaceOnceAndSyncsItsPeople: a retried signup
// (the same external_id twice) makes one workspace; the product finds it
// by external_id and syncs its people by its own user ids.
func TestPlatformProvisionsAWorkspaceOnceAndSyncsItsPeople(t *testing.T) {
	t.Parallel()
	w := newPlatformWorld(t, nil)
	first := w.as(t, "full", "POST", "/v1/workspaces", map[string]string{"name": "Globex", "external_id": "cust-42"})
	again := w.as(t, "full", "POST", "/v1/workspaces", map[string]string{"name": "Globex (retry)", "external_id": "cust-42"})
	if first.status != 201 || again.status != 200 || acctStr(first.body, "workspace", "id") != acctStr(again.body, "workspace", "id") {
		t.Fatalf("provisioning twice: got %d %s then %d %s, want 201 then 200 with the same workspace", first.status, first.raw, again.status, again.raw)
	}
	ws := acctStr(first.body, "workspace", "id")
	found := w.as(t, "full", "GET", "/v1/workspaces?external_id=cust-42", nil)
	if found.status != 200 || !strings.Contains(string(found.raw), ws) || strings.Contains(string(found.raw), w.s.WorkspaceID) {
		t.Fatalf("GET ?external_id=cust-42: %d %s, want only %s", found.status, found.raw, ws)
	}
	all := w.as(t, "full", "GET", "/v1/workspaces", nil)
	if strings.Contains(string(all.raw), w.s.WorkspaceID) {
		t.Fatalf("the product's list shows the operator's workspace: %s", all.raw)
	}

	path := "/v1/workspaces/" + ws + "/members/by-external-id/"
	ann := w.as(t, "full", "PUT", path+"u-1", map[string]string{"email": "ann@globex.example", "name": "Ann", "role": "admin"})
	if ann.status != 200 || acctStr(ann.body, "role") != "admin" {
		t.Fatalf("syncing ann: %d %s", ann.status, ann.raw)
	}
	again = w.as(t, "full", "PUT", path+"u-1", map[string]string{"email": "ann.lee@globex.example", "role": "member"})
	if again.status != 200 || acctStr(again.body, "user_id") != acctStr(ann.body, "user_id") || acctStr(again.body, "role") != "member" {
		t.Fatalf("re-syncing ann: %d %s, want the same identity as member", again.status, again.raw)
	}
	for _, bad := range []struct{ ext, body string }{
		{"u-2", `{"email":"not an email"}`},
		{"u-2", `{"email":"b@globex.example","role":"emperor"}`},
		{"u%20space", `{"email":"b@globex.example"}`},
		{"u-2", `{"email":"b@globex.example","extra":1}`},
	} {
		got := w.as(t, "full", "PUT", path+bad.ext, bad.body)
		if got.status != 400 {
			t.Errorf("PUT %s %s: got %d %s, want 400", bad.ext, bad.body, got.status, got.raw)
		}
	}
	if got := w.as(t, "full", "DELETE", path+"u-1", nil); got.status != 204 {
		t.Fatalf("removing ann: %d %s", got.status, got.raw)
	}
	if got := w.as(t, "full", "DELETE", path+"u-1", nil); got.status != 404 {
		t.Fatalf("removing ann again: %d %s, want 404", got.status, got.raw)
	}
	for _, bad := range []string{`{"name":"x"}`, `{"name":"x","external_id":""}`, `{"name":"","external_id":"c"}`, `not json`, `{"name":"x","external_id":"a/b"}`} {
		if got := w.as(t, "full", "POST", "/v1/workspaces", bad); got.status != 400 {
			t.Errorf("POST /v1/workspaces %s: got %d, want 400", bad, got.status)
		}
	}
}

// TestAttackPlatformKeyBeyondItsScopesProductAndRole: a platform key reads
// no key and no event, acts only with its scopes, only in its product's
// workspaces and gives no role above its max_role; the victim workspace
// keeps everything.
func TestAttackPlatformKeyBeyondItsScopesProductAndRole(t *testing.T) {
	t.Parallel()
	w := newPlatformWorld(t, nil)
	ws := w.provision(t, "Globex", "cust-1")
	acme := "/v1/workspaces/" + w.s.WorkspaceID
	mine := "/v1/workspaces/" + ws
	cases := []struct {
		name, key, method, path string
		body                    any
		status                  int
	}{
		{"read its own workspace's keys", "full", "GET", mine + "/keys", nil, 403},
		{"read its own workspace's events", "full", "GET", mine + "/events", nil, 403},
		{"export its own workspace's events", "full", "GET", mine + "/events/export", nil, 403},
		{"read the operator's workspace's events", "full", "GET", acme + "/events", nil, 403},
		{"create a key in its workspace", "full", "POST", mine + "/keys", map[string]any{"name": "x", "type": "management", "scopes": []string{"keys:read"}}, 403},
		{"invite by email through the people's endpoint", "full", "POST", mine + "/members", map[string]any{"email": "x@y.example"}, 403},
		{"change settings", "full", "PATCH", mine + "/settings", map[string]any{"members_may_create_personal_keys": false}, 403},
		{"sync a member into the operator's workspace", "full", "PUT", acme + "/members/by-external-id/u-1", map[string]string{"email": "x@acme.example"}, 404},
		{"portal into the operator's workspace", "full", "POST", "/v1/portal/sessions", map[string]any{"workspace_id": w.s.WorkspaceID, "user": map[string]string{"external_id": "u-1", "email": "x@acme.example"}}, 404},
		{"another product syncs into this product's workspace", "other", "PUT", mine + "/members/by-external-id/u-9", map[string]string{"email": "x@globex.example", "role": "owner"}, 404},
		{"another product portals into it", "other", "POST", "/v1/portal/sessions", map[string]any{"workspace_id": ws, "user": map[string]string{"external_id": "u-9", "email": "x@globex.example", "role": "owner"}}, 404},
		{"provision without workspaces:write", "portal", "POST", "/v1/workspaces", map[string]string{"name": "x", "external_id": "c-2"}, 403},
		{"list without workspaces:read", "portal", "GET", "/v1/workspaces", nil, 403},
		{"sync without members:write", "portal", "PUT", mine + "/members/by-external-id/u-1", map[string]string{"email": "x@globex.example"}, 403},
		{"assert owner above max_role admin (sync)", "full", "PUT", mine + "/members/by-external-id/u-1", map[string]string{"email": "x@globex.example", "role": "owner"}, 403},
		{"assert super_admin above max_role admin (portal)", "full", "POST", "/v1/portal/sessions", map[string]any{"workspace_id": ws, "user": map[string]string{"external_id": "u-1", "email": "x@globex.example", "role": "super_admin"}}, 403},
		{"manage platform keys", "full", "POST", "/v1/platform-keys", map[string]any{"name": "mine", "scopes": []string{"portal:write"}}, 403},
		{"list platform keys", "full", "GET", "/v1/platform-keys", nil, 403},
		{"operator's workspace creation shape", "full", "POST", "/v1/workspaces", map[string]any{"name": "x", "owner": map[string]string{"email": "o@x.example"}}, 400},
	}
	for _, c := range cases {
		got := w.as(t, c.key, c.method, c.path, c.body)
		if got.status != c.status {
			t.Errorf("%s: got %d %s, want %d", c.name, got.status, got.raw, c.status)
		}
	}
	// The victim lost nothing: Acme's owner still alone there, Globex has no member.
	owner := acctLogin(t, w.v, w.s.URL, w.s.OwnerEmail, w.s.OwnerPassword)
	if got := send(t, owner, "GET", w.s.URL+acme+"/members", nil); got.status != 200 || strings.Count(string(got.raw), `"user_id"`) != 1 {
		t.Fatalf("Acme's members after the attacks: %d %s", got.status, got.raw)
	}
	if got := w.as(t, "full", "GET", "/v1/workspaces?external_id=cust-1", nil); !strings.Contains(string(got.raw), ws) {
		t.Fatalf("the product lost its workspace: %s", got.raw)
	}
	// A management key cannot reach the platform endpoints either.
	mk := w.s.managementKeyFor(t, owner, "keys:read")
	if got := send(t, w.v.Client(nil), "POST", w.s.URL+"/v1/workspaces", map[string]string{"name": "x", "external_id": "c-9"}, "Authorization: Bearer "+mk); got.status != 400 && got.status != 403 {
		t.Errorf("a management key provisioning: got %d %s, want a refusal", got.status, got.raw)
	}
}

// managementKeyFor creates a management key with the owner's session hc.
func (s *testServer) managementKeyFor(t *testing.T, hc *http.Client, scopes ...string) string {
	t.Helper()
	got := send(t, hc, "POST", s.URL+"/v1/workspaces/"+s.WorkspaceID+"/keys", map[string]any{"name": "ci", "type": "management", "scopes": scopes})
	if got.status != 201 {
		t.Fatalf("creating a management key: %d %s", got.status, got.raw)
	}
	return acctStr(got.body, "secret")
}

// TestRevokedPlatformKeyIsRefusedAtOnce: an operator revokes a platform
// key over the API; its very next call is refused, and garbage in its
// place is refused the same way.
func TestRevokedPlatformKeyIsRefusedAtOnce(t *testing.T) {
	t.Parallel()
	w := newPlatformWorld(t, nil)
	acctOperator(t, w.s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, w.v, w.s.URL, "support@vendor.example", acctPassword)
	list := send(t, op, "GET", w.s.URL+"/v1/platform-keys", nil)
	if list.status != 200 || strings.Contains(string(list.raw), w.keys["full"]) || !strings.Contains(string(list.raw), w.ids["full"]) {
		t.Fatalf("listing platform keys: %d %s (it must never show a secret)", list.status, list.raw)
	}
	if got := w.as(t, "full", "GET", "/v1/workspaces", nil); got.status != 200 {
		t.Fatalf("before revocation: %d", got.status)
	}
	if got := send(t, op, "POST", w.s.URL+"/v1/platform-keys/"+w.ids["full"]+"/revoke", nil); got.status != 200 || acctStr(got.body, "revoked_at") == "" {
		t.Fatalf("revoking: %d %s", got.status, got.raw)
	}
	if got := w.as(t, "full", "GET", "/v1/workspaces", nil); got.status != 401 {
		t.Fatalf("after revocation: got %d %s, want 401", got.status, got.raw)
	}
	forged := w.keys["portal"][:len(w.keys["portal"])-1] + "x"
	w.keys["forged"] = forged
	if got := w.as(t, "forged", "GET", "/v1/workspaces", nil); got.status != 401 {
		t.Fatalf("a forged platform secret: got %d, want 401", got.status)
	}
	// The platform log records who created and revoked it.
	if got := send(t, op, "POST", w.s.URL+"/v1/platform-keys", map[string]any{"name": "new", "scopes": []string{"unknown:scope"}}); got.status != 400 {
		t.Fatalf("an unknown scope: got %d, want 400", got.status)
	}
	created := send(t, op, "POST", w.s.URL+"/v1/platform-keys", map[string]any{"name": "rotated", "product": "acme-cloud", "scopes": []string{"workspaces:read"}})
	if created.status != 201 || !strings.HasPrefix(acctStr(created.body, "secret"), "lk_platform_") {
		t.Fatalf("an operator creating a platform key: %d %s", created.status, created.raw)
	}
	w.keys["rotated"] = acctStr(created.body, "secret")
	if got := w.as(t, "rotated", "GET", "/v1/workspaces", nil); got.status != 200 {
		t.Fatalf("the new key: %d %s", got.status, got.raw)
	}
}

// TestPortalSessionSignsInOnceIntoOneWorkspace walks the portal link: it
// signs in once, expires after 5 minutes, binds the session to its
// workspace with the asserted role, refuses return URLs off the
// product's origins, and ends when the product removes the person.
func TestPortalSessionSignsInOnceIntoOneWorkspace(t *testing.T) {
	t.Parallel()
	w := newPlatformWorld(t, nil)
	ws := w.provision(t, "Globex", "cust-1")
	other := w.provision(t, "Initech", "cust-2")
	bob := map[string]string{"external_id": "u-7", "email": "bob@globex.example", "name": "Bob", "role": "member"}

	for _, bad := range []string{"https://evil.example/back", "javascript:alert(1)", "https://app.acme-cloud.example.evil.example/", "//evil.example", "http://app.acme-cloud.example/"} {
		if got := w.portalURL(t, "full", ws, bob, bad); got.status != 400 {
			t.Errorf("return_url %q: got %d %s, want 400", bad, got.status, got.raw)
		}
	}
	for _, bad := range []string{`{}`, `{"workspace_id":"` + ws + `"}`, `{"workspace_id":"` + ws + `","user":{"external_id":"u-7"}}`,
		`{"workspace_id":"` + ws + `","user":{"external_id":"u-7","email":"b@globex.example","role":"god"}}`,
		`{"workspace_id":"` + ws + `","user":{"external_id":"` + strings.Repeat("x", 300) + `","email":"b@globex.example"}}`,
		`{"workspace_id":"` + ws + `","user":{"external_id":"u-7","email":"b@globex.example","name":"a` + "\u202e" + `b"}}`,
		`{"workspace_id":7}`, `[]`} {
		if got := w.as(t, "full", "POST", "/v1/portal/sessions", bad); got.status != 400 {
			t.Errorf("POST /v1/portal/sessions %s: got %d %s, want 400", bad, got.status, got.raw)
		}
	}
	link := w.portalURL(t, "full", ws, bob, productOrigin+"/settings/api")
	if link.status != 201 {
		t.Fatalf("creating a portal session: %d %s", link.status, link.raw)
	}
	url := acctStr(link.body, "url")
	hc := browser(t)
	status, loc, _ := open(t, hc, url)
	if status != http.StatusSeeOther || loc != "/w/"+ws+"/keys" {
		t.Fatalf("opening the portal URL: %d to %q, want 303 to the workspace's keys", status, loc)
	}
	status, _, page := open(t, hc, w.s.URL+loc)
	if status != 200 || !strings.Contains(page, `href="`+productOrigin+`/settings/api"`) || !strings.Contains(page, "Back to Acme Cloud") {
		t.Fatalf("the keys page after the portal: %d, want the Back to Acme Cloud link:\n%s", status, page)
	}
	// Used once.
	if status, _, _ := open(t, browser(t), url); status != 404 {
		t.Fatalf("the portal URL a second time: got %d, want 404", status)
	}
	// Bound to its workspace: another one of the same product is not found.
	for _, p := range []string{"/w/" + other + "/keys", "/w/" + w.s.WorkspaceID + "/keys", "/w/" + w.s.WorkspaceID + "/members"} {
		if status, _, _ := open(t, hc, w.s.URL+p); status != 404 {
			t.Errorf("the portal session on %s: got %d, want 404", p, status)
		}
	}
	// The asserted role (member) bounds the session: no members page, no
	// activity, no workspace key; a personal key is what a member may make.
	for _, p := range []string{"/w/" + ws + "/members", "/w/" + ws + "/outbox", "/w/" + ws + "/activity"} {
		if status, _, _ := open(t, hc, w.s.URL+p); status == 200 {
			t.Errorf("a member's portal session opened %s", p)
		}
	}
	api := w.v.Client(hc)
	api.CheckRedirect = nil
	keys := w.s.URL + "/v1/workspaces/" + ws + "/keys"
	if got := send(t, api, "POST", keys, map[string]any{"name": "company", "type": "public_api", "owner": "workspace", "scopes": []string{"items:read"}}); got.status != 403 {
		t.Errorf("a member's portal session creating a workspace key: %d %s, want 403", got.status, got.raw)
	}
	if got := send(t, api, "POST", keys, map[string]any{"name": "mine", "type": "public_api", "owner": "me", "scopes": []string{"items:read"}}); got.status != 201 {
		t.Errorf("a member's portal session creating a personal key: %d %s, want 201", got.status, got.raw)
	}
	// Expired after 5 minutes (the clock moves, nobody sleeps).
	late := w.portalURL(t, "full", ws, bob, "")
	w.clock.Add(5*time.Minute + time.Second)
	if status, _, _ := open(t, browser(t), acctStr(late.body, "url")); status != 404 {
		t.Fatalf("a portal URL after 5 minutes: got %d, want 404", status)
	}
	// Removing the person through the sync API ends their sessions.
	if got := w.as(t, "full", "DELETE", "/v1/workspaces/"+ws+"/members/by-external-id/u-7", nil); got.status != 204 {
		t.Fatalf("removing bob: %d %s", got.status, got.raw)
	}
	if status, loc, _ := open(t, hc, w.s.URL+"/w/"+ws+"/keys"); status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
		t.Fatalf("bob's portal session after his removal: %d to %q, want the login page", status, loc)
	}
	for _, bad := range []string{"/portal", "/portal?token=", "/portal?token=" + strings.Repeat("A", 500), "/portal?token=%00"} {
		if status, _, _ := open(t, browser(t), w.s.URL+bad); status != 404 {
			t.Errorf("GET %s: got %d, want 404", bad, status)
		}
	}
}

// TestAttackPortalIdentityTakeover: the product's person cannot be taken
// over or reached from elsewhere: no password login, no invitation (not
// even resent by their own workspace's owner), and another workspace's
// admin inviting their email makes a separate identity.
func TestAttackPortalIdentityTakeover(t *testing.T) {
	t.Parallel()
	w := newPlatformWorld(t, func(c *Config) {})
	ws := w.provision(t, "Globex", "cust-1")
	// An owner of Globex synced by a product key that may give owner.
	store := []string{"--data-dir", w.s.DataDir}
	_ = store
	carol := w.as(t, "full", "PUT", "/v1/workspaces/"+ws+"/members/by-external-id/u-1", map[string]string{"email": "carol@globex.example", "role": "admin"})
	if carol.status != 200 {
		t.Fatalf("syncing carol: %d %s", carol.status, carol.raw)
	}
	carolID := acctStr(carol.body, "user_id")
	// 1. A password login with her address: refused like any unknown one.
	if got := send(t, acctClient(w.v), "POST", w.s.URL+"/v1/auth/login", map[string]string{"email": "carol@globex.example", "password": acctPassword}); got.status != 401 {
		t.Fatalf("logging in as the portal identity: got %d %s, want 401", got.status, got.raw)
	}
	// 2. Acme's owner invites her address: a separate identity of Acme's,
	// which, accepted with a password, is a new account, not Carol's.
	owner := acctLogin(t, w.v, w.s.URL, w.s.OwnerEmail, w.s.OwnerPassword)
	inv := acctAddMember(t, owner, w.s.URL+"/v1/workspaces/"+w.s.WorkspaceID, map[string]any{"email": "carol@globex.example", "role": "admin"})
	if acctStr(inv.body, "member", "user_id") == carolID {
		t.Fatal("inviting the portal identity's address reached the portal identity")
	}
	acctAccept(t, acctClient(w.v), w.s.URL, acctStr(inv.body, "invite_token"), acctPassword)
	acct := acctLogin(t, w.v, w.s.URL, "carol@globex.example", acctPassword)
	me := send(t, acct, "GET", w.s.URL+"/v1/me", nil)
	if strings.Contains(string(me.raw), ws) || acctStr(me.body, "user", "id") == carolID {
		t.Fatalf("the account made from Acme's invitation reaches Globex: %s", me.raw)
	}
	// 3. Even her own workspace's people cannot send her an invitation
	// (which would let its holder choose a password).
	link := w.portalURL(t, "full", ws, map[string]string{"external_id": "u-2", "email": "dan@globex.example", "role": "admin"}, "")
	dan := browser(t)
	if status, _, _ := open(t, dan, acctStr(link.body, "url")); status != http.StatusSeeOther {
		t.Fatalf("dan's portal sign-in: %d", status)
	}
	danAPI := w.v.Client(dan)
	danAPI.CheckRedirect = nil
	if got := send(t, danAPI, "POST", w.s.URL+"/v1/workspaces/"+ws+"/members/"+carolID+"/invite", nil); got.status != 409 && got.status != 403 {
		t.Fatalf("inviting the portal identity: got %d %s, want 409 or 403", got.status, got.raw)
	}
	// 4. Dan (admin) cannot reach Acme, and his session has no password to change.
	if got := send(t, danAPI, "GET", w.s.URL+"/v1/workspaces/"+w.s.WorkspaceID+"/keys", nil); got.status != 404 {
		t.Fatalf("dan reading Acme's keys: %d", got.status)
	}
	if got := send(t, danAPI, "POST", w.s.URL+"/v1/me/password", map[string]string{"current_password": "", "new_password": acctPassword}); got.status < 400 || got.status >= 500 {
		t.Fatalf("a portal identity setting a password: got %d %s, want a refusal", got.status, got.raw)
	}
	if got := send(t, acctClient(w.v), "POST", w.s.URL+"/v1/auth/login", map[string]string{"email": "dan@globex.example", "password": acctPassword}); got.status != 401 {
		t.Fatalf("dan logging in with a password: %d", got.status)
	}
}

// TestBrandingOnLoginAndConsole: the product's name is the login page's and
// the console's, and the accent colour is served as a stylesheet; framing
// is refused unless configured, then allowed to the product only.
func TestBrandingOnLoginAndConsole(t *testing.T) {
	t.Parallel()
	w := newPlatformWorld(t, nil)
	status, _, page := open(t, browser(t), w.s.URL+"/login")
	if status != 200 || !strings.Contains(page, "Log in to Acme Cloud") || !strings.Contains(page, "· Acme Cloud</title>") || !strings.Contains(page, "/assets/brand.css") {
		t.Fatalf("the login page is not branded: %d\n%s", status, page)
	}
	resp, err := http.Get(w.s.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors 'none'") || resp.Header.Get("X-Frame-Options") != "DENY" {
		t.Fatalf("without --frame-ancestors the console must not be framed: CSP %q, XFO %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	_, _, css := open(t, browser(t), w.s.URL+"/assets/brand.css")
	if !strings.Contains(css, "--accent: #0f766e") {
		t.Fatalf("brand.css: %q", css)
	}

	framed := newPlatformWorld(t, func(c *Config) { c.Brand.FrameAncestors = []string{productOrigin} })
	ws := framed.provision(t, "Globex", "cust-1")
	link := framed.portalURL(t, "full", ws, map[string]string{"external_id": "u-1", "email": "e@globex.example"}, "")
	resp, err = browser(t).Get(acctStr(link.body, "url"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var session *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "latchkey_session" {
			session = c
		}
	}
	if session == nil || session.SameSite != http.SameSiteNoneMode || !session.Secure || !session.Partitioned || !session.HttpOnly {
		t.Fatalf("a framed console's session cookie: got %+v, want HttpOnly; SameSite=None; Secure; Partitioned", session)
	}
	resp, err = http.Get(framed.s.URL + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "frame-ancestors "+productOrigin+";") || resp.Header.Get("X-Frame-Options") != "" {
		t.Fatalf("with --frame-ancestors: CSP %q, XFO %q", csp, resp.Header.Get("X-Frame-Options"))
	}
	// A cross-site form post is still refused: SameSite=None does not open CSRF.
	req, _ := http.NewRequest("POST", framed.s.URL+"/logout", strings.NewReader(""))
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	req.Header.Set("Origin", productOrigin)
	req.AddCookie(session)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 403 {
		t.Fatalf("a cross-site post from the framing product: got %d, want 403", resp.StatusCode)
	}
}

// TestBadBrandingFlagsAreRefusedAtStart: a bad colour, logo or origin
// stops the start with a usage error (exit 2), never a broken page.
func TestBadBrandingFlagsAreRefusedAtStart(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{
		{"--accent-color", "red"},
		{"--accent-color", "#12345"},
		{"--product-logo-url", "javascript:alert(1)"},
		{"--product-logo-url", "http://cdn.example/logo.png"},
		{"--frame-ancestors", "*"},
		{"--frame-ancestors", "http://app.example"},
		{"--portal-origins", "not a url"},
	} {
		var out, errb strings.Builder
		full := append([]string{"serve", "--data-dir", t.TempDir(), "--addr", "127.0.0.1:0"}, args...)
		if code := run(full, &out, &errb); code != 2 {
			t.Errorf("serve %v: exit %d (%s), want 2", args, code, errb.String())
		}
	}
	var out, errb strings.Builder
	if code := run([]string{"operator", "platform-key", "--data-dir", t.TempDir(), "--name", "x", "--scope", "keys:read"}, &out, &errb); code != 2 {
		t.Errorf("platform-key with a key scope: exit %d (%s), want 2", code, errb.String())
	}
	if code := run([]string{"operator", "platform-key", "--data-dir", t.TempDir(), "--name", "x"}, &out, &errb); code != 2 {
		t.Errorf("platform-key without a scope: exit %d, want 2", code)
	}
}

// TestOperatorPlatformKeysPage: an operator creates a platform key in the
// console (its secret shown once), sees it listed without the secret and
// revokes it; a workspace owner finds no such page.
func TestOperatorPlatformKeysPage(t *testing.T) {
	t.Parallel()
	w := newPlatformWorld(t, nil)
	acctOperator(t, w.s.DataDir, "support@vendor.example", acctPassword)
	opAPI := acctLogin(t, w.v, w.s.URL, "support@vendor.example", acctPassword)
	op := browser(t) // the console's pages are not the API's document
	op.Jar = opAPI.Jar
	form := "name=Billing+backend&product=acme-cloud&scopes=workspaces%3Aread&scopes=portal%3Awrite&max_role=member"
	req, _ := http.NewRequest("POST", w.s.URL+"/operator/platform-keys", strings.NewReader(form))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := op.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b := new(strings.Builder)
	_, _ = io.Copy(b, resp.Body)
	resp.Body.Close()
	i := strings.Index(b.String(), `value="lk_platform_`)
	if resp.StatusCode != 200 || i < 0 {
		t.Fatalf("creating a platform key in the console: %d\n%s", resp.StatusCode, b)
	}
	secret := b.String()[i+len(`value="`):]
	secret = secret[:strings.IndexByte(secret, '"')]
	w.keys["console"] = secret
	if got := w.as(t, "console", "GET", "/v1/workspaces", nil); got.status != 200 {
		t.Fatalf("the console's key: %d %s", got.status, got.raw)
	}
	status, _, page := open(t, op, w.s.URL+"/operator/platform-keys")
	if status != 200 || strings.Contains(page, secret) || !strings.Contains(page, "Billing backend") {
		t.Fatalf("the platform keys page: %d, want the key listed without its secret", status)
	}
	list := send(t, opAPI, "GET", w.s.URL+"/v1/platform-keys", nil)
	var id string
	for _, k := range list.body["data"].([]any) {
		if acctStr(k, "name") == "Billing backend" {
			id = acctStr(k, "id")
		}
	}
	req, _ = http.NewRequest("POST", w.s.URL+"/operator/platform-keys/"+id+"/revoke", nil)
	if resp, err = op.Do(req); err != nil || resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("revoking in the console: %v %v", resp.StatusCode, err)
	}
	resp.Body.Close()
	if got := w.as(t, "console", "GET", "/v1/workspaces", nil); got.status != 401 {
		t.Fatalf("the revoked console key: %d", got.status)
	}
	owner := browser(t)
	ownerAPI := acctLogin(t, w.v, w.s.URL, w.s.OwnerEmail, w.s.OwnerPassword)
	owner.Jar = ownerAPI.Jar
	if status, _, _ := open(t, owner, w.s.URL+"/operator/platform-keys"); status != 404 {
		t.Fatalf("a workspace owner on the platform keys page: %d, want 404", status)
	}
}

// TestClientPlatformCalls drives the platform endpoints through the Go client.
func TestClientPlatformCalls(t *testing.T) {
	t.Parallel()
	w := newPlatformWorld(t, nil)
	lk := newGoClient(t, w.s.URL, client.WithToken(w.keys["full"]))
	ctx := t.Context()
	p, created, err := lk.ProvisionWorkspace(ctx, "Globex", "cust-1")
	if err != nil || !created {
		t.Fatalf("ProvisionWorkspace: %v %v", created, err)
	}
	if got, err := lk.WorkspaceByExternalID(ctx, "cust-1"); err != nil || got.ID != p.ID {
		t.Fatalf("WorkspaceByExternalID: %+v %v", got, err)
	}
	if _, err := lk.WorkspaceByExternalID(ctx, "cust-none"); !client.IsNotFound(err) {
		t.Fatalf("WorkspaceByExternalID of an unknown id: %v, want not found", err)
	}
	m, err := lk.SyncMember(ctx, p.ID, client.PortalUser{ExternalID: "u-1", Email: "f@globex.example", Role: "admin"})
	if err != nil || m.Role != "admin" {
		t.Fatalf("SyncMember: %+v %v", m, err)
	}
	_, err = lk.CreatePortalSession(ctx, p.ID, client.PortalUser{ExternalID: "u-1", Email: "f@globex.example"}, "https://evil.example/")
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Status != 400 || ce.Details["field"] != "return_url" {
		t.Fatalf("CreatePortalSession to a foreign return_url: %v, want 400 on return_url", err)
	}
	s, err := lk.CreatePortalSession(ctx, p.ID, client.PortalUser{ExternalID: "u-1", Email: "f@globex.example", Role: "admin"}, productOrigin+"/x")
	if err != nil || !strings.HasPrefix(s.URL, w.s.URL+"/portal?token=") || s.ExpiresAt.Sub(w.clock.Now()) != 5*time.Minute {
		t.Fatalf("CreatePortalSession: %+v %v", s, err)
	}
	if err := lk.RemoveMember(ctx, p.ID, "u-1"); err != nil {
		t.Fatalf("RemoveMember: %v", err)
	}
	if status, _, _ := open(t, browser(t), s.URL); status != 404 {
		t.Fatalf("a removed person's unused portal URL: %d, want 404", status)
	}
}

// TestAttackPlatformKeyDemotesAnOwnerAboveItsMaxRole: a key of the same
// product whose max_role is admin can neither demote nor remove an owner
// (made by a stronger key or by the workspace itself); the owner stays.
func TestAttackPlatformKeyDemotesAnOwnerAboveItsMaxRole(t *testing.T) {
	t.Parallel()
	w := newPlatformWorld(t, nil)
	w.keys["weak"], _ = platformKeyCLI(t, []string{"--data-dir", w.s.DataDir}, "weak", "other-app", "admin", allPlatformScopes...)
	created := w.as(t, "other", "POST", "/v1/workspaces", map[string]string{"name": "Hooli", "external_id": "c-1"})
	ws := acctStr(created.body, "workspace", "id")
	path := "/v1/workspaces/" + ws + "/members/by-external-id/"
	if got := w.as(t, "other", "PUT", path+"u-1", map[string]string{"email": "own@hooli.example", "role": "owner"}); got.status != 200 {
		t.Fatalf("syncing the owner: %d %s", got.status, got.raw)
	}
	if got := w.as(t, "weak", "PUT", path+"u-1", map[string]string{"email": "own@hooli.example", "role": "member"}); got.status != 403 {
		t.Errorf("the weak key demoting the owner: got %d %s, want 403", got.status, got.raw)
	}
	if got := w.as(t, "weak", "DELETE", path+"u-1", nil); got.status != 403 {
		t.Errorf("the weak key removing the owner: got %d %s, want 403", got.status, got.raw)
	}
	if got := w.as(t, "weak", "PUT", path+"u-2", map[string]string{"email": "adm@hooli.example", "role": "admin"}); got.status != 200 {
		t.Errorf("the weak key within its max_role: got %d %s, want 200", got.status, got.raw)
	}
	if got := w.as(t, "other", "PUT", path+"u-1", map[string]string{"email": "own@hooli.example", "role": "owner"}); got.status != 200 || acctStr(got.body, "role") != "owner" {
		t.Fatalf("the owner after the attempts: %d %s", got.status, got.raw)
	}
	// The workspace's own log, read by its owner through a portal session,
	// names the platform keys that acted, including the refused ones' none.
	link := w.portalURL(t, "other", ws, map[string]string{"external_id": "u-1", "email": "own@hooli.example", "role": "owner"}, "")
	hc := browser(t)
	if status, _, _ := open(t, hc, acctStr(link.body, "url")); status != http.StatusSeeOther {
		t.Fatalf("the owner's portal sign-in: %d", status)
	}
	api := w.v.Client(hc)
	api.CheckRedirect = nil
	evs := send(t, api, "GET", w.s.URL+"/v1/workspaces/"+ws+"/events?limit=100", nil)
	if evs.status != 200 {
		t.Fatalf("the owner reading the log: %d %s", evs.status, evs.raw)
	}
	seen := map[string]bool{}
	for _, e := range evs.body["data"].([]any) {
		if acctStr(e, "actor", "type") == "platform_key" {
			seen[acctStr(e, "action")] = true
		}
	}
	for _, a := range []string{"workspace.created", "member.added", "portal.session_created"} {
		if !seen[a] {
			t.Errorf("the log has no %s by a platform key: %s", a, evs.raw)
		}
	}
}
