package console_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// wizardForm is a complete wizard post for a public API key.
func wizardForm(name string, extra url.Values) url.Values {
	f := url.Values{"owner": {"workspace"}, "name": {name}, "type": {"public_api"}, "environment": {"production"}, "expires": {"30d"}}
	for k, v := range extra {
		f[k] = v
	}
	return f
}

// keyNamed finds the workspace's key called name, or nil.
func (e *env) keyNamed(t *testing.T, name string) *latchkey.Key {
	t.Helper()
	keys, _, err := e.svc.ListKeys(context.Background(), e.owner, e.ws, latchkey.KeyFilter{Query: name, Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k.Name == name {
			return k
		}
	}
	return nil
}

// TestPermissionGridOffersLevelsPerResource: step 2 shows one radio group
// per resource with the levels its scopes allow: Read only where the
// catalog has only a read scope, Read and write where it has both, and a
// management key's leaks:report as None / Report.
func TestPermissionGridOffersLevelsPerResource(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	step2 := e.post(t, hc, "/w/"+e.ws+"/keys/new", wizardForm("Grid", nil))
	if step2.status != http.StatusOK {
		t.Fatalf("step 2: got %d, want 200", step2.status)
	}
	for _, want := range []string{
		`name="perm.items" value=""`, `name="perm.items" value="items:read"`,
		`name="perm.integrations" value="integrations:read integrations:write"`,
		`<legend>Automated jobs</legend>`, `>Read and write</label>`,
	} {
		if !step2.has(want) {
			t.Errorf("step 2 lacks %q", want)
		}
	}
	if step2.has(`items:write`) || step2.has(`type="checkbox" id="scope-`) {
		t.Error("step 2 offers a write level for a read-only resource, or the old flat checkbox list")
	}
	if !step2.has(`id="perm-items-none" name="perm.items" value="" checked`) {
		t.Error("a new key's resources do not start at None")
	}

	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "Scanner", Type: latchkey.TypeManagement, Owner: latchkey.OwnerWorkspace, Scopes: []string{"leaks:report", "keys:read"}})
	page := e.get(t, hc, "/w/"+e.ws+"/keys/"+k.ID)
	for _, want := range []string{
		`name="perm.leaks" value="leaks:report" checked`, `>Report</label>`,
		`name="perm.keys" value="keys:read" checked`, `name="perm.vaults" value="" checked`,
	} {
		if !page.has(want) {
			t.Errorf("the management key's page lacks %q", want)
		}
	}
}

// TestPermissionGridPostsScopes: the grid's radios post the scopes of
// the chosen level, so the wizard creates the key with exactly them and
// the key page saves a change of level, without JavaScript.
func TestPermissionGridPostsScopes(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws
	got := e.post(t, hc, base+"/keys", wizardForm("Grid", url.Values{
		"perm.items": {"items:read"}, "perm.integrations": {"integrations:read integrations:write"}, "perm.users": {""},
	}))
	if got.status != http.StatusOK || !got.has(`id="secret"`) {
		t.Fatalf("creating through the grid: got %d, want the secret page", got.status)
	}
	k := e.keyNamed(t, "Grid")
	if want := []string{"items:read", "integrations:read", "integrations:write"}; k == nil || !sameSet(k.Scopes, want) {
		t.Fatalf("the created key: %+v, want scopes %v", k, want)
	}
	got = e.post(t, hc, base+"/keys/"+k.ID, url.Values{"name": {"Grid"}, "perm.items": {""}, "perm.integrations": {"integrations:read"}})
	if got.status != http.StatusSeeOther {
		t.Fatalf("saving the key page: got %d, want 303", got.status)
	}
	if k = e.keyNamed(t, "Grid"); !sameSet(k.Scopes, []string{"integrations:read"}) {
		t.Errorf("after lowering the levels: scopes %v, want [integrations:read]", k.Scopes)
	}
}

// TestPermissionGridKeepsWriteOnly: a key given a write scope without its
// read scope through the API shows "Write only" checked, so saving its
// page unchanged neither widens nor narrows it.
func TestPermissionGridKeepsWriteOnly(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "Writer", Owner: latchkey.OwnerWorkspace, Scopes: []string{"integrations:write"}})
	page := e.get(t, hc, "/w/"+e.ws+"/keys/"+k.ID)
	if !page.has(`name="perm.integrations" value="integrations:write" checked`) || !page.has(">Write only</label>") {
		t.Fatal("a write-only key's page does not show Write only checked")
	}
	if other := e.get(t, hc, "/w/"+e.ws+"/keys/new"); other.has("Write only") {
		t.Error("the wizard offers Write only, which only keys made elsewhere hold")
	}
}

// TestPermissionGridRefusesForeignScopes is the attack of a crafted post:
// a grid value naming a scope of another type (a management scope on a
// public API key) is refused and the key keeps its scopes.
func TestPermissionGridRefusesForeignScopes(t *testing.T) {
	e := newEnv(t)
	mel := e.addMember(t, "mel@acme.test", latchkey.RoleMember)
	k, _ := e.createKey(t, mel, manage.CreateKey{Name: "Mine", Owner: "me", Scopes: []string{"items:read"}})
	hc := e.login(t, "mel@acme.test")
	got := e.post(t, hc, "/w/"+e.ws+"/keys/"+k.ID, url.Values{"name": {"Mine"}, "perm.items": {"items:read keys:write members:write"}})
	if got.status != http.StatusUnprocessableEntity {
		t.Fatalf("a foreign scope in the grid: got %d, want 422", got.status)
	}
	after, err := e.svc.Key(context.Background(), e.owner, e.ws, k.ID)
	if err != nil || !sameSet(after.Scopes, []string{"items:read"}) {
		t.Errorf("after the refused post: %v %v, want [items:read]", after.Scopes, err)
	}
}

// TestWizardAsksBeforeCreatingWithoutScopes: Generate with no scope
// chosen brings the form back with a notice and a "Create without
// scopes" button, and creates nothing until that button is used.
func TestWizardAsksBeforeCreatingWithoutScopes(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws
	got := e.post(t, hc, base+"/keys", wizardForm("Bare", url.Values{"perm.items": {""}}))
	if got.status != http.StatusUnprocessableEntity || !got.has("Create without scopes") || !got.has(`name="no_scopes" value="confirmed"`) {
		t.Fatalf("no scopes: got %d, want the form back with a Create without scopes button", got.status)
	}
	if !got.has(`value="Bare"`) || got.has(`id="secret"`) {
		t.Error("the confirmation lost the wizard's details or shows a secret")
	}
	if k := e.keyNamed(t, "Bare"); k != nil {
		t.Fatalf("a key was created before the confirmation: %+v", k)
	}
	got = e.post(t, hc, base+"/keys", wizardForm("Bare", url.Values{"perm.items": {""}, "no_scopes": {"confirmed"}}))
	if got.status != http.StatusOK || !got.has(`id="secret"`) {
		t.Fatalf("confirmed: got %d, want the secret page", got.status)
	}
	if k := e.keyNamed(t, "Bare"); k == nil || len(k.Scopes) != 0 {
		t.Fatalf("after confirming: %+v, want a key without scopes", k)
	}
	// Types without scopes (on-premise) are not asked.
	got = e.post(t, hc, base+"/keys", url.Values{"owner": {"workspace"}, "name": {"Box"}, "type": {"on_premise"}, "environment": {"production"}, "expires": {"30d"}})
	if got.status != http.StatusOK || got.has("Create without scopes") {
		t.Errorf("an on-premise key: got %d, want it created without the question", got.status)
	}
}

// TestWizardDoneHighlightsTheNewKey: the secret page keeps API keys
// highlighted in the sidebar, and its Done leads to the table with a
// "Key created" notice and the new key's row marked.
func TestWizardDoneHighlightsTheNewKey(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws
	e.createKey(t, e.owner, manage.CreateKey{Name: "Older", Owner: latchkey.OwnerWorkspace})
	got := e.post(t, hc, base+"/keys", wizardForm("Fresh", url.Values{"perm.items": {"items:read"}}))
	k := e.keyNamed(t, "Fresh")
	if k == nil {
		t.Fatal("the wizard created no key")
	}
	if !got.has(`href="` + base + `/keys" aria-current="page"`) {
		t.Error("the wizard's last step highlights no sidebar item")
	}
	if !got.has(`name="created" value="`+k.ID+`"`) || !got.has(`name="done" value="created"`) {
		t.Error("Done does not carry the new key to the table")
	}
	list := e.get(t, hc, base+"/keys?done=created&created="+url.QueryEscape(k.ID))
	if !list.has("Key created") || strings.Count(list.body, `class="created"`) != 1 || !list.has(`id="created-key"`) {
		t.Fatal("the table after Done lacks the notice or the one highlighted row")
	}
	row := list.body[strings.Index(list.body, `id="created-key"`):]
	if !strings.Contains(row[:strings.Index(row, "</tr>")], "Fresh") {
		t.Error("the highlighted row is not the new key's")
	}
	// A personal key's last step keeps Profile settings highlighted, and
	// Done leads to the profile's table.
	mine := e.post(t, hc, base+"/keys", wizardForm("Mine", url.Values{"owner": {"me"}, "perm.items": {"items:read"}}))
	if !mine.has(`href="`+base+`/profile/keys" aria-current="page"`) || !mine.has(`action="`+base+`/profile/keys"`) {
		t.Error("a personal key's last step does not belong to Profile settings")
	}
	// Without the notice a link cannot mark rows.
	if plain := e.get(t, hc, base+"/keys?created="+url.QueryEscape(k.ID)); plain.has(`id="created-key"`) {
		t.Error("a bare created= parameter highlights a row")
	}
}

func sameSet(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, s := range a {
		if !slices.Contains(b, s) {
			return false
		}
	}
	return true
}
