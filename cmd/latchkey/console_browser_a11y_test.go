package main

import (
	"context"
	"encoding/json"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/pquerna/otp/totp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
)

// axeViolation is one rule axe-core found broken, with a few of the
// elements that break it.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// axeCheck runs axe-core (testdata/axe.min.js, from npm) on the page the
// browser shows and fails the test on every serious or critical violation.
func (b *consoleBrowser) axeCheck(what string) {
	b.t.Helper()
	for _, v := range b.axeViolations(what) {
		b.t.Errorf("%s: %s violation %s (%s): %s", what, v.Impact, v.ID, v.Help, strings.Join(v.Nodes, "; "))
	}
}

// axeViolations returns the page's serious and critical violations.
func (b *consoleBrowser) axeViolations(what string) []axeViolation {
	b.t.Helper()
	if !b.eval(`typeof window.axe === "object"`) {
		src, err := os.ReadFile("testdata/axe.min.js")
		if err != nil {
			b.t.Fatalf("reading axe-core: %v", err)
		}
		if _, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](string(src)+"\n;true")); err != nil {
			b.t.Fatalf("%s: injecting axe-core: %v", what, err)
		}
	}
	out, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical").map(v => ({
			id: v.id, impact: v.impact, help: v.help,
			nodes: v.nodes.slice(0, 4).map(n => n.target.join(" ") + " — " + (n.failureSummary || "").replace(/\s+/g, " ")),
		}))))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.t.Fatalf("%s: running axe-core: %v", what, err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		b.t.Fatalf("%s: reading axe-core's answer %q: %v", what, out, err)
	}
	return vs
}

// open navigates to u and waits for the page's main landmark.
func (b *consoleBrowser) open(what, u string) {
	b.t.Helper()
	b.do("opening "+what, chromedp.Navigate(u), chromedp.WaitVisible(chromedp.CSS("main")))
}

// TestConsoleBrowserAccessibility runs axe-core on every console page an
// owner sees, with data in them (keys with many scopes and a rate limit,
// members, a vault with a secret, events), on the wizard's three steps
// and its no-scopes question, on empty states and on the 404 page: none
// may have a serious or critical violation.
func TestConsoleBrowserAccessibility(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	owner, err := s.Main.service.Principal(ctx, manage.Caller{User: &latchkey.User{ID: s.OwnerID}}, s.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := s.Main.service.CreateKey(ctx, owner, s.WorkspaceID, manage.CreateKey{
		Name: "Quarterly reconciliation exporter", Owner: latchkey.OwnerWorkspace,
		Scopes:    []string{"items:read", "integrations:read", "integrations:write"},
		RateLimit: &latchkey.RateLimit{Limit: 100, Period: latchkey.Duration(time.Minute)},
	})
	if err != nil {
		t.Fatal(err)
	}
	mk, _, err := s.Main.service.CreateKey(ctx, owner, s.WorkspaceID, manage.CreateKey{
		Name: "Secret scanner", Type: latchkey.TypeManagement, Owner: latchkey.OwnerWorkspace, Scopes: []string{"leaks:report", "keys:read"},
	})
	if err != nil {
		t.Fatal(err)
	}
	managetest.Join(t, s.Main.service, owner, s.WorkspaceID, manage.AddMember{Email: "ada@example.com", Role: latchkey.RoleAdmin}, "Quartz-Meadow-Falcon-17")
	if _, _, err := s.Main.service.AddMember(ctx, owner, s.WorkspaceID, manage.AddMember{Email: "invited@example.com", Role: latchkey.RoleMember}); err != nil {
		t.Fatal(err)
	}
	v, err := s.Main.service.CreateVault(ctx, owner, s.WorkspaceID, manage.CreateVault{Name: "Team", Description: "CI secrets"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Main.service.CreateSecret(ctx, owner, s.WorkspaceID, v.ID, manage.CreateSecret{Name: "deploy token", Value: "s3cr3t"}); err != nil {
		t.Fatal(err)
	}

	b := newConsoleBrowser(t, s)
	b.open("the login page", s.URL+"/login")
	b.axeCheck("login")
	// The check itself can fail: an image without a text alternative
	// added to the page is reported.
	b.do("adding an image without alt", chromedp.Evaluate[chromedp.Void](`document.querySelector("main").insertAdjacentHTML("beforeend", '<img id="no-alt" src="/assets/console.css">')`))
	if vs := b.axeViolations("login with an image without alt"); !slices.ContainsFunc(vs, func(v axeViolation) bool { return v.ID == "image-alt" }) {
		t.Fatalf("axe-core did not report an image without alt: %+v", vs)
	}
	b.login(s.OwnerEmail, s.OwnerPassword)
	base := s.URL + "/w/" + s.WorkspaceID
	for _, p := range []struct{ what, path string }{
		{"keys list", "/keys"},
		{"keys list, nothing matches", "/keys?q=nothing-like-this"},
		{"key page", "/keys/" + k.ID},
		{"management key page", "/keys/" + mk.ID},
		{"reset confirmation", "/keys/" + k.ID + "/reset"},
		{"revoke confirmation", "/keys/" + k.ID + "/revoke"},
		{"profile keys", "/profile/keys"},
		{"profile password", "/profile/password"},
		{"profile security", "/profile/security"},
		{"single sign-on", "/sso"},
		{"members", "/members"},
		{"SCIM", "/scim"},
		{"vaults", "/vaults"},
		{"vault", "/vaults/" + v.ID},
		{"activity", "/activity"},
		{"outbox", "/outbox"},
		{"settings", "/settings"},
		{"404", "/keys/key_00000000000000000000000000"},
	} {
		b.open(p.what, base+p.path)
		b.axeCheck(p.what)
	}

	// The webhook secret, fetched into its card on Reveal.
	b.open("settings", base+"/settings")
	if b.eval(`document.body.innerHTML.includes("whsec_") && !!document.querySelector("#webhook-secret-value")`) {
		t.Fatal("the settings page holds the webhook secret before Reveal")
	}
	b.do("revealing the webhook secret", chromedp.Click(chromedp.CSS(`#webhook-secret form button`)))
	b.waitFor("the secret is shown", `(document.querySelector("#webhook-secret-value") || {}).value?.startsWith("whsec_")`)
	if !strings.HasSuffix(b.evalString(`location.pathname`), "/settings") {
		t.Error("revealing the webhook secret changed the address bar")
	}
	b.axeCheck("settings, secret revealed")

	// The wizard: each step, the no-scopes question, the secret, Done.
	b.open("wizard step 1", base+"/keys/new")
	b.axeCheck("wizard step 1")
	b.do("going to step 2",
		chromedp.SendKeys(chromedp.CSS("#name"), "Accessible key"),
		chromedp.Click(chromedp.CSS(`form.wizard button.primary`)),
		chromedp.WaitVisible(chromedp.CSS(`#perm-items-read`)),
	)
	b.axeCheck("wizard step 2")
	b.do("generating without scopes", chromedp.Click(chromedp.CSS(`form.wizard button.primary`)), chromedp.WaitVisible(chromedp.CSS("#no-scopes")))
	b.axeCheck("wizard, no-scopes question")
	b.tick("perm-items-read")
	b.generate()
	b.readSecret()
	b.axeCheck("wizard step 3")
	b.confirmStoredAndFinish("table.keys")
	b.axeCheck("keys list after Done")
	b.open("a missing console page", s.URL+"/no-such-page")
	b.axeCheck("404 outside a workspace")

	// Phones: the stacked tables and the compact navigation.
	for _, p := range []struct{ what, path string }{{"keys list", "/keys"}, {"key page", "/keys/" + k.ID}, {"members", "/members"}, {"activity", "/activity"}} {
		b.do("narrowing to 390 px", chromedp.EmulateViewport(390, 844))
		b.open(p.what+" at 390 px", base+p.path)
		b.axeCheck(p.what + " at 390 px")
	}
}

// evalString evaluates a JavaScript expression that yields a string.
func (b *consoleBrowser) evalString(expr string) string {
	b.t.Helper()
	v, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		b.t.Fatalf("evaluating %s: %v", expr, err)
	}
	return v
}

// tabTo presses Tab until the focused element matches sel, as a
// keyboard user moves through the page, and fails after limit presses.
func (b *consoleBrowser) tabTo(sel string, limit int) {
	b.t.Helper()
	for range limit {
		b.do("pressing Tab", chromedp.KeyEvent(kb.Tab))
		if b.eval(`!!document.activeElement && document.activeElement.matches(` + jsString(sel) + `)`) {
			return
		}
	}
	b.t.Fatalf("%d presses of Tab never focused %s (focus is on %s)", limit, sel,
		b.evalString(`(document.activeElement || {}).outerHTML?.slice(0, 120) || "nothing"`))
}

// jsString quotes s for a JavaScript expression.
func jsString(s string) string {
	q, _ := json.Marshal(s)
	return string(q)
}

// TestConsoleBrowserKeyboardOnlyKeyCreation creates a key with the
// keyboard alone: Tab to move, Enter to follow links and press buttons,
// Space to tick, the arrow keys inside a radio group (as in any radio
// group) and typing for the name; no click anywhere after logging in.
func TestConsoleBrowserKeyboardOnlyKeyCreation(t *testing.T) {
	s := startServer(t)
	b := newConsoleBrowser(t, s)
	b.login(s.OwnerEmail, s.OwnerPassword)
	b.open("the keys list", s.URL+"/w/"+s.WorkspaceID+"/keys")

	b.tabTo(`a[href$="/keys/new"]`, 30)
	b.do("opening the wizard with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#name")))
	b.tabTo("#name", 30)
	b.do("typing the name", chromedp.KeyEvent("Keyboard key"))
	b.tabTo(`form.wizard button.primary`, 30)
	b.do("Next with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#perm-items-none")))

	// Tab enters the items group on its checked level (None); the arrow
	// moves to Read, Space keeps it chosen.
	b.tabTo("#perm-items-none", 40)
	b.do("choosing Read for items", chromedp.KeyEvent(kb.ArrowRight), chromedp.KeyEvent(" "))
	if !b.eval(`document.querySelector("#perm-items-read").checked`) {
		t.Fatal("the arrow key did not choose Read in the items group")
	}
	b.tabTo(`form.wizard button.primary`, 60)
	b.do("Generate with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#stored")))

	b.tabTo("details.reveal > summary", 20)
	b.do("revealing with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#secret")))
	secret := b.text("#secret")
	b.tabTo("#stored", 20)
	b.do("ticking with Space", chromedp.KeyEvent(" "))
	b.waitFor("Done is enabled", `!document.querySelector("#done").disabled`)
	b.tabTo("#done", 5)
	b.do("Done with Enter", chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(chromedp.CSS("#created-key")))

	if row := b.text("#created-key"); !strings.Contains(row, "Keyboard key") {
		t.Errorf("the highlighted row is %q, want the new key", row)
	}
	if flash := b.text(".flash"); !strings.Contains(flash, "Key created") {
		t.Errorf("the notice after Done is %q, want Key created", flash)
	}
	if got := s.verifySecret(t, secret, "items:read"); got.Status != 200 || !got.Valid {
		t.Errorf("the key made with the keyboard: verify answered %d %+v, want valid with items:read", got.Status, got)
	}
}

// TestConsoleBrowserAccessibilityOperator runs axe-core on the second
// factor's enrolment an operator meets first, then on the operator's
// pages: workspaces, SCIM key requests and platform keys (empty).
func TestConsoleBrowserAccessibilityOperator(t *testing.T) {
	s := startServer(t)
	acctOperator(t, s.DataDir, "support@vendor.example", acctPassword)
	b := newConsoleBrowser(t, s)
	b.do("logging in as the operator",
		chromedp.Navigate(s.URL+"/login"),
		chromedp.SendKeys(chromedp.CSS("#email"), "support@vendor.example"),
		chromedp.SendKeys(chromedp.CSS("#password"), acctPassword),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#totp-secret")),
	)
	b.axeCheck("second factor enrolment")
	code, err := totp.GenerateCode(b.text("#totp-secret"), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	b.do("turning the second factor on",
		chromedp.SendKeys(chromedp.CSS("#code"), code),
		chromedp.Click(chromedp.CSS(`main button[type="submit"]`)),
		chromedp.WaitVisible(chromedp.CSS("#recovery-codes")),
	)
	b.axeCheck("recovery codes")
	b.do("continuing", chromedp.Click(chromedp.CSS("#continue")), chromedp.WaitVisible(chromedp.CSS("nav.sidebar")))
	for _, p := range []struct{ what, path string }{
		{"operator workspaces", "/operator/workspaces"},
		{"operator SCIM key requests", "/operator/scim-requests"},
		{"operator platform keys", "/operator/platform-keys"},
	} {
		b.open(p.what, s.URL+p.path)
		b.axeCheck(p.what)
	}
	if !b.eval(`document.body.textContent.includes("No platform keys yet.")`) {
		t.Error("the platform keys page without keys has no empty state")
	}
}
