package main

import (
	"context"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"
)

// virtualAuthenticator gives the browser's tab a platform authenticator
// that holds discoverable credentials and verifies its user at once, as a
// laptop's fingerprint reader would, through DevTools' WebAuthn domain.
func virtualAuthenticator(b *consoleBrowser) webauthn.AuthenticatorID {
	b.t.Helper()
	var id webauthn.AuthenticatorID
	b.do("adding a virtual authenticator", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		res, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21, Transport: webauthn.AuthenticatorTransportInternal,
			HasResidentKey: true, HasUserVerification: true, IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		if err == nil {
			id = res.AuthenticatorID
		}
		return err
	}))
	return id
}

// credentialsIn returns how many passkeys the virtual authenticator holds.
func credentialsIn(b *consoleBrowser, id webauthn.AuthenticatorID) int {
	b.t.Helper()
	n := 0
	b.do("reading the authenticator's credentials", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		res, err := cdp.Call(ctx, t, webauthn.GetCredentials, webauthn.GetCredentialsParams{AuthenticatorID: id})
		if err == nil {
			n = len(res.Credentials)
		}
		return err
	}))
	return n
}

// TestPasskeyBrowser adds a passkey in Profile → Security with Chromium's
// virtual authenticator, signs out, signs in with the passkey alone, then
// signs in with the password and uses the passkey as the second factor.
func TestPasskeyBrowser(t *testing.T) {
	s := startPasskeyServer(t)
	b := newConsoleBrowser(t, s)
	auth := virtualAuthenticator(b)
	b.login(s.OwnerEmail, s.OwnerPassword)

	b.do("adding a passkey",
		chromedp.Navigate(s.URL+"/w/"+s.WorkspaceID+"/profile/security"),
		chromedp.WaitVisible(chromedp.CSS("#passkey-add")),
		chromedp.SendKeys(chromedp.CSS("#passkey-name"), "Test laptop"),
		chromedp.Click(chromedp.CSS("#passkey-add")),
	)
	waitAcrossNavigation(b, "the passkey is listed", `!!document.querySelector("[data-passkey-id]")`)
	if got := b.eval(`document.querySelector("#passkey-list td input[name=name]").value === "Test laptop"`); !got {
		t.Fatalf("the listed passkey is not named Test laptop")
	}
	if n := credentialsIn(b, auth); n != 1 {
		t.Fatalf("the authenticator holds %d credentials, want 1", n)
	}

	// Signed out, the passkey alone signs in.
	b.do("signing in with the passkey",
		clearCookies(),
		chromedp.Navigate(s.URL+"/login"),
		chromedp.WaitVisible(chromedp.CSS("#passkey-login")),
		chromedp.Click(chromedp.CSS("#passkey-login")),
		chromedp.WaitVisible(chromedp.CSS("nav.sidebar")),
	)

	// A password now waits for the passkey.
	b.do("signing in with the password",
		clearCookies(),
		chromedp.Navigate(s.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), s.OwnerEmail),
		chromedp.SendKeys(chromedp.CSS("#password"), s.OwnerPassword),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#passkey-second-factor")),
	)
	if b.eval(`!!document.querySelector("nav.sidebar")`) {
		t.Fatal("the password alone opened the console")
	}
	b.do("using the passkey as the second factor",
		chromedp.Click(chromedp.CSS("#passkey-second-factor")),
		chromedp.WaitVisible(chromedp.CSS("nav.sidebar")),
	)
}

// waitAcrossNavigation waits until expr is true on the page, which may be
// replaced meanwhile (the script moves on once a ceremony is done).
func waitAcrossNavigation(b *consoleBrowser, what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`document.readyState === "complete" && `+expr))
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.t.Fatalf("waiting until %s (%s): %v", what, expr, err)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
