package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func (f *fixture) group(ws, name string, members ...string) *latchkey.ScimGroup {
	f.t.Helper()
	g := &latchkey.ScimGroup{WorkspaceID: ws, ID: f.ids.New("grp"), DisplayName: name, Created: now, Updated: now}
	for _, m := range members {
		g.Members = append(g.Members, latchkey.ScimMember{Value: m})
	}
	wantCode(f.t, "CreateScimGroup("+name+")", f.s.CreateScimGroup(f.ctx, g, f.event(ws, latchkey.EventScimGroupCreated, g.ID)), "")
	return g
}

func memberValues(g *latchkey.ScimGroup) []string {
	var out []string
	for _, m := range g.Members {
		out = append(out, m.Value+"="+m.Display)
	}
	return out
}

func testScimGroups(t *testing.T, open func(t *testing.T) latchkey.Store) {
	f := newFixture(t, open)
	a, _ := f.workspace("A", "a@example.com")
	b, _ := f.workspace("B", "b@example.com")
	ann := f.provision(a.ID, "ann@example.com")
	bob := f.provision(a.ID, "bob@example.com")
	stranger := f.provision(b.ID, "zed@example.com")
	ids := []string{ann.UserID, bob.UserID}
	if ids[0] > ids[1] {
		ids[0], ids[1] = ids[1], ids[0]
	}

	eng := f.group(a.ID, "Engineering", ann.UserID)
	got, err := f.s.ScimGroup(f.ctx, a.ID, eng.ID)
	wantCode(t, "ScimGroup", err, "")
	if got.DisplayName != "Engineering" || got.Version != 1 || len(got.Members) != 1 || got.Members[0] != (latchkey.ScimMember{Value: ann.UserID, Display: "ann@example.com"}) {
		t.Fatalf("ScimGroup: got %+v", got)
	}
	_, err = f.s.ScimGroup(f.ctx, b.ID, eng.ID)
	wantCode(t, "ScimGroup(other workspace)", err, latchkey.ENOTFOUND)

	dup := &latchkey.ScimGroup{WorkspaceID: a.ID, ID: f.ids.New("grp"), DisplayName: "ENGINEERING", Created: now, Updated: now}
	wantCode(t, "CreateScimGroup(same name)", f.s.CreateScimGroup(f.ctx, dup, f.event(a.ID, latchkey.EventScimGroupCreated, dup.ID)), latchkey.ECONFLICT)
	foreign := &latchkey.ScimGroup{WorkspaceID: a.ID, ID: f.ids.New("grp"), DisplayName: "Foreign", Created: now, Updated: now,
		Members: []latchkey.ScimMember{{Value: stranger.UserID}}}
	wantCode(t, "CreateScimGroup(member of another workspace)", f.s.CreateScimGroup(f.ctx, foreign, f.event(a.ID, latchkey.EventScimGroupCreated, foreign.ID)), latchkey.EINVALID)
	f.group(b.ID, "Engineering", stranger.UserID) // names are unique per workspace only

	upd := func(fn func(g *latchkey.ScimGroup)) (*latchkey.ScimGroup, error) {
		return f.s.UpdateScimGroup(f.ctx, a.ID, eng.ID, func(g *latchkey.ScimGroup) (*latchkey.Event, error) {
			fn(g)
			g.Updated = now.Add(time.Minute)
			return ptr(f.event(a.ID, latchkey.EventScimGroupUpdated, g.ID)), nil
		})
	}
	got, err = upd(func(g *latchkey.ScimGroup) {
		g.DisplayName = "Eng"
		g.Members = []latchkey.ScimMember{{Value: bob.UserID}, {Value: ann.UserID}, {Value: bob.UserID}}
	})
	wantCode(t, "UpdateScimGroup", err, "")
	if got.DisplayName != "Eng" || got.Version != 2 || len(got.Members) != 2 || got.Members[0].Value != ids[0] {
		t.Fatalf("UpdateScimGroup: got %+v", got)
	}
	_, err = upd(func(g *latchkey.ScimGroup) {
		g.Members = append(g.Members, latchkey.ScimMember{Value: stranger.UserID})
	})
	wantCode(t, "UpdateScimGroup(foreign member)", err, latchkey.EINVALID)
	if got, _ := f.s.ScimGroup(f.ctx, a.ID, eng.ID); len(got.Members) != 2 || got.Version != 2 {
		t.Fatalf("a refused update changed the group: %v", memberValues(got))
	}

	list, total, err := f.s.ScimGroups(f.ctx, latchkey.ScimQuery{WorkspaceID: a.ID, Filter: eq("displayName", latchkey.ScimFolded, "eng"), Limit: 10})
	wantCode(t, "ScimGroups(displayName)", err, "")
	if total != 1 || len(list) != 1 || len(list[0].Members) != 2 {
		t.Fatalf("ScimGroups(displayName): got %d (total %d)", len(list), total)
	}
	list, _, err = f.s.ScimGroups(f.ctx, latchkey.ScimQuery{WorkspaceID: a.ID, WithoutMembers: true, Limit: 10,
		Filter: latchkey.ScimValuePath{Attr: "members", Filter: eq("value", latchkey.ScimExact, bob.UserID)}})
	wantCode(t, "ScimGroups(members.value)", err, "")
	if len(list) != 1 || len(list[0].Members) != 0 {
		t.Fatalf("ScimGroups(members.value, without members): got %+v", list)
	}

	// A member whose membership ends leaves the group.
	wantCode(t, "RemoveMember", f.removeMember(a.ID, bob.UserID, f.event(a.ID, latchkey.EventMemberRemoved, bob.UserID)), "")
	if got, _ := f.s.ScimGroup(f.ctx, a.ID, eng.ID); len(got.Members) != 1 || got.Members[0].Value != ann.UserID {
		t.Fatalf("after RemoveMember: got %v", memberValues(got))
	}
	wantCode(t, "DeleteScimGroup", f.s.DeleteScimGroup(f.ctx, a.ID, eng.ID, f.event(a.ID, latchkey.EventScimGroupDeleted, eng.ID)), "")
	wantCode(t, "DeleteScimGroup(again)", f.s.DeleteScimGroup(f.ctx, a.ID, eng.ID, f.event(a.ID, latchkey.EventScimGroupDeleted, eng.ID)), latchkey.ENOTFOUND)
}
