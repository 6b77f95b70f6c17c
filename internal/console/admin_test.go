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

func TestScimRequestedAndIssuedByOperator(t *testing.T) {
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
	issued := e.post(t, op, "/operator/scim-requests/"+list[0].ID+"/issue", nil)
	if issued.status != http.StatusOK || tokenPattern.FindString(issued.body) == "" {
		t.Fatalf("issuing: got %d, want the SCIM key shown once", issued.status)
	}
	checkPageHeaders(t, "issued SCIM key", issued)
	if again := e.get(t, op, "/operator/scim-requests"); tokenPattern.MatchString(again.body) || again.has("it@acme.test") {
		t.Error("the requests page shows a secret or the fulfilled request")
	}
	if page := e.get(t, hc, "/w/"+e.ws+"/scim"); !page.has("SCIM (entra)") || tokenPattern.MatchString(page.body) {
		t.Error("the workspace's SCIM page lacks the issued key, or shows a secret")
	}
}
