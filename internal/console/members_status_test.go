package console_test

import (
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// An invited member who never signed in shows as Invited, with when the
// invitation expires, has not joined, and is the only one offered a new
// invite link.
func TestMembersInvitedStatus(t *testing.T) {
	e := newEnv(t)
	hc := e.login(t, "owner@acme.test")
	e.addMember(t, "joined@acme.test", latchkey.RoleMember)
	if _, _, err := e.svc.AddMember(t.Context(), e.owner, e.ws, manage.AddMember{Email: "invited@acme.test", Role: latchkey.RoleMember}); err != nil {
		t.Fatal(err)
	}
	page := e.get(t, hc, "/w/"+e.ws+"/members")
	for _, want := range []string{">Invited<", "Invitation expires ", "Not yet", ">Active<"} {
		if !page.has(want) {
			t.Errorf("the members page lacks %q", want)
		}
	}
	if page.has("New invite link for joined@acme.test") || !page.has("New invite link for invited@acme.test") {
		t.Errorf("invite links: want one for the invited member only:\n%s", page.body)
	}
}
