package storetest

import (
	"fmt"
	"sync"
	"testing"

	"github.com/latchkey/latchkey"
)

// ownerStep is one membership change of a last-owner scenario.
type ownerStep struct {
	op   string // demote, promote, deactivate, activate, remove
	who  string // a member's label
	want latchkey.Code
}

// apply runs a step against the member whose user id is uid.
func (f *fixture) apply(ws, uid string, s ownerStep) error {
	switch s.op {
	case "remove":
		return f.removeMember(ws, uid, f.event(ws, latchkey.EventMemberRemoved, uid))
	default:
		_, err := f.s.UpdateMember(f.ctx, ws, uid, func(m *latchkey.Member) (*latchkey.Event, error) {
			switch s.op {
			case "demote":
				m.Role = latchkey.RoleAdmin
			case "promote":
				m.Role = latchkey.RoleOwner
			case "deactivate":
				m.Active = false
			case "activate":
				m.Active = true
			default:
				panic("unknown step " + s.op)
			}
			return ptr(f.event(ws, latchkey.EventMemberUpdated, uid)), nil
		})
		return err
	}
}

// activeOwners counts the active owners of a workspace.
func (f *fixture) activeOwners(ws string) int {
	f.t.Helper()
	ms, err := f.s.Members(f.ctx, ws)
	wantCode(f.t, "Members", err, "")
	n := 0
	for _, m := range ms {
		if m.Role == latchkey.RoleOwner && m.Active {
			n++
		}
	}
	return n
}

func testLastOwner(open func(t *testing.T) latchkey.Store) func(t *testing.T) {
	return func(t *testing.T) {
		type extra struct {
			role   latchkey.Role
			active bool
		}
		tests := []struct {
			name  string
			extra map[string]extra // members besides "o1", the workspace's creator and owner
			steps []ownerStep
		}{
			{"sole owner cannot be demoted", nil, []ownerStep{{"demote", "o1", latchkey.ECONFLICT}}},
			{"sole owner cannot be deactivated", nil, []ownerStep{{"deactivate", "o1", latchkey.ECONFLICT}}},
			{"sole owner cannot be removed", nil, []ownerStep{{"remove", "o1", latchkey.ECONFLICT}}},
			{"sole owner may stay owner", nil, []ownerStep{{"promote", "o1", ""}, {"activate", "o1", ""}}},
			{"an inactive owner does not count", map[string]extra{"o2": {latchkey.RoleOwner, false}}, []ownerStep{
				{"remove", "o1", latchkey.ECONFLICT}, {"demote", "o1", latchkey.ECONFLICT},
				{"demote", "o2", ""}, {"remove", "o2", ""},
			}},
			{"two owners: one may be demoted", map[string]extra{"o2": {latchkey.RoleOwner, true}}, []ownerStep{
				{"demote", "o1", ""}, {"demote", "o2", latchkey.ECONFLICT}, {"remove", "o2", latchkey.ECONFLICT},
			}},
			{"two owners: one may be removed", map[string]extra{"o2": {latchkey.RoleOwner, true}}, []ownerStep{
				{"remove", "o2", ""}, {"remove", "o1", latchkey.ECONFLICT}, {"deactivate", "o1", latchkey.ECONFLICT},
			}},
			{"two owners: one may be deactivated, then the other once it is back", map[string]extra{"o2": {latchkey.RoleOwner, true}}, []ownerStep{
				{"deactivate", "o1", ""}, {"deactivate", "o2", latchkey.ECONFLICT}, {"remove", "o2", latchkey.ECONFLICT},
				{"activate", "o1", ""}, {"remove", "o2", ""},
			}},
			{"a promoted admin lets the owner go", map[string]extra{"adm": {latchkey.RoleAdmin, true}}, []ownerStep{
				{"remove", "o1", latchkey.ECONFLICT}, {"promote", "adm", ""}, {"remove", "o1", ""},
				{"demote", "adm", latchkey.ECONFLICT},
			}},
			{"other members change freely", map[string]extra{"adm": {latchkey.RoleAdmin, true}}, []ownerStep{
				{"deactivate", "adm", ""}, {"promote", "adm", ""}, {"remove", "adm", ""},
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				ws, o1 := f.workspace("A", "o1@example.com")
				users := map[string]string{"o1": o1.ID}
				for label, e := range tt.extra {
					u := f.member(ws.ID, label+"@example.com", e.role)
					if _, err := f.setMember(ws.ID, u.ID, e.role, e.active); err != nil {
						t.Fatalf("setMember(%s): got %v, want nil", label, err)
					}
					users[label] = u.ID
				}
				for i, s := range tt.steps {
					uid := users[s.who]
					before, _ := f.s.Member(f.ctx, ws.ID, uid)
					evsBefore := f.eventsFor(ws.ID, uid)
					err := f.apply(ws.ID, uid, s)
					wantCode(t, fmt.Sprintf("step %d: %s %s", i, s.op, s.who), err, s.want)
					if s.want != "" {
						after, err := f.s.Member(f.ctx, ws.ID, uid)
						wantCode(t, "Member after a refused change", err, "")
						wantSame(t, "member after a refused change", after, before)
						if evs := f.eventsFor(ws.ID, uid); len(evs) != len(evsBefore) {
							t.Fatalf("events after a refused change: got %v, want %v", evs, evsBefore)
						}
					}
					if n := f.activeOwners(ws.ID); n < 1 {
						t.Fatalf("after step %d: got %d active owners, want at least 1", i, n)
					}
				}
			})
		}

		t.Run("owners of other workspaces do not count", func(t *testing.T) {
			f := newFixture(t, open)
			a, x := f.workspace("A", "x@example.com")
			b := f.workspaceOwnedBy("B", x)
			f.member(b.ID, "y@example.com", latchkey.RoleOwner)
			wantCode(t, "RemoveMember(x from A)", f.removeMember(a.ID, x.ID, f.event(a.ID, latchkey.EventMemberRemoved, x.ID)), latchkey.ECONFLICT)
			wantCode(t, "RemoveMember(x from B)", f.removeMember(b.ID, x.ID, f.event(b.ID, latchkey.EventMemberRemoved, x.ID)), "")
		})
	}
}

// workspaceOwnedBy stores a workspace whose owner is an existing user.
func (f *fixture) workspaceOwnedBy(name string, owner *latchkey.User) *latchkey.Workspace {
	f.t.Helper()
	ws := &latchkey.Workspace{ID: f.ids.New("ws"), Name: name, Settings: latchkey.DefaultSettings(), CreatedAt: now}
	wantCode(f.t, "CreateWorkspace", f.s.CreateWorkspace(f.ctx, ws, owner, f.event(ws.ID, latchkey.EventWorkspaceCreated, ws.ID)), "")
	return ws
}

// testLastOwnersRace lets two requests take away the two last active owners
// at the same moment: exactly one may succeed. Run under -race.
func testLastOwnersRace(t *testing.T, open func(t *testing.T) latchkey.Store) {
	pairs := [][2]string{{"remove", "remove"}, {"remove", "demote"}, {"demote", "deactivate"}, {"deactivate", "deactivate"}}
	f := newFixture(t, open)
	for round := range 5 {
		for _, ops := range pairs {
			ws, o1 := f.workspace(fmt.Sprintf("race %d %v", round, ops), f.ids.New("o1")+"@example.com")
			o2 := f.member(ws.ID, f.ids.New("o2")+"@example.com", latchkey.RoleOwner)
			var wg sync.WaitGroup
			start := make(chan struct{})
			errs := make([]error, 2)
			for i, uid := range []string{o1.ID, o2.ID} {
				wg.Go(func() {
					<-start
					errs[i] = f.apply(ws.ID, uid, ownerStep{op: ops[i]})
				})
			}
			close(start)
			wg.Wait()
			codes := []latchkey.Code{latchkey.ErrorCode(errs[0]), latchkey.ErrorCode(errs[1])}
			if !(codes[0] == "" && codes[1] == latchkey.ECONFLICT) && !(codes[0] == latchkey.ECONFLICT && codes[1] == "") {
				t.Fatalf("round %d %v: got errors %v, %v, want one success and one ECONFLICT", round, ops, errs[0], errs[1])
			}
			if n := f.activeOwners(ws.ID); n != 1 {
				t.Fatalf("round %d %v: got %d active owners, want 1", round, ops, n)
			}
		}
	}
}

func testOwnerActive(open func(t *testing.T) latchkey.Store) func(t *testing.T) {
	return func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		ann := f.member(ws.ID, "ann@example.com", latchkey.RoleMember)
		mine := f.key(ws.ID, "ann's", func(k *latchkey.Key) { k.Owner = ann.ID })
		company := f.key(ws.ID, "company")
		check := func(step string, want bool) {
			t.Helper()
			got, err := f.s.KeyByHash(f.ctx, mine.Hash)
			if err != nil || got.OwnerActive != want {
				t.Fatalf("%s: KeyByHash owner active: got %v (%v), want %v", step, got.OwnerActive, err, want)
			}
			got, err = f.s.Key(f.ctx, ws.ID, mine.ID)
			if err != nil || got.OwnerActive != want {
				t.Fatalf("%s: Key owner active: got %v (%v), want %v", step, got.OwnerActive, err, want)
			}
			// A company key never depends on a member.
			if got, err := f.s.KeyByHash(f.ctx, company.Hash); err != nil || !got.OwnerActive {
				t.Fatalf("%s: company key owner active: got %v (%v), want true", step, got.OwnerActive, err)
			}
		}
		check("active member", true)
		steps := []struct {
			step ownerStep
			want bool
		}{
			{ownerStep{op: "deactivate"}, false},
			{ownerStep{op: "activate"}, true},
			{ownerStep{op: "promote"}, true},
			{ownerStep{op: "deactivate"}, false},
			{ownerStep{op: "activate"}, true},
			{ownerStep{op: "remove"}, false},
		}
		for _, s := range steps {
			wantCode(t, s.step.op, f.apply(ws.ID, ann.ID, s.step), "")
			check(s.step.op, s.want)
		}
		m := &latchkey.Member{WorkspaceID: ws.ID, UserID: ann.ID, Role: latchkey.RoleMember, Active: true, CreatedAt: now}
		wantCode(t, "AddMember(again)", f.s.AddMember(f.ctx, m, f.event(ws.ID, latchkey.EventMemberAdded, ann.ID)), "")
		check("added again", true)
	}
}
