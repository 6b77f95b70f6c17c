package console_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
)

// pagePaths are every workspace page, with {ws} and {key} to fill in.
var pagePaths = []string{
	"/workspaces", "/w/{ws}/keys", "/w/{ws}/keys/new", "/w/{ws}/keys/{key}", "/w/{ws}/keys/{key}/reset",
	"/w/{ws}/keys/{key}/revoke", "/w/{ws}/keys/{key}/delete", "/w/{ws}/profile/keys", "/w/{ws}/activity",
	"/w/{ws}/members", "/w/{ws}/settings", "/w/{ws}/scim", "/w/{ws}/outbox", "/w/{ws}/profile/password",
}

func fill(path, ws, key string) string {
	return strings.NewReplacer("{ws}", ws, "{key}", key).Replace(path)
}

func TestAnonymousIsSentToLogin(t *testing.T) {
	e := newEnv(t)
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "CRM"})
	hc := e.client(t)
	for _, p := range append(pagePaths, "/operator/workspaces", "/operator/scim-requests", "/") {
		path := fill(p, e.ws, k.ID)
		t.Run("GET "+path, func(t *testing.T) {
			got := e.get(t, hc, path)
			loc := got.header.Get("Location")
			if got.status != http.StatusSeeOther || !strings.HasPrefix(loc, "/login") {
				t.Fatalf("got %d to %q, want 303 to /login", got.status, loc)
			}
			if path != "/" && loc != "/login?next="+url.QueryEscape(path) {
				t.Errorf("got Location %q, want the page to come back to", loc)
			}
		})
	}
	for _, p := range []string{"/w/{ws}/keys/{key}/revoke", "/w/{ws}/keys/{key}/delete", "/w/{ws}/keys", "/w/{ws}/settings"} {
		path := fill(p, e.ws, k.ID)
		t.Run("POST "+path, func(t *testing.T) {
			got := e.post(t, hc, path, url.Values{"name": {"x"}})
			if got.status != http.StatusSeeOther || !strings.HasPrefix(got.header.Get("Location"), "/login") {
				t.Fatalf("got %d to %q, want 303 to /login", got.status, got.header.Get("Location"))
			}
		})
	}
	if k, err := e.svc.Key(context.Background(), e.owner, e.ws, k.ID); err != nil || k.RevokedAt != nil {
		t.Fatalf("after anonymous posts: key %v, err %v; want it untouched", k, err)
	}
}

func TestOtherWorkspaceIsNotFound(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	op, err := e.svc.CreateOperator(ctx, "support@vendor.test", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	opP, _ := e.svc.Principal(ctx, manage.Caller{User: op}, "")
	other, u := managetest.Owner(t, e.svc, opP, "Globex", "owner@globex.test", testPassword)
	otherOwner, _ := e.svc.Principal(ctx, manage.Caller{User: u}, other.ID)
	theirs, _, err := e.svc.CreateKey(ctx, otherOwner, other.ID, manage.CreateKey{Name: "Globex CRM"})
	if err != nil {
		t.Fatal(err)
	}
	hc := e.login(t, "owner@acme.test")
	for _, p := range pagePaths[1:] {
		for _, path := range []string{fill(p, other.ID, theirs.ID), fill(p, e.ws, theirs.ID)} {
			if !strings.Contains(p, "{key}") && !strings.Contains(path, other.ID) {
				continue // our own workspace's page without a key is fine
			}
			got := e.get(t, hc, path)
			if got.status != http.StatusNotFound {
				t.Errorf("GET %s: got %d, want 404", path, got.status)
			}
			if got.has("Globex CRM") {
				t.Errorf("GET %s shows the other workspace's key", path)
			}
		}
	}
	got := e.post(t, hc, "/w/"+e.ws+"/keys/"+theirs.ID+"/revoke", nil)
	if got.status != http.StatusNotFound {
		t.Errorf("revoking another workspace's key: got %d, want 404", got.status)
	}
	if k, _ := e.svc.Key(ctx, otherOwner, other.ID, theirs.ID); k.RevokedAt != nil {
		t.Error("another workspace's key was revoked")
	}
	if got := e.get(t, hc, "/w/"+e.ws+"/keys/key_nonsense"); got.status != http.StatusNotFound {
		t.Errorf("unknown key: got %d, want 404", got.status)
	}
	if got := e.get(t, hc, "/no/such/page"); got.status != http.StatusNotFound || !got.has("Not found") {
		t.Errorf("unknown page: got %d, want the 404 page", got.status)
	}
	// Operator pages are for operators only.
	if got := e.get(t, hc, "/operator/workspaces"); got.status != http.StatusNotFound {
		t.Errorf("operator page as a workspace owner: got %d, want 404", got.status)
	}
	ophc := e.login(t, "support@vendor.test")
	for _, path := range []string{"/operator/workspaces", "/operator/scim-requests"} {
		if got := e.get(t, ophc, path); got.status != http.StatusOK || !got.has("Globex") && path == "/operator/workspaces" {
			t.Errorf("GET %s as operator: got %d, want 200 listing workspaces", path, got.status)
		}
	}
}

func TestMemberSeesOnlyTheirKeysAndNoAdminButtons(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	company, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "Company CRM"})
	member := e.addMember(t, "mia@acme.test", latchkey.RoleMember)
	mine, _ := e.createKey(t, member, manage.CreateKey{Name: "Mia's script", Owner: "me"})
	hc := e.login(t, "mia@acme.test")

	list := e.get(t, hc, "/w/"+e.ws+"/keys")
	if list.status != http.StatusOK || !list.has("Mia&#39;s script") {
		t.Fatalf("member's key list: got %d, want 200 with their key; body %s", list.status, list.body)
	}
	if list.has("Company CRM") {
		t.Error("a member sees a workspace key in the table")
	}
	for _, link := range []string{"/members\"", "/activity\"", "/settings\"", "/scim\""} {
		if list.has(link) {
			t.Errorf("a member sees the navigation link %s", link)
		}
	}
	own := e.get(t, hc, "/w/"+e.ws+"/keys/"+mine.ID)
	if own.status != http.StatusOK || !own.has("/revoke\"") {
		t.Errorf("member's own key page: got %d; want 200 with Revoke", own.status)
	}
	for p, want := range map[string]int{
		"/keys/{key}": 404, "/keys/{key}/revoke": 404, "/keys/{key}/reset": 404, "/keys/{key}/delete": 404,
		"/members": 403, "/activity": 403, "/scim": 404,
	} {
		path := "/w/" + e.ws + strings.ReplaceAll(p, "{key}", company.ID)
		if got := e.get(t, hc, path); got.status != want || got.has("Company CRM") {
			t.Errorf("GET %s as member: got %d, want %d without the workspace key", path, got.status, want)
		}
	}
	// Forged posts: the buttons are not shown, and the service refuses anyway.
	for _, action := range []string{"revoke", "reset", "delete", ""} {
		path := "/w/" + e.ws + "/keys/" + company.ID
		if action != "" {
			path += "/" + action
		}
		got := e.post(t, hc, path, url.Values{"name": {"pwned"}})
		if got.status != http.StatusNotFound {
			t.Errorf("forged POST %s by a member: got %d, want 404", path, got.status)
		}
	}
	k, err := e.svc.Key(ctx, e.owner, e.ws, company.ID)
	if err != nil || k.RevokedAt != nil || k.Name != "Company CRM" {
		t.Fatalf("after forged posts: key %+v, err %v; want it unchanged", k, err)
	}
	if got := e.post(t, hc, "/w/"+e.ws+"/settings", url.Values{"max_lifetime": {"10y"}}); got.status != http.StatusForbidden {
		t.Errorf("forged settings POST by a member: got %d, want 403", got.status)
	}
	if got := e.post(t, hc, "/w/"+e.ws+"/members", url.Values{"email": {"x@acme.test"}, "role": {"owner"}}); got.status != http.StatusForbidden {
		t.Errorf("forged member POST by a member: got %d, want 403", got.status)
	}
	// A member's wizard creates personal keys only.
	created := e.post(t, hc, "/w/"+e.ws+"/keys", url.Values{
		"name": {"Sneaky"}, "type": {"public_api"}, "environment": {"production"}, "expires": {"30d"}, "owner": {"workspace"}, "scope": {"items:read"},
	})
	if created.status != http.StatusOK || !created.has("Store your API key") {
		t.Fatalf("member creating a key: got %d", created.status)
	}
	keys, _, _ := e.svc.ListKeys(ctx, e.owner, e.ws, latchkey.KeyFilter{Query: "Sneaky"})
	if len(keys) != 1 || keys[0].Owner != member.UserID {
		t.Errorf("a member's wizard created %+v, want one personal key of theirs", keys)
	}
}

func TestAdminMayNotChangeSettings(t *testing.T) {
	e := newEnv(t)
	e.addMember(t, "ada@acme.test", latchkey.RoleAdmin)
	hc := e.login(t, "ada@acme.test")
	if got := e.get(t, hc, "/w/"+e.ws+"/keys"); got.has("/settings\"") {
		t.Error("an admin sees the Workspace settings link")
	}
	page := e.get(t, hc, "/w/"+e.ws+"/settings")
	if page.status != http.StatusOK || page.has("Save settings") {
		t.Errorf("settings page for an admin: got %d; want it read-only", page.status)
	}
	got := e.post(t, hc, "/w/"+e.ws+"/settings", url.Values{"max_lifetime": {"2y"}, "delete_after_expiry": {"90d"}, "revoked_retention": {"90d"}})
	if got.status != http.StatusForbidden {
		t.Errorf("admin POST settings: got %d, want 403", got.status)
	}
	s, _ := e.svc.Settings(context.Background(), e.owner, e.ws)
	if s.Expiration.MaxLifetime != latchkey.Duration(latchkey.Year) {
		t.Errorf("max lifetime is %s after a refused post, want 1y", s.Expiration.MaxLifetime)
	}
}
