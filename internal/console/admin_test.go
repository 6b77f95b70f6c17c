package console_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

func TestMembersPage(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws + "/members"
	if got := e.post(t, hc, base, url.Values{"email": {"not-an-email"}, "role": {"admin"}, "name": {"Kept"}}); got.status != http.StatusUnprocessableEntity || !got.has(`id="m-email-error"`) || !got.has(`value="Kept"`) {
		t.Errorf("a bad email: got %d, want the error next to the field and the input kept", got.status)
	}
	if got := e.post(t, hc, base, url.Values{"email": {"ivy@acme.test"}, "role": {"admin"}}); got.status != http.StatusOK || !got.has("/invite?token=") {
		t.Fatalf("adding without a password: got %d, want the invite link shown once", got.status)
	}
	ms, _ := e.svc.Members(context.Background(), e.owner, e.ws)
	var ivy *latchkey.Member
	for _, m := range ms {
		if m.Email == "ivy@acme.test" {
			ivy = m
		}
	}
	if ivy == nil || ivy.Role != latchkey.RoleAdmin {
		t.Fatalf("members after adding: %+v", ms)
	}
	if got := e.post(t, hc, base+"/"+ivy.UserID+"/invite", nil); got.status != http.StatusOK || !got.has("/invite?token=") {
		t.Errorf("a new invite link for a member without a password: got %d", got.status)
	}
	if got := e.post(t, hc, base+"/"+e.owner.UserID+"/invite", nil); got.status != http.StatusUnprocessableEntity || got.has("/invite?token=") {
		t.Errorf("an invite link for a member with a password: got %d, want the refusal on the page", got.status)
	}
	if got := e.post(t, hc, base+"/"+ivy.UserID+"/role", url.Values{"role": {"member"}}); got.status != http.StatusSeeOther {
		t.Errorf("changing the role: got %d, want 303", got.status)
	}
	if got := e.post(t, hc, base+"/"+e.owner.UserID+"/role", url.Values{"role": {"member"}}); got.status != http.StatusUnprocessableEntity {
		t.Errorf("demoting the last owner: got %d, want the refusal shown on the page", got.status)
	}
	if got := e.post(t, hc, base+"/"+ivy.UserID+"/remove", nil); got.status != http.StatusSeeOther {
		t.Errorf("removing: got %d, want 303", got.status)
	}
	if list := e.get(t, hc, base); list.has("ivy@acme.test") {
		t.Error("a removed member is still listed")
	}
}

func TestScimRequestedApprovedAndPickedUp(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	issuance := latchkey.IssuanceOperator
	if _, err := e.svc.UpdateSettings(ctx, e.owner, e.ws, manage.SettingsPatch{ScimKeyIssuance: &issuance}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateOperator(ctx, "support@vendor.test", testPassword); err != nil {
		t.Fatal(err)
	}
	e.addMember(t, "ada@acme.test", latchkey.RoleAdmin)
	hc := e.login(t, "ada@acme.test")
	page := e.get(t, hc, "/w/"+e.ws+"/scim")
	if page.status != http.StatusOK || page.has("Generate SCIM key") || !page.has("Request a SCIM key") || !page.has("/scim/v2") {
		t.Fatalf("SCIM page under operator issuance: got %d; want the request form and no Generate button", page.status)
	}
	if got := e.post(t, hc, "/w/"+e.ws+"/keys", url.Values{"name": {"x"}, "type": {"scim"}, "expires": {"30d"}, "environment": {"production"}}); got.status != http.StatusUnprocessableEntity {
		t.Errorf("forged SCIM key creation: got %d, want refused", got.status)
	}
	if got := e.post(t, hc, "/w/"+e.ws+"/scim/requests", url.Values{"contact_email": {"it@acme.test"}, "integration": {"entra"}}); got.status != http.StatusSeeOther {
		t.Fatalf("requesting: got %d, want 303", got.status)
	}
	op := e.login(t, "support@vendor.test")
	reqs := e.get(t, op, "/operator/scim-requests")
	if !reqs.has("it@acme.test") || !reqs.has("Acme") {
		t.Fatal("the operator does not see the request")
	}
	list, _ := e.svc.ScimKeyRequests(ctx, e.owner, e.ws)
	approved := e.post(t, op, "/operator/scim-requests/"+list[0].ID+"/approve", nil)
	if approved.status != http.StatusSeeOther || tokenPattern.MatchString(approved.body) {
		t.Fatalf("approving: got %d, want a redirect and no secret", approved.status)
	}
	if again := e.get(t, op, "/operator/scim-requests"); tokenPattern.MatchString(again.body) || again.has("it@acme.test") {
		t.Error("the requests page shows a secret or the approved request")
	}
	pickup := "/w/" + e.ws + "/scim/requests/" + list[0].ID + "/pickup"
	if got := e.post(t, op, pickup, nil); got.status != http.StatusNotFound || tokenPattern.MatchString(got.body) {
		t.Errorf("the operator picks the key up: got %d, want 404 and no secret", got.status)
	}
	e.addMember(t, "mo@acme.test", latchkey.RoleMember)
	if got := e.post(t, e.login(t, "mo@acme.test"), pickup, nil); got.status != http.StatusForbidden || tokenPattern.MatchString(got.body) {
		t.Errorf("a member picks the key up: got %d, want 403 and no secret", got.status)
	}
	if page := e.get(t, hc, "/w/"+e.ws+"/scim"); !page.has("Pick up key") || tokenPattern.MatchString(page.body) {
		t.Error("the workspace's SCIM page does not offer the approved key's pickup")
	}
	picked := e.post(t, hc, pickup, nil)
	secret := tokenPattern.FindString(picked.body)
	if picked.status != http.StatusOK || secret == "" || !picked.has("Store your SCIM key") {
		t.Fatalf("picking up: got %d, want the SCIM key shown once", picked.status)
	}
	checkPageHeaders(t, "picked-up SCIM key", picked)
	if got := e.post(t, hc, pickup, nil); got.status < 400 || !got.has("picked up already") || tokenPattern.MatchString(got.body) {
		t.Errorf("picking up twice: got %d, want a refusal and no secret", got.status)
	}
	if page := e.get(t, hc, "/w/"+e.ws+"/scim"); !page.has("SCIM (entra)") || !page.has("Picked up") || tokenPattern.MatchString(page.body) {
		t.Error("the workspace's SCIM page lacks the picked-up key, or shows a secret")
	}
	for _, action := range []string{latchkey.EventScimKeyApproved, latchkey.EventScimKeyPickedUp} {
		if evs, _, _ := e.store.Events(ctx, latchkey.EventFilter{WorkspaceID: e.ws, Action: action}); len(evs) != 1 {
			t.Errorf("%s events: got %d, want 1", action, len(evs))
		}
	}
}
