package main

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"context"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/latchkey/latchkey/internal/api/apitest"
)

// TestSSOConsoleBrowser signs in through the console in Chromium: a
// SCIM-provisioned member through the provider, the provider's wrong
// answers refused on the login page, an unverified domain asked for a
// password, "Require SSO" refusing a password and the owner's break-glass.
func TestSSOConsoleBrowser(t *testing.T) {
	d, idp := startDNS(t), startIdP(t)
	s := startSSOServer(t, d.Addr)
	b := newConsoleBrowser(t, s)
	v := apitest.New(t)
	owner := v.Client(s.login(t))
	ws := s.URL + "/v1/workspaces/" + s.WorkspaceID
	setUpSSO(t, owner, ws, idp, d, "acme.example", false)
	cfg := idp.Config()
	// beta.example is claimed but never verified.
	if got := send(t, owner, "PUT", ws+"/sso", map[string]any{"issuer": cfg.Issuer, "client_id": cfg.ClientID,
		"domains": []string{"acme.example", "beta.example"}}); got.status != 200 {
		t.Fatalf("claim beta.example: %d %s", got.status, got.raw)
	}
	got := send(t, owner, "POST", ws+"/keys", map[string]any{"name": "Okta", "type": "scim",
		"settings": map[string]any{"integration": "okta", "contact_email": "it@acme.example"}})
	if got.status != 201 {
		t.Fatalf("scim key: %d %s", got.status, got.raw)
	}
	for _, email := range []string{"alice@acme.example", "bea@beta.example"} {
		if status, user := scimCall(t, s.Main, got.body["secret"].(string), "POST", "/Users",
			`{"userName":"`+email+`","emails":[{"value":"`+email+`","primary":true}],"active":true}`); status != 201 {
			t.Fatalf("provision %s: %d %v", email, status, user)
		}
	}
	acctAddMember(t, owner, ws, map[string]any{"email": "dan@acme.example", "role": "member", "password": acctPassword})

	submit := func(what, email, password string) {
		t.Helper()
		steps := []chromedp.Action[chromedp.Void]{clearCookies(), chromedp.Navigate(s.URL + "/login"),
			chromedp.SendKeys(chromedp.CSS("#email"), email)}
		if password != "" {
			steps = append(steps, chromedp.SendKeys(chromedp.CSS("#password"), password))
		}
		b.do(what, append(steps, chromedp.Click(chromedp.CSS(`main button[type="submit"]`)))...)
		settleSignIn(t, b, what)
	}
	signedIn := func() bool { return b.eval(`!!document.querySelector("nav.sidebar")`) }

	t.Run("SCIM-provisioned member", func(t *testing.T) {
		idp.login("alice@acme.example")
		submit("alice through SSO", "alice@acme.example", "")
		if !signedIn() {
			t.Fatalf("alice is not signed in: %q", b.text("main"))
		}
		loc, _ := chromedp.Run(b.ctx, chromedp.Location())
		if u, _ := url.Parse(loc); u.Path != "/w/"+s.WorkspaceID+"/keys" {
			t.Errorf("alice landed on %s", loc)
		}
	})

	for _, tc := range []struct {
		name, email, asserted, alert string
		tamper                       func(url.Values)
	}{
		{"wrong state", "alice@acme.example", "alice@acme.example", "did not start in this browser", func(q url.Values) { q.Set("state", "x"+q.Get("state")) }},
		{"wrong nonce", "alice@acme.example", "alice@acme.example", "Single sign-on failed", func(q url.Values) { q.Set("nonce", "forged") }},
		{"email mismatch", "alice@acme.example", "eve@acme.example", "another email address", nil},
		{"unverified domain", "bea@beta.example", "bea@beta.example", "Enter your password.", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			idp.setTamper(tc.tamper)
			defer idp.setTamper(nil)
			before := idp.authorizations.Load()
			idp.login(tc.asserted)
			submit(tc.name, tc.email, "")
			if signedIn() {
				t.Fatal("signed in")
			}
			if alert := b.text("p.alert"); !strings.Contains(alert, tc.alert) {
				t.Errorf("alert %q, want it to say %q", alert, tc.alert)
			}
			if asked := idp.authorizations.Load() != before; asked == (tc.name == "unverified domain") {
				t.Errorf("the provider asked: %v", asked)
			}
		})
	}
	// Drain what the unverified case left queued.
	idp.UserQueue.Pop()

	t.Run("Require SSO refuses a password; the owner's break-glass opens the console", func(t *testing.T) {
		if got := send(t, owner, "PUT", ws+"/sso", map[string]any{"issuer": cfg.Issuer, "client_id": cfg.ClientID,
			"domains": []string{"acme.example"}, "require_sso": true}); got.status != 200 {
			t.Fatalf("require SSO: %d %s", got.status, got.raw)
		}
		submit("dan's password", "dan@acme.example", acctPassword)
		if signedIn() || !strings.Contains(b.text("p.alert"), "requires single sign-on") {
			t.Fatalf("dan's password: signed in %v, alert %q", signedIn(), b.text("main"))
		}
		b.do("break-glass", clearCookies(),
			chromedp.Navigate(s.URL+"/login?break_glass=1"),
			chromedp.WaitReady(chromedp.CSS(`input[name="break_glass"]`)),
			chromedp.SendKeys(chromedp.CSS("#email"), s.OwnerEmail),
			chromedp.SendKeys(chromedp.CSS("#password"), s.OwnerPassword),
			chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		)
		settleSignIn(t, b, "break-glass")
		if !signedIn() {
			t.Fatalf("break-glass: %q", b.text("main"))
		}
		// The console's break-glass is in the audit log; so is the refusal.
		glass := acctClient(v)
		if got := send(t, glass, "POST", s.URL+"/v1/auth/break-glass", map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}); got.status != 200 {
			t.Fatalf("break-glass over the API: %d %s", got.status, got.raw)
		}
		if n := len(acctEvents(t, glass, ws, "sso.break_glass")); n != 2 {
			t.Errorf("%d sso.break_glass events, want 2 (console, API)", n)
		}
		if n := len(acctEvents(t, glass, ws, "sso.password_refused")); n != 1 {
			t.Errorf("%d sso.password_refused events, want 1", n)
		}
	})
}

// clearCookies forgets every cookie of the browser: the next person.
func clearCookies() chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, network.ClearBrowserCookies, cdp.Empty{})
		return err
	})
}

// settleSignIn waits, across the navigations of a sign-in, for a console page
// that shows the sidebar (signed in) or an alert.
func settleSignIn(t *testing.T, b *consoleBrowser, what string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && !!document.querySelector("nav.sidebar, p.alert")`))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			loc, _ := chromedp.Run(b.ctx, chromedp.Location())
			t.Fatalf("%s: no console page with a sidebar or an alert at %s (%v)", what, loc, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
