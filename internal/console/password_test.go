package console_test

import (
	"net/http"
	"net/url"
	"testing"
)

func TestChangePasswordPage(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	other := e.login(t, "owner@acme.test")
	base := "/w/" + e.ws + "/profile/password"
	if got := e.get(t, hc, base); got.status != http.StatusOK || !got.has(`autocomplete="current-password"`) {
		t.Fatalf("the page: %d", got.status)
	}
	if got := e.post(t, hc, base, url.Values{"current_password": {"wrong wrong wrong"}, "new_password": {"a brand new passphrase"}}); got.status != http.StatusUnprocessableEntity || !got.has("current password is wrong") {
		t.Errorf("a wrong current password: got %d", got.status)
	}
	if got := e.post(t, hc, base, url.Values{"current_password": {testPassword}, "new_password": {"a brand new passphrase"}}); got.status != http.StatusSeeOther {
		t.Fatalf("changing: got %d, want 303", got.status)
	}
	if got := e.get(t, hc, "/w/"+e.ws+"/keys"); got.status != http.StatusOK {
		t.Errorf("the session that changed it: got %d, want 200", got.status)
	}
	if got := e.get(t, other, "/w/"+e.ws+"/keys"); got.status == http.StatusOK {
		t.Errorf("another session still works after the change")
	}
}
