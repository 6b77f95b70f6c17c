package console_test

import (
	"testing"

	"github.com/latchkey/latchkey/internal/manage"
)

// A 30-day key under the default 30-day notice window was made inside the
// window: the console shows it active, with its expiry as people say it.
func TestNewKeyInsideItsNoticeWindowIsActive(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "Thirty days", Owner: "workspace", ExpiresIn: "30d"})
	list := e.get(t, hc, "/w/"+e.ws+"/keys")
	if !list.has("status-active") || list.has("status-expiring") {
		t.Errorf("the keys table shows a new 30-day key as expiring:\n%s", list.body)
	}
	page := e.get(t, hc, "/w/"+e.ws+"/keys/"+k.ID)
	if !page.has("(in 30 days)") || !page.has(">Active<") {
		t.Errorf("the key page lacks \"(in 30 days)\" or the Active status:\n%s", page.body)
	}
}
