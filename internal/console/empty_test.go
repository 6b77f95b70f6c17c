package console_test

import (
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// TestEmptyStates: every list of a new workspace says what is missing
// and what to do, and a key without usage shows a message, not bare axes.
func TestEmptyStates(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws
	for _, tc := range []struct{ path, want string }{
		{base + "/keys", "No API keys yet."},
		{base + "/keys?q=nothing-like-this", "No key matches these filters."},
		{base + "/profile/keys", "Create your first key"},
		{base + "/activity?target=key_none", "No events to show."},
		{base + "/outbox", "No mail yet."},
		{base + "/scim", "No SCIM keys yet."},
	} {
		page := e.get(t, hc, tc.path)
		if page.status != 200 || !page.has(tc.want) || !page.has(`class="empty-title"`) {
			t.Errorf("GET %s: got %d, want an empty state saying %q", tc.path, page.status, tc.want)
		}
	}
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "Unused", Owner: latchkey.OwnerWorkspace})
	page := e.get(t, hc, base+"/keys/"+k.ID)
	if !page.has("No verifications in the last 30 days.") || page.has(`<svg class="chart"`) {
		t.Error("a key without usage shows a chart's bare axes instead of saying it has no usage")
	}
}
