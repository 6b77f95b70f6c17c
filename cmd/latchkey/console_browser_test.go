package main

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
)

// TestConsoleBrowserKeyLifecycle walks the seeds' main flow in a real
// browser: log in, create a key through the three-step wizard, reset it,
// revoke it with the "Revoke permanently" confirmation, delete it.
func TestConsoleBrowserKeyLifecycle(t *testing.T) {
	s := startServer(t)
	b := newConsoleBrowser(t, s)
	b.login(s.OwnerEmail, s.OwnerPassword)

	// Step 1: details and an expiration preset.
	b.do("opening the wizard",
		chromedp.Navigate(s.URL+"/w/"+s.WorkspaceID+"/keys"),
		chromedp.Click(chromedp.CSS(`a[href$="/keys/new"]`)),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "Salesforce CRM"),
		chromedp.SetValue(chromedp.CSS("#expires"), "90d"),
		chromedp.SendKeys(chromedp.CSS("#callback_url"), "https://crm.example.com/hooks"),
		chromedp.Click(chromedp.CSS(`form.wizard button.primary`)),
	)
	// Step 2: scopes as labelled checkboxes.
	b.tick("perm-items-read")
	b.tick("perm-users-read")
	b.generate()
	// Step 3: the secret, once.
	secret := b.readSecret()
	if got := s.verifySecret(t, secret, "items:read", "users:read"); got.Status != 200 || !got.Valid {
		t.Fatalf("the wizard's secret: verify answered %d %+v, want 200 valid", got.Status, got)
	}
	if got := s.verifySecret(t, secret, "integrations:write"); got.Error.Code != "insufficient_scope" {
		t.Errorf("a scope not granted: got %q, want insufficient_scope", got.Error.Code)
	}
	b.confirmStoredAndFinish("table.keys")
	if row := b.text("table.keys tbody"); !strings.Contains(row, "Salesforce CRM") || !strings.Contains(row, "Active") {
		t.Fatalf("the table after Done shows %q, want the new key with status Active", row)
	}
	if strings.Contains(b.text("body"), secret) {
		t.Fatal("the keys table shows the secret")
	}

	// Reset from the ⋮ menu: a new secret, shown once in the same view.
	b.do("resetting",
		chromedp.Click(chromedp.CSS(`table.keys tbody a`)),
		chromedp.WaitVisible(chromedp.CSS("details.actions-menu > summary")),
		chromedp.Click(chromedp.CSS("details.actions-menu > summary")),
		chromedp.Click(chromedp.CSS(`details.actions-menu a[href$="/reset"]`)),
		chromedp.WaitVisible(chromedp.CSS("#grace_period")),
		chromedp.Click(chromedp.CSS(`form button.primary`)),
	)
	fresh := b.readSecret()
	if fresh == secret {
		t.Fatal("the reset showed the old secret")
	}
	if got := s.verifySecret(t, secret); got.Valid || got.Error.Code != "key_invalid" {
		t.Errorf("the old secret after a reset without grace: got %+v, want key_invalid", got)
	}
	if got := s.verifySecret(t, fresh, "items:read"); !got.Valid {
		t.Fatalf("the new secret: got %+v, want valid", got)
	}
	b.confirmStoredAndFinish("details.actions-menu")

	// Revoke, confirmed with "Revoke permanently".
	b.do("revoking",
		chromedp.Click(chromedp.CSS("details.actions-menu > summary")),
		chromedp.Click(chromedp.CSS(`details.actions-menu a[href$="/revoke"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/revoke"] button.danger`)),
	)
	if label := b.text(`form[action$="/revoke"] button.danger`); label != "Revoke permanently" {
		t.Fatalf("the confirmation button says %q, want Revoke permanently", label)
	}
	b.do("confirming the revocation",
		chromedp.Click(chromedp.CSS(`form[action$="/revoke"] button.danger`)),
		chromedp.WaitVisible(chromedp.CSS(".status-revoked")),
	)
	if got := s.verifySecret(t, fresh); got.Status != 401 || got.Error.Code != "key_revoked" {
		t.Errorf("the secret after revocation: got %d %+v, want 401 key_revoked", got.Status, got)
	}

	// Delete, confirmed.
	b.do("deleting",
		chromedp.Click(chromedp.CSS("details.actions-menu > summary")),
		chromedp.Click(chromedp.CSS(`details.actions-menu a[href$="/delete"]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action$="/delete"] button.danger`)),
		chromedp.Click(chromedp.CSS(`form[action$="/delete"] button.danger`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	if body := b.text("main"); strings.Contains(body, "Salesforce CRM") || !strings.Contains(body, "The key was deleted.") {
		t.Errorf("after deleting, the page shows %q", body)
	}
	if got := s.verifySecret(t, fresh); got.Error.Code != "key_invalid" {
		t.Errorf("the secret after deletion: got %+v, want key_invalid", got)
	}
}

// TestConsoleBrowserMemberPersonalKey: the owner adds a member on the
// Members page; the member sees no workspace key and creates a personal
// key from Profile settings.
func TestConsoleBrowserMemberPersonalKey(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	owner, err := s.Main.service.Principal(ctx, manage.Caller{User: &latchkey.User{ID: s.OwnerID}}, s.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.Main.service.CreateKey(ctx, owner, s.WorkspaceID, manage.CreateKey{Name: "Company ERP"}); err != nil {
		t.Fatal(err)
	}
	b := newConsoleBrowser(t, s)
	b.login(s.OwnerEmail, s.OwnerPassword)
	const memberEmail, memberPassword = "mia@example.com", "Quartz-Meadow-Falcon-17"
	// The member is invited and accepts with their own password, as people join.
	managetest.Join(t, s.Main.service, owner, s.WorkspaceID, manage.AddMember{Email: memberEmail, Role: latchkey.RoleMember}, memberPassword)
	b.do("viewing members", chromedp.Navigate(s.URL+"/w/"+s.WorkspaceID+"/members"), chromedp.WaitVisible(chromedp.CSS("table.members")))
	if !strings.Contains(b.text("table.members"), memberEmail) {
		t.Fatal("the members table lacks the new member")
	}
	b.do("logging out",
		chromedp.Click(chromedp.CSS("details.user-menu > summary")),
		chromedp.Click(chromedp.CSS(`form[action="/logout"] button`)),
		chromedp.WaitVisible(chromedp.CSS("#email")),
	)
	b.login(memberEmail, memberPassword)
	body := b.text("main")
	if strings.Contains(body, "Company ERP") {
		t.Fatal("a member sees a workspace key")
	}
	for _, hidden := range []string{`a[href$="/members"]`, `a[href$="/activity"]`, `a[href$="/settings"]`} {
		if b.eval(`!!document.querySelector('nav.sidebar ` + hidden + `')`) {
			t.Errorf("a member sees the navigation link %s", hidden)
		}
	}
	b.do("opening Profile settings → API keys",
		chromedp.Click(chromedp.CSS(`nav.sidebar a[href$="/profile/keys"]`)),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/keys/new?owner=me"]`)),
		chromedp.Click(chromedp.CSS(`a[href$="/keys/new?owner=me"]`)),
		chromedp.WaitVisible(chromedp.CSS("#name")),
		chromedp.SendKeys(chromedp.CSS("#name"), "My reporting script"),
		chromedp.Click(chromedp.CSS(`form.wizard button.primary`)),
	)
	b.tick("perm-activities-read")
	b.generate()
	secret := b.readSecret()
	if got := s.verifySecret(t, secret, "activities:read"); !got.Valid {
		t.Fatalf("the member's personal key: got %+v, want valid", got)
	}
	b.confirmStoredAndFinish("table.keys")
	table := b.text("table.keys")
	if !strings.Contains(table, "My reporting script") || !strings.Contains(table, "You") || strings.Contains(table, "Company ERP") {
		t.Errorf("the member's profile keys table shows %q, want only their personal key", table)
	}
}

// TestConsoleBrowserEditOnPremiseSettings edits an on-premise key's
// settings after creation, as the Letsignit article describes.
func TestConsoleBrowserEditOnPremiseSettings(t *testing.T) {
	s := startServer(t)
	ctx := context.Background()
	owner, err := s.Main.service.Principal(ctx, manage.Caller{User: &latchkey.User{ID: s.OwnerID}}, s.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	k, _, err := s.Main.service.CreateKey(ctx, owner, s.WorkspaceID, manage.CreateKey{Name: "AD sync", Type: latchkey.TypeOnPremise})
	if err != nil {
		t.Fatal(err)
	}
	b := newConsoleBrowser(t, s)
	b.login(s.OwnerEmail, s.OwnerPassword)
	b.do("editing the settings",
		chromedp.Navigate(s.URL+"/w/"+s.WorkspaceID+"/keys/"+k.ID),
		chromedp.WaitVisible(chromedp.CSS("#setting-retrieve_signatures")),
		chromedp.Click(chromedp.CSS(`label[for="setting-retrieve_signatures"]`)),
		chromedp.Click(chromedp.CSS(`label[for="setting-send_directory_data"]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/keys/`+k.ID+`"] button.primary`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	got, err := s.Main.service.Key(ctx, owner, s.WorkspaceID, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Settings["retrieve_signatures"] != true || got.Settings["send_directory_data"] != true {
		t.Fatalf("settings after saving: %v, want both on", got.Settings)
	}
	if !b.eval(`document.querySelector("#setting-retrieve_signatures").checked`) {
		t.Error("the saved setting is not shown ticked")
	}
	b.do("turning one off",
		chromedp.Navigate(s.URL+"/w/"+s.WorkspaceID+"/keys/"+k.ID), // no flash yet
		chromedp.WaitVisible(chromedp.CSS("#setting-send_directory_data")),
		chromedp.Click(chromedp.CSS(`label[for="setting-send_directory_data"]`)),
		chromedp.Click(chromedp.CSS(`form[action$="/keys/`+k.ID+`"] button.primary`)),
		chromedp.WaitVisible(chromedp.CSS("p.flash")),
	)
	if b.eval(`document.querySelector("#setting-send_directory_data").checked`) {
		t.Error("the setting turned off is shown ticked after saving")
	}
	got, _ = s.Main.service.Key(ctx, owner, s.WorkspaceID, k.ID)
	if got.Settings["retrieve_signatures"] != true || got.Settings["send_directory_data"] != false {
		t.Errorf("settings after turning one off: %v", got.Settings)
	}
}
