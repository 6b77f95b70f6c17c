package console_test

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// TestKeyPageAllowlist: the key page shows a key's allowed networks and
// edits them; a bad network is shown next to the field with the input
// kept; a form without the field leaves the allowlist alone; a member who
// may not edit the key changes nothing.
func TestKeyPageAllowlist(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "CRM", AllowedIPs: []string{"10.0.0.0/8"}})
	page := "/w/" + e.ws + "/keys/" + k.ID
	if got := e.get(t, hc, page); !got.has(`name="allowed_ips"`) || !got.has("10.0.0.0/8") {
		t.Fatalf("the key page does not show the allowlist")
	}
	stored := func() []string {
		k, err := e.svc.Key(context.Background(), e.owner, e.ws, k.ID)
		if err != nil {
			t.Fatal(err)
		}
		return k.AllowedIPs
	}
	got := e.post(t, hc, page, url.Values{"name": {"CRM"}, "allowed_ips": {"203.0.113.0/24\r\n2001:db8::/32, 192.0.2.7"}})
	if got.status != http.StatusSeeOther {
		t.Fatalf("saving: got %d, want 303", got.status)
	}
	if want := []string{"203.0.113.0/24", "2001:db8::/32", "192.0.2.7/32"}; !slices.Equal(stored(), want) {
		t.Fatalf("allowlist: got %v, want %v", stored(), want)
	}
	got = e.post(t, hc, page, url.Values{"name": {"CRM"}, "allowed_ips": {"10.1.2.3/8"}})
	if got.status != http.StatusUnprocessableEntity || !got.has(`id="allowed_ips-error"`) || !got.has("10.1.2.3/8") {
		t.Fatalf("a bad network: got %d, want the error next to the field with the input kept", got.status)
	}
	if got := e.post(t, hc, page, url.Values{"name": {"CRM renamed"}}); got.status != http.StatusSeeOther || len(stored()) != 3 {
		t.Fatalf("a form without the field: got %d and %v, want the allowlist kept", got.status, stored())
	}

	e.addMember(t, "meg@acme.test", latchkey.RoleMember)
	meg := e.login(t, "meg@acme.test")
	if got := e.post(t, meg, page, url.Values{"name": {"CRM"}, "allowed_ips": {""}}); got.status < 400 {
		t.Fatalf("a member on a workspace key: got %d, want a refusal", got.status)
	}
	if len(stored()) != 3 {
		t.Fatalf("after the member's attempt: got %v, want the allowlist kept", stored())
	}

	if got := e.post(t, hc, page, url.Values{"name": {"CRM"}, "allowed_ips": {""}}); got.status != http.StatusSeeOther || stored() != nil {
		t.Fatalf("clearing: got %d and %v, want no allowlist", got.status, stored())
	}
}
