package console_test

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/latchkey/latchkey"
)

// TestForbiddenSaysWhichRole is a member forging the settings form: the
// 403 page says in a sentence which role the change needs, inside the
// page's card under its heading, never the API's raw wording.
func TestForbiddenSaysWhichRole(t *testing.T) {
	e := newEnv(t)
	e.addMember(t, "mel@acme.test", latchkey.RoleMember)
	hc := e.login(t, "mel@acme.test")
	got := e.post(t, hc, "/w/"+e.ws+"/settings", url.Values{"presets": {"1d"}})
	if got.status != http.StatusForbidden {
		t.Fatalf("a member's settings post: got %d, want 403", got.status)
	}
	if !got.has("You need the Super admin role to do this.") || got.has("your role (member)") {
		t.Error("the 403 page does not say which role is needed in a sentence")
	}
	if !got.has(`class="page-head"`) || !got.has(`class="card stack error-card"`) || !got.has("Error 403") {
		t.Error("the 403 page is not laid out like the console's pages")
	}
	missing := e.get(t, hc, "/w/"+e.ws+"/keys/key_nope")
	if missing.status != http.StatusNotFound || !missing.has(`class="card stack error-card"`) || !missing.has("Go to API keys") {
		t.Errorf("a missing key: got %d, want the 404 page in the layout with a way back", missing.status)
	}
}
