package console_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

const wantCSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

func checkPageHeaders(t *testing.T, what string, a answer) {
	t.Helper()
	if got := a.header.Get("Content-Security-Policy"); got != wantCSP {
		t.Errorf("%s: got CSP %q, want %q", what, got, wantCSP)
	}
	if got := a.header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("%s: got Cache-Control %q, want no-store", what, got)
	}
	if strings.Contains(a.body, "<script>") || strings.Contains(a.body, " style=") || strings.Contains(a.body, " onclick=") {
		t.Errorf("%s: the page has inline script or style, which the CSP forbids", what)
	}
}

func TestEveryPageRendersForTheOwner(t *testing.T) {
	e := newEnv(t)
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "CRM", Scopes: []string{"items:read"}})
	scim, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "Okta", Type: "scim"})
	hc := e.login(t, "owner@acme.test")
	paths := append([]string{"/login", "/no-such-page", "/w/{ws}/keys/" + scim.ID, "/w/{ws}/keys/new?owner=me", "/w/{ws}/keys/new?type=scim",
		"/w/{ws}/keys?status=active&type=public_api&environment=production&owner=workspace&q=CR"}, pagePaths...)
	for _, p := range paths {
		path := fill(p, e.ws, k.ID)
		t.Run(path, func(t *testing.T) {
			got := e.get(t, hc, path)
			want := http.StatusOK
			switch p {
			case "/login":
				want = http.StatusSeeOther // already logged in
			case "/no-such-page":
				want = http.StatusNotFound
			}
			if got.status != want {
				t.Fatalf("got %d, want %d; body %s", got.status, want, got.body)
			}
			if want == http.StatusSeeOther {
				return
			}
			checkPageHeaders(t, path, got)
			if !got.has(`<html lang="en">`) || !got.has(`href="#main"`) || !got.has(`<main id="main"`) {
				t.Error("the page lacks lang, the skip link or the main landmark")
			}
		})
	}
	list := e.get(t, hc, "/w/"+e.ws+"/keys")
	for _, want := range []string{"CRM", k.Start + "…", "items:read", "status-active", ">Active<", "Create API key"} {
		if !list.has(want) {
			t.Errorf("the keys table lacks %q", want)
		}
	}
}

func TestAssetsAreEmbedded(t *testing.T) {
	e := newEnv(t)
	hc := e.client(t)
	for path, want := range map[string]string{
		"/assets/htmx.min.js": "text/javascript", "/assets/console.js": "text/javascript", "/assets/console.css": "text/css",
	} {
		got := e.get(t, hc, path)
		if got.status != http.StatusOK || !strings.HasPrefix(got.header.Get("Content-Type"), want) || len(got.body) < 100 {
			t.Errorf("GET %s: got %d %q (%d bytes), want 200 %s", path, got.status, got.header.Get("Content-Type"), len(got.body), want)
		}
	}
	if got := e.get(t, hc, "/assets/nope.js"); got.status != http.StatusNotFound {
		t.Errorf("unknown asset: got %d, want 404", got.status)
	}
}

var tokenPattern = regexp.MustCompile(`lk_(prod|demo)_[0-9A-Za-z]{38}`)

func TestWizardShowsTheSecretOnlyOnStep3(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws
	step1 := url.Values{
		"owner": {"workspace"}, "name": {"Salesforce CRM"}, "description": {"sync"}, "type": {"on_premise"},
		"environment": {"demo"}, "expires": {"90d"}, "callback_url": {"https://crm.example.com/hook"},
	}
	step2 := e.post(t, hc, base+"/keys/new", step1)
	if step2.status != http.StatusOK || !step2.has("Retrieve signatures") || !step2.has(`name="name" value="Salesforce CRM"`) {
		t.Fatalf("step 2: got %d, want the type's settings and step 1 kept in hidden fields; body %s", step2.status, step2.body)
	}
	form := url.Values{}
	for k, v := range step1 {
		form[k] = v
	}
	form.Set("setting.retrieve_signatures", "true")
	step3 := e.post(t, hc, base+"/keys", form)
	if step3.status != http.StatusOK {
		t.Fatalf("step 3: got %d; body %s", step3.status, step3.body)
	}
	checkPageHeaders(t, "step 3", step3)
	secret := tokenPattern.FindString(step3.body)
	if secret == "" || !strings.HasPrefix(secret, "lk_demo_") {
		t.Fatalf("step 3 shows no demo secret; body %s", step3.body)
	}
	if !step3.has("I have stored the key in a safe place") || !step3.has(`data-enables="#done"`) {
		t.Error("step 3 lacks the stored-key checkbox that enables Done")
	}
	keys, _, _ := e.svc.ListKeys(context.Background(), e.owner, e.ws, latchkey.KeyFilter{})
	if len(keys) != 1 || keys[0].Settings["retrieve_signatures"] != true || keys[0].Environment != latchkey.Demo || keys[0].CallbackURL == "" {
		t.Fatalf("created %+v, want one demo on-premise key retrieving signatures", keys[0])
	}
	k := keys[0]
	pages := []string{"/keys", "/keys/" + k.ID, "/keys/" + k.ID + "/reset", "/keys/" + k.ID + "/revoke", "/activity", "/profile/keys", "/scim"}
	for _, p := range pages {
		if got := e.get(t, hc, base+p); strings.Contains(got.body, secret) || tokenPattern.MatchString(got.body) {
			t.Errorf("GET %s shows a secret", p)
		}
	}
	// A reset shows the new secret once, in the same view, and nowhere after.
	reset := e.post(t, hc, base+"/keys/"+k.ID+"/reset", url.Values{"grace_period": {"1h"}})
	newSecret := tokenPattern.FindString(reset.body)
	if reset.status != http.StatusOK || newSecret == "" || newSecret == secret || !reset.has("I have stored the key in a safe place") {
		t.Fatalf("reset: got %d and secret %q; want a new secret in the step-3 view", reset.status, newSecret)
	}
	checkPageHeaders(t, "reset", reset)
	if got := e.get(t, hc, base+"/keys/"+k.ID); tokenPattern.MatchString(got.body) {
		t.Error("the key page shows a secret after a reset")
	}
}

func TestValidationErrorsStayOnTheForm(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws
	got := e.post(t, hc, base+"/keys/new", url.Values{
		"owner": {"workspace"}, "name": {"  "}, "description": {"kept description"}, "type": {"public_api"},
		"environment": {"production"}, "expires": {"custom"}, "expires_at": {"2001-01-01T00:00"}, "callback_url": {"http://example.com/hook"},
	})
	if got.status != http.StatusUnprocessableEntity {
		t.Fatalf("got %d, want 422", got.status)
	}
	for _, want := range []string{
		`id="name-error"`, "Name must be 1 to 100 characters", `id="callback_url-error"`, `id="expires_at-error"`,
		"kept description", `value="http://example.com/hook"`, `aria-invalid="true"`,
	} {
		if !got.has(want) {
			t.Errorf("the refused step 1 lacks %q", want)
		}
	}
	// An error from the service on create goes back to the step that has the field.
	got = e.post(t, hc, base+"/keys", url.Values{
		"owner": {"workspace"}, "name": {"Ok"}, "type": {"public_api"}, "environment": {"production"},
		"expires": {"5y"}, "scope": {"items:read"},
	})
	if got.status != http.StatusUnprocessableEntity || !got.has(`id="expires-error"`) || !got.has("maximum lifetime") {
		t.Errorf("too long a lifetime: got %d, want step 1 with the error next to the expiration", got.status)
	}
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "CRM"})
	got = e.post(t, hc, base+"/keys/"+k.ID, url.Values{"name": {"Renamed"}, "callback_url": {"ftp://nope"}})
	if got.status != http.StatusUnprocessableEntity || !got.has(`id="callback_url-error"`) || !got.has(`value="Renamed"`) {
		t.Errorf("bad callback URL on the key page: got %d, want the error next to the field with the input kept", got.status)
	}
	got = e.post(t, hc, base+"/keys/"+k.ID, url.Values{"name": {"Renamed"}, "scope": {"items:read", "users:read"}})
	if got.status != http.StatusSeeOther {
		t.Fatalf("saving the key: got %d, want 303", got.status)
	}
	if k, _ := e.svc.Key(context.Background(), e.owner, e.ws, k.ID); k.Name != "Renamed" || len(k.Scopes) != 2 {
		t.Errorf("after saving: %+v, want renamed with two scopes", k)
	}
}

func TestRevokeAndDeleteNeedConfirmation(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "CRM"})
	base := "/w/" + e.ws + "/keys/" + k.ID
	if got := e.get(t, hc, base+"/revoke"); !got.has("Revoke permanently") {
		t.Error("the revoke confirmation lacks the Revoke permanently button")
	}
	if got := e.post(t, hc, base+"/revoke", nil); got.status != http.StatusSeeOther {
		t.Fatalf("revoke: got %d, want 303", got.status)
	}
	page := e.get(t, hc, base+"?done=revoked")
	if !page.has(">Revoked<") || page.has("/revoke\"") || page.has("Save changes") {
		t.Error("a revoked key's page still offers revoking or editing, or lacks the Revoked status")
	}
	if got := e.post(t, hc, base+"/delete", nil); got.status != http.StatusSeeOther {
		t.Fatalf("delete: got %d, want 303", got.status)
	}
	if got := e.get(t, hc, base); got.status != http.StatusNotFound {
		t.Errorf("a deleted key's page: got %d, want 404", got.status)
	}
}
