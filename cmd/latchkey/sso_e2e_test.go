package main

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// TestSSODomainVerificationAndLoginOfScimUser runs single sign-on end to
// end through the real wiring: a DNS server and an OpenID provider on
// 127.0.0.1, the domain verified by its TXT record, a member provisioned
// over SCIM signing in through the provider with no invitation, and every
// way the provider's answer can be wrong refused and recorded.
func TestSSODomainVerificationAndLoginOfScimUser(t *testing.T) {
	d, idp := startDNS(t), startIdP(t)
	s := startSSOServer(t, d.Addr)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	ws := s.URL + "/v1/workspaces/" + s.WorkspaceID
	cfg := idp.Config()

	got := send(t, owner, "PUT", ws+"/sso", map[string]any{"issuer": cfg.Issuer, "client_id": cfg.ClientID,
		"client_secret": cfg.ClientSecret, "domains": []string{"Acme.example"}})
	if got.status != 200 || got.body["enabled"] != true || got.body["client_secret_set"] != true {
		t.Fatalf("PUT sso: %d %s", got.status, got.raw)
	}
	if strings.Contains(string(got.raw), cfg.ClientSecret) {
		t.Fatal("the answer holds the client secret")
	}
	if got.body["redirect_uri"] != s.URL+"/login/sso/callback" {
		t.Errorf("redirect_uri %v, want %s", got.body["redirect_uri"], s.URL+"/login/sso/callback")
	}
	name, value := ssoRecord(t, got, "acme.example")
	if name != "_latchkey-challenge.acme.example" || !strings.HasPrefix(value, "latchkey-domain-verification=") {
		t.Fatalf("record %q = %q", name, value)
	}

	t.Run("DNS verification fails without the record", func(t *testing.T) {
		before := d.asked.Load()
		got := send(t, owner, "POST", ws+"/sso/domains/acme.example/verify", nil)
		expect(t, "verify without a record", got, 400, "invalid_request")
		if acctDetail(got, "reason") != "record_missing" {
			t.Errorf("reason %v, want record_missing", acctDetail(got, "reason"))
		}
		if d.asked.Load() == before {
			t.Error("the DNS server was not asked")
		}
		d.set(name, "latchkey-domain-verification=not-the-token", strings.TrimPrefix(value, "latchkey-domain-verification="))
		expect(t, "verify with other values", send(t, owner, "POST", ws+"/sso/domains/acme.example/verify", nil), 400, "invalid_request")
		d.set("_latchkey-challenge.other.example", value)
		expect(t, "verify with the value under another name", send(t, owner, "POST", ws+"/sso/domains/acme.example/verify", nil), 400, "invalid_request")
		expect(t, "verify a domain not claimed", send(t, owner, "POST", ws+"/sso/domains/other.example/verify", nil), 404, "not_found")
		expect(t, "verify a malformed domain", send(t, owner, "POST", ws+"/sso/domains/a..b/verify", nil), 400, "invalid_request")
		got = send(t, owner, "GET", ws+"/sso", nil)
		if ds := got.body["domains"].([]any); acctObj(ds[0])["verified"] != false {
			t.Fatalf("the domain is verified without its record: %s", got.raw)
		}
	})

	t.Run("unverified domain asks for a password", func(t *testing.T) {
		before := idp.authorizations.Load()
		a := ssoLogin(t, s.URL, "alice@acme.example")
		if a.status != 200 || !strings.Contains(a.body, "Enter your password.") || a.final.Path != "/login" {
			t.Errorf("login with an unverified domain: %d at %s", a.status, a.final)
		}
		if idp.authorizations.Load() != before {
			t.Error("an unverified domain sent the person to the identity provider")
		}
	})

	t.Run("DNS verification succeeds with the record", func(t *testing.T) {
		d.set(name, "v=spf1 -all", value)
		got := send(t, owner, "POST", ws+"/sso/domains/acme.example/verify", nil)
		if got.status != 200 || acctObj(got.body["domains"].([]any)[0])["verified"] != true {
			t.Fatalf("verify: %d %s", got.status, got.raw)
		}
		if evs := acctEvents(t, owner, ws, "sso.domain_verified"); len(evs) != 1 {
			t.Errorf("%d sso.domain_verified events, want 1", len(evs))
		}
		if evs := acctEvents(t, owner, ws, "sso.configured"); len(evs) != 1 || strings.Contains(evs[0]["data"].(map[string]any)["changed"].([]any)[0].(string), cfg.ClientSecret) {
			t.Errorf("sso.configured events: %v", evs)
		}
	})

	// Provision alice over SCIM: she never gets an invitation.
	got = send(t, owner, "POST", ws+"/keys", map[string]any{"name": "Okta", "type": "scim",
		"settings": map[string]any{"integration": "okta", "contact_email": "it@acme.example"}})
	if got.status != 201 {
		t.Fatalf("scim key: %d %s", got.status, got.raw)
	}
	scimKey := got.body["secret"].(string)
	status, user := scimCall(t, s.Main, scimKey, "POST", "/Users",
		`{"userName":"Alice@Acme.example","emails":[{"value":"alice@acme.example","primary":true}],"active":true}`)
	if status != 201 {
		t.Fatalf("provision alice: %d %v", status, user)
	}
	aliceSCIM := user["id"].(string)

	var alice *ssoAttempt
	t.Run("SCIM-provisioned member signs in through the provider", func(t *testing.T) {
		idp.login("alice@acme.example")
		alice = ssoLogin(t, s.URL, "Alice@Acme.example")
		if alice.status != 200 || alice.final.Path != "/w/"+s.WorkspaceID+"/keys" {
			t.Fatalf("SSO login: %d at %s: %s", alice.status, alice.final, alice.body)
		}
		q := alice.callback.Query()
		if q.Get("code") == "" || q.Get("state") == "" || q.Get("state") != alice.state {
			t.Fatalf("callback %s with state cookie %q", alice.callback, alice.state)
		}
		if roles := acctMe(t, alice.hc, s.URL); len(roles) != 1 || roles[s.WorkspaceID] != "member" {
			t.Errorf("alice reaches %v", roles)
		}
		if got := send(t, alice.hc, "GET", ws+"/keys", nil); got.status != 200 {
			t.Errorf("alice lists keys: %d", got.status)
		}
		if evs := acctEvents(t, owner, ws, "sso.login"); len(evs) != 1 {
			t.Errorf("%d sso.login events, want 1", len(evs))
		}
	})

	t.Run("replayed state", func(t *testing.T) {
		req, _ := http.NewRequest("GET", alice.callback.String(), nil)
		req.AddCookie(&http.Cookie{Name: "latchkey_sso_state", Value: alice.state})
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 401 {
			t.Errorf("replayed callback: %d, want 401", resp.StatusCode)
		}
		for _, c := range resp.Cookies() {
			if c.Name == "latchkey_session" && c.Value != "" {
				t.Errorf("a replayed state opened a session")
			}
		}
	})

	refusals := []struct {
		name, email, asserted, reason string
		verified                      bool
		tamper                        func(q url.Values)
	}{
		{"wrong state", "alice@acme.example", "alice@acme.example", "state_mismatch", true, func(q url.Values) { q.Set("state", "forged-"+q.Get("state")) }},
		{"wrong nonce", "alice@acme.example", "alice@acme.example", "nonce_mismatch", true, func(q url.Values) { q.Set("nonce", "forged") }},
		{"email mismatch within the domain", "alice@acme.example", "mallory@acme.example", "email_mismatch", true, nil},
		{"email mismatch in another domain", "alice@acme.example", "alice@evil.example", "email_mismatch", true, nil},
		{"email unverified at the provider", "alice@acme.example", "alice@acme.example", "email_unverified", false, nil},
		{"not a member and no just-in-time membership", "bob@acme.example", "bob@acme.example", "not_a_member", true, nil},
	}
	for _, tc := range refusals {
		t.Run(tc.name, func(t *testing.T) {
			idp.setTamper(tc.tamper)
			defer idp.setTamper(nil)
			idp.login(tc.asserted, tc.verified)
			a := ssoLogin(t, s.URL, tc.email)
			if a.status != 401 || a.final.Path != "/login/sso/callback" || !strings.Contains(a.body, `role="alert"`) {
				t.Errorf("got %d at %s, want 401 on the callback with an alert", a.status, a.final)
			}
			if got := send(t, a.hc, "GET", s.URL+"/v1/me", nil); got.status != 401 {
				t.Errorf("the refused browser is signed in: %d", got.status)
			}
			if rs := refusalReasons(t, owner, ws); len(rs) == 0 || rs[0] != tc.reason {
				t.Errorf("latest refusal reasons %v, want %s first", rs, tc.reason)
			}
		})
	}

	t.Run("SCIM deprovisioning ends the SSO session", func(t *testing.T) {
		if status, body := scimCall(t, s.Main, scimKey, "PATCH", "/Users/"+aliceSCIM, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
			"Operations":[{"op":"replace","value":{"active":false}}]}`); status != 200 {
			t.Fatalf("deprovision: %d %v", status, body)
		}
		expect(t, "the SSO session after deprovisioning", send(t, alice.hc, "GET", s.URL+"/v1/me", nil), 401, "unauthenticated")
		idp.login("alice@acme.example")
		if a := ssoLogin(t, s.URL, "alice@acme.example"); a.status != 401 {
			t.Errorf("a deprovisioned member signs in: %d at %s", a.status, a.final)
		}
		if rs := refusalReasons(t, owner, ws); len(rs) == 0 || rs[0] != "deprovisioned" {
			t.Errorf("refusals %v, want deprovisioned first", rs)
		}
		// Reactivation does not revive the ended session.
		if status, _ := scimCall(t, s.Main, scimKey, "PATCH", "/Users/"+aliceSCIM, `{"Operations":[{"op":"replace","path":"active","value":true}]}`); status != 200 {
			t.Fatalf("reactivate: %d", status)
		}
		expect(t, "the ended session after reactivation", send(t, alice.hc, "GET", s.URL+"/v1/me", nil), 401, "unauthenticated")
	})
}

// TestSSORequireSSORefusesPasswordsButNotBreakGlass: with "Require SSO" a
// member's password opens nothing, and the owner's break-glass sign-in
// does, recorded in the workspace.
func TestSSORequireSSORefusesPasswordsButNotBreakGlass(t *testing.T) {
	d, idp := startDNS(t), startIdP(t)
	s := startSSOServer(t, d.Addr)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	ws := s.URL + "/v1/workspaces/" + s.WorkspaceID
	cfg := idp.Config()

	expect(t, "Require SSO before a verified domain", send(t, owner, "PUT", ws+"/sso", map[string]any{"issuer": cfg.Issuer,
		"client_id": cfg.ClientID, "client_secret": cfg.ClientSecret, "require_sso": true}), 400, "invalid_request")
	setUpSSO(t, owner, ws, idp, d, "acme.example", false)
	acctAddMember(t, owner, ws, map[string]any{"email": "dan@acme.example", "role": "member", "password": acctPassword})
	dan := acctLogin(t, v, s.URL, "dan@acme.example", acctPassword)

	got := send(t, owner, "PUT", ws+"/sso", map[string]any{"issuer": cfg.Issuer, "client_id": cfg.ClientID,
		"domains": []string{"acme.example"}, "require_sso": true})
	if got.status != 200 || got.body["require_sso"] != true || got.body["client_secret_set"] != true {
		t.Fatalf("require SSO: %d %s", got.status, got.raw)
	}

	expect(t, "dan's password session", send(t, dan, "GET", ws+"/keys", nil), 404, "not_found")
	expect(t, "dan's password login", send(t, acctClient(v), "POST", s.URL+"/v1/auth/login",
		map[string]string{"email": "dan@acme.example", "password": acctPassword}), 403, "forbidden")
	expect(t, "the owner's password login", send(t, acctClient(v), "POST", s.URL+"/v1/auth/login",
		map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}), 403, "forbidden")
	expect(t, "dan's break-glass", send(t, acctClient(v), "POST", s.URL+"/v1/auth/break-glass",
		map[string]string{"email": "dan@acme.example", "password": acctPassword}), 403, "forbidden")
	expect(t, "break-glass with a wrong password", send(t, acctClient(v), "POST", s.URL+"/v1/auth/break-glass",
		map[string]string{"email": s.OwnerEmail, "password": "wrong-" + s.OwnerPassword}), 401, "unauthenticated")

	glass := acctClient(v)
	if got := send(t, glass, "POST", s.URL+"/v1/auth/break-glass", map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}); got.status != 200 {
		t.Fatalf("break-glass: %d %s", got.status, got.raw)
	}
	if got := send(t, glass, "GET", ws+"/sso", nil); got.status != 200 {
		t.Errorf("the break-glass session reads SSO: %d", got.status)
	}
	if evs := acctEvents(t, glass, ws, "sso.break_glass"); len(evs) != 1 || acctStr(evs[0], "actor", "id") == "" {
		t.Errorf("sso.break_glass events: %v", evs)
	}
	if evs := acctEvents(t, glass, ws, "sso.password_refused"); len(evs) != 2 {
		t.Errorf("%d sso.password_refused events, want 2 (dan, the owner)", len(evs))
	}

	// Dan signs in the way the workspace requires.
	idp.login("dan@acme.example")
	a := ssoLogin(t, s.URL, "dan@acme.example")
	if a.status != 200 || a.final.Path != "/w/"+s.WorkspaceID+"/keys" {
		t.Fatalf("dan through SSO: %d at %s", a.status, a.final)
	}
	if got := send(t, a.hc, "GET", ws+"/keys", nil); got.status != 200 {
		t.Errorf("dan's SSO session lists keys: %d", got.status)
	}
}

// TestAttackSSOAcrossWorkspaces: Evil Corp's owner, with an identity
// provider of their own, tries to take Acme's domain, to configure Acme's
// sign-on, and to sign in as Acme's members.
func TestAttackSSOAcrossWorkspaces(t *testing.T) {
	d, acmeIdP, evilIdP := startDNS(t), startIdP(t), startIdP(t)
	s := startSSOServer(t, d.Addr)
	v := apitest.New(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	op := acctLogin(t, v, s.URL, "support@vendor.example", acctPassword)
	acme := v.Client(s.login(t))
	created := send(t, op, "POST", s.URL+"/v1/workspaces", map[string]any{"name": "Evil Corp", "owner": map[string]any{"email": "mallory@evil.example"}})
	if created.status != 201 {
		t.Fatalf("creating Evil Corp: %d %s", created.status, created.raw)
	}
	acctAccept(t, acctClient(v), s.URL, acctStr(created.body, "invite_token"), acctPassword)
	evil := acctLogin(t, v, s.URL, "mallory@evil.example", acctPassword)
	acmeURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	evilWS := acctStr(created.body, "workspace", "id")
	evilURL := s.URL + "/v1/workspaces/" + evilWS

	// Evil claims shared.example first; Acme claims and verifies it.
	ec := evilIdP.Config()
	got := send(t, evil, "PUT", evilURL+"/sso", map[string]any{"issuer": ec.Issuer, "client_id": ec.ClientID,
		"client_secret": ec.ClientSecret, "domains": []string{"shared.example"}})
	if got.status != 200 {
		t.Fatalf("Evil claims shared.example: %d %s", got.status, got.raw)
	}
	_, evilValue := ssoRecord(t, got, "shared.example")
	setUpSSO(t, acme, acmeURL, acmeIdP, d, "acme.example", false)
	ac := acmeIdP.Config()
	got = send(t, acme, "PUT", acmeURL+"/sso", map[string]any{"issuer": ac.Issuer, "client_id": ac.ClientID,
		"domains": []string{"acme.example", "shared.example"}})
	if got.status != 200 {
		t.Fatalf("Acme claims shared.example: %d %s", got.status, got.raw)
	}
	name, acmeValue := ssoRecord(t, got, "shared.example")
	d.set(name, acmeValue, evilValue)
	if got := send(t, acme, "POST", acmeURL+"/sso/domains/shared.example/verify", nil); got.status != 200 {
		t.Fatalf("Acme verifies shared.example: %d %s", got.status, got.raw)
	}
	acmeBefore := send(t, acme, "GET", acmeURL+"/sso", nil)

	t.Run("claiming a domain another workspace verified", func(t *testing.T) {
		expect(t, "Evil verifies shared.example after Acme", send(t, evil, "POST", evilURL+"/sso/domains/shared.example/verify", nil), 409, "conflict")
		expect(t, "Evil claims acme.example", send(t, evil, "PUT", evilURL+"/sso", map[string]any{"issuer": ec.Issuer,
			"client_id": ec.ClientID, "domains": []string{"shared.example", "ACME.example"}}), 409, "conflict")
	})

	t.Run("configuring another workspace's sign-on", func(t *testing.T) {
		expect(t, "Evil reads Acme's SSO", send(t, evil, "GET", acmeURL+"/sso", nil), 404, "not_found")
		expect(t, "Evil replaces Acme's SSO", send(t, evil, "PUT", acmeURL+"/sso", map[string]any{"issuer": ec.Issuer,
			"client_id": ec.ClientID, "client_secret": ec.ClientSecret, "domains": []string{"acme.example"}}), 404, "not_found")
		expect(t, "Evil verifies Acme's domain", send(t, evil, "POST", acmeURL+"/sso/domains/acme.example/verify", nil), 404, "not_found")
		acctAddMember(t, acme, acmeURL, map[string]any{"email": "erin@acme.example", "role": "admin", "password": acctPassword})
		erin := acctLogin(t, v, s.URL, "erin@acme.example", acctPassword)
		expect(t, "an Acme admin replaces Acme's SSO", send(t, erin, "PUT", acmeURL+"/sso", map[string]any{"issuer": ec.Issuer,
			"client_id": ec.ClientID, "client_secret": ec.ClientSecret, "domains": []string{"acme.example"}}), 403, "forbidden")
		if after := send(t, acme, "GET", acmeURL+"/sso", nil); string(after.raw) != string(acmeBefore.raw) {
			t.Errorf("Acme's SSO changed:\n%s\nwas\n%s", after.raw, acmeBefore.raw)
		}
	})

	// Evil's provider is verified for evil.example, with just-in-time members.
	setUpSSO(t, evil, evilURL, evilIdP, d, "evil.example", true)
	// Acme has a member at evil.example (a contractor) and one at acme.example.
	carol := acctAddMember(t, acme, acmeURL, map[string]any{"email": "carol@evil.example", "role": "admin", "password": acctPassword})
	carolID := acctStr(carol.body, "member", "user_id")
	acctAddMember(t, acme, acmeURL, map[string]any{"email": "bob@acme.example", "role": "super_admin", "password": acctPassword})

	t.Run("Evil's provider asserts an Acme member's email", func(t *testing.T) {
		before := acmeIdP.authorizations.Load()
		evilIdP.login("bob@acme.example")
		a := ssoLogin(t, s.URL, "mallory@evil.example")
		if a.status != 401 {
			t.Errorf("Evil's provider asserting bob@acme.example: %d at %s", a.status, a.final)
		}
		if rs := refusalReasons(t, evil, evilURL); len(rs) == 0 || rs[0] != "email_mismatch" {
			t.Errorf("Evil's refusals %v, want email_mismatch", rs)
		}
		if acmeIdP.authorizations.Load() != before {
			t.Error("Acme's provider was asked")
		}
		// Bob's own address is Acme's: Evil's provider is never asked for it.
		evilBefore := evilIdP.authorizations.Load()
		acmeIdP.login("mallory@evil.example")
		a = ssoLogin(t, s.URL, "bob@acme.example")
		if evilIdP.authorizations.Load() != evilBefore || a.status != 401 {
			t.Errorf("bob@acme.example: %d, Evil's provider asked %d times", a.status, evilIdP.authorizations.Load()-evilBefore)
		}
	})

	t.Run("Evil's provider signs in an Acme member's address", func(t *testing.T) {
		evilIdP.login("carol@evil.example")
		a := ssoLogin(t, s.URL, "carol@evil.example")
		if a.status != 200 {
			t.Fatalf("carol@evil.example through Evil: %d at %s", a.status, a.final)
		}
		roles := acctMe(t, a.hc, s.URL)
		if len(roles) != 1 || roles[evilWS] != "member" {
			t.Errorf("the session reaches %v, want Evil as a member only", roles)
		}
		expect(t, "the session lists Acme's keys", send(t, a.hc, "GET", acmeURL+"/keys", nil), 404, "not_found")
		expect(t, "the session lists Acme's members", send(t, a.hc, "GET", acmeURL+"/members", nil), 404, "not_found")
		got := send(t, acme, "GET", acmeURL+"/members", nil)
		var ids []string
		for _, m := range got.body["data"].([]any) {
			if acctStr(m, "email") == "carol@evil.example" {
				ids = append(ids, acctStr(m, "user_id"))
			}
		}
		if !slices.Equal(ids, []string{carolID}) {
			t.Errorf("Acme's carol members %v, want [%s]", ids, carolID)
		}
		// Carol's own account still signs in to Acme with her password.
		if got := send(t, acctLogin(t, v, s.URL, "carol@evil.example", acctPassword), "GET", acmeURL+"/keys", nil); got.status != 200 {
			t.Errorf("carol's own account: %d", got.status)
		}
	})

	t.Run("Evil's provider signs in an account that is also Acme's admin", func(t *testing.T) {
		// Frank is Acme's admin and, with the same account, Evil's member.
		acctAddMember(t, acme, acmeURL, map[string]any{"email": "frank@evil.example", "role": "admin", "password": acctPassword})
		frank := acctLogin(t, v, s.URL, "frank@evil.example", acctPassword)
		inv := acctAddMember(t, evil, evilURL, map[string]any{"email": "frank@evil.example", "role": "member"})
		if got := send(t, frank, "POST", s.URL+"/v1/auth/accept-invite", map[string]string{"token": acctStr(inv.body, "invite_token")}); got.status != 200 {
			t.Fatalf("frank joins Evil with his account: %d %s", got.status, got.raw)
		}
		if roles := acctMe(t, frank, s.URL); roles[s.WorkspaceID] != "admin" || roles[evilWS] != "member" {
			t.Fatalf("frank's password session reaches %v", roles)
		}
		// Evil's provider vouches for frank without him.
		evilIdP.login("frank@evil.example")
		a := ssoLogin(t, s.URL, "frank@evil.example")
		if a.status != 200 {
			t.Fatalf("frank through Evil's provider: %d at %s", a.status, a.final)
		}
		if roles := acctMe(t, a.hc, s.URL); len(roles) != 1 || roles[evilWS] != "member" {
			t.Errorf("the session Evil's provider opened reaches %v, want Evil only", roles)
		}
		expect(t, "it lists Acme's keys", send(t, a.hc, "GET", acmeURL+"/keys", nil), 404, "not_found")
		expect(t, "it creates an Acme key", send(t, a.hc, "POST", acmeURL+"/keys", map[string]any{"name": "x", "type": "management",
			"scopes": []string{"keys:read"}}), 404, "not_found")
		if got := send(t, frank, "GET", acmeURL+"/keys", nil); got.status != 200 {
			t.Errorf("frank's own session lost Acme: %d", got.status)
		}
	})
}
