package storetest

import (
	"errors"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

// member stores a new user and makes them a member of ws with role.
func (f *fixture) member(workspaceID, email string, role latchkey.Role) *latchkey.User {
	f.t.Helper()
	u := f.user(email)
	wantCode(f.t, "CreateUser", f.s.CreateUser(f.ctx, u, nil), "")
	m := &latchkey.Member{WorkspaceID: workspaceID, UserID: u.ID, Role: role, Active: true, CreatedAt: now}
	wantCode(f.t, "AddMember", f.s.AddMember(f.ctx, m, f.event(workspaceID, latchkey.EventMemberAdded, u.ID)), "")
	return u
}

// setMember changes a member's role and active flag.
func (f *fixture) setMember(workspaceID, userID string, role latchkey.Role, active bool) (*latchkey.Member, error) {
	return f.s.UpdateMember(f.ctx, workspaceID, userID, func(m *latchkey.Member) (*latchkey.Event, error) {
		m.Role, m.Active = role, active
		return ptr(f.event(workspaceID, latchkey.EventMemberUpdated, userID)), nil
	})
}

func testMembers(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("AddMember", func(t *testing.T) {
		f := newFixture(t, open)
		a, ownerA := f.workspace("A", "a@example.com")
		b, _ := f.workspace("B", "b@example.com")
		ann := f.member(a.ID, "ann@example.com", latchkey.RoleAdmin)
		got, err := f.s.Member(f.ctx, a.ID, ann.ID)
		wantCode(t, "Member", err, "")
		wantSame(t, "Member", got, &latchkey.Member{WorkspaceID: a.ID, UserID: ann.ID, Email: ann.Email, Name: ann.Name,
			Role: latchkey.RoleAdmin, Active: true, CreatedAt: now})
		if evs := f.eventsFor(a.ID, ann.ID); len(evs) != 1 || evs[0] != latchkey.EventMemberAdded {
			t.Fatalf("events: got %v, want [%s]", evs, latchkey.EventMemberAdded)
		}
		if ms, _ := f.s.Members(f.ctx, a.ID); len(ms) != 2 {
			t.Fatalf("Members(A): got %d, want 2", len(ms))
		}
		if ms, _ := f.s.Members(f.ctx, b.ID); len(ms) != 1 {
			t.Fatalf("Members(B): got %d, want 1 (nothing crosses workspaces)", len(ms))
		}

		// The owner of A may also join B; Memberships lists both.
		m := &latchkey.Member{WorkspaceID: b.ID, UserID: ownerA.ID, Role: latchkey.RoleMember, Active: true, CreatedAt: now}
		wantCode(t, "AddMember(owner of A to B)", f.s.AddMember(f.ctx, m, f.event(b.ID, latchkey.EventMemberAdded, ownerA.ID)), "")
		if m.Email != ownerA.Email || m.Name != ownerA.Name {
			t.Fatalf("AddMember: got email %q name %q, want %q %q filled in", m.Email, m.Name, ownerA.Email, ownerA.Name)
		}
		if ms, _ := f.s.Memberships(f.ctx, ownerA.ID); len(ms) != 2 {
			t.Fatalf("Memberships: got %d, want 2", len(ms))
		}

		tests := []struct {
			name string
			m    latchkey.Member
			want latchkey.Code
		}{
			{"already a member", latchkey.Member{WorkspaceID: a.ID, UserID: ann.ID, Role: latchkey.RoleMember}, latchkey.ECONFLICT},
			{"unknown user", latchkey.Member{WorkspaceID: a.ID, UserID: f.ids.New(id.User), Role: latchkey.RoleMember}, latchkey.ENOTFOUND},
			{"unknown workspace", latchkey.Member{WorkspaceID: f.ids.New(id.Workspace), UserID: ann.ID, Role: latchkey.RoleMember}, latchkey.ENOTFOUND},
			{"unknown role", latchkey.Member{WorkspaceID: b.ID, UserID: ann.ID, Role: "root"}, latchkey.EINVALID},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m := tt.m
				m.Active, m.CreatedAt = true, now
				ev := f.event(m.WorkspaceID, latchkey.EventMemberAdded, "failed-add")
				wantCode(t, "AddMember", f.s.AddMember(f.ctx, &m, ev), tt.want)
				if evs := f.eventsFor(m.WorkspaceID, "failed-add"); len(evs) != 0 {
					t.Fatalf("events: got %v, want none", evs)
				}
			})
		}
	})

	t.Run("UpdateMember", func(t *testing.T) {
		errNo := errors.New("refused")
		tests := []struct {
			name  string
			fn    func(f *fixture, m *latchkey.Member) (*latchkey.Event, error)
			code  latchkey.Code // of the store's refusal
			fnErr bool          // fn fails: its error comes back unchanged
			want  func(old latchkey.Member) latchkey.Member
		}{
			{"promote", func(f *fixture, m *latchkey.Member) (*latchkey.Event, error) {
				m.Role = latchkey.RoleSuperAdmin
				return ptr(f.event(m.WorkspaceID, latchkey.EventMemberUpdated, m.UserID)), nil
			}, "", false, func(old latchkey.Member) latchkey.Member { old.Role = latchkey.RoleSuperAdmin; return old }},
			{"deactivate", func(f *fixture, m *latchkey.Member) (*latchkey.Event, error) {
				m.Active = false
				return ptr(f.event(m.WorkspaceID, latchkey.EventMemberUpdated, m.UserID)), nil
			}, "", false, func(old latchkey.Member) latchkey.Member { old.Active = false; return old }},
			{"only role and active change", func(f *fixture, m *latchkey.Member) (*latchkey.Event, error) {
				ev := f.event("", latchkey.EventMemberUpdated, m.UserID)
				m.WorkspaceID, m.UserID, m.Email, m.Name, m.CreatedAt = "ws_other", "usr_other", "x@example.com", "X", now.Add(1)
				m.Role = latchkey.RoleMember
				return &ev, nil
			}, "", false, func(old latchkey.Member) latchkey.Member { old.Role = latchkey.RoleMember; return old }},
			{"nil event", func(f *fixture, m *latchkey.Member) (*latchkey.Event, error) {
				m.Role = latchkey.RoleOwner
				return nil, nil
			}, "", false, func(old latchkey.Member) latchkey.Member { return old }},
			{"fn error", func(f *fixture, m *latchkey.Member) (*latchkey.Event, error) {
				m.Role = latchkey.RoleOwner
				return ptr(f.event(m.WorkspaceID, latchkey.EventMemberUpdated, m.UserID)), errNo
			}, "", true, nil},
			{"unknown role", func(f *fixture, m *latchkey.Member) (*latchkey.Event, error) {
				m.Role = "root"
				return ptr(f.event(m.WorkspaceID, latchkey.EventMemberUpdated, m.UserID)), nil
			}, latchkey.EINVALID, false, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				ws, _ := f.workspace("A", "a@example.com")
				ann := f.member(ws.ID, "ann@example.com", latchkey.RoleAdmin)
				old, err := f.s.Member(f.ctx, ws.ID, ann.ID)
				wantCode(t, "Member", err, "")
				got, err := f.s.UpdateMember(f.ctx, ws.ID, ann.ID, func(m *latchkey.Member) (*latchkey.Event, error) {
					wantSame(t, "member passed to fn", m, old)
					return tt.fn(f, m)
				})
				if tt.fnErr && err != errNo {
					t.Fatalf("UpdateMember: got error %v, want fn's error unchanged", err)
				}
				if !tt.fnErr {
					wantCode(t, "UpdateMember", err, tt.code)
				}
				read, rerr := f.s.Member(f.ctx, ws.ID, ann.ID)
				wantCode(t, "Member", rerr, "")
				events := 1
				if tt.code != "" || tt.fnErr {
					wantSame(t, "member after a failed update", read, old)
				} else {
					want := tt.want(*old)
					wantSame(t, "returned member", got, &want)
					wantSame(t, "stored member", read, &want)
					if *read != *old {
						events = 2
					}
				}
				if evs := f.eventsFor(ws.ID, ann.ID); len(evs) != events {
					t.Fatalf("events: got %v, want %d", evs, events)
				}
			})
		}

		f := newFixture(t, open)
		a, ownerA := f.workspace("A", "a@example.com")
		b, _ := f.workspace("B", "b@example.com")
		for _, c := range []struct{ ws, user string }{{b.ID, ownerA.ID}, {a.ID, f.ids.New(id.User)}, {f.ids.New(id.Workspace), ownerA.ID}} {
			_, err := f.s.UpdateMember(f.ctx, c.ws, c.user, func(*latchkey.Member) (*latchkey.Event, error) {
				t.Fatalf("UpdateMember called fn for a user who is not a member")
				return nil, nil
			})
			wantCode(t, "UpdateMember(not a member)", err, latchkey.ENOTFOUND)
			wantCode(t, "RemoveMember(not a member)",
				f.removeMember(c.ws, c.user, f.event(c.ws, latchkey.EventMemberRemoved, c.user)), latchkey.ENOTFOUND)
		}
	})

	t.Run("RemoveMember", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		ann := f.member(ws.ID, "ann@example.com", latchkey.RoleAdmin)
		k := f.key(ws.ID, "ann's", func(k *latchkey.Key) { k.Owner = ann.ID })
		wantCode(t, "RemoveMember", f.removeMember(ws.ID, ann.ID, f.event(ws.ID, latchkey.EventMemberRemoved, ann.ID)), "")
		_, err := f.s.Member(f.ctx, ws.ID, ann.ID)
		wantCode(t, "Member(removed)", err, latchkey.ENOTFOUND)
		if ms, _ := f.s.Memberships(f.ctx, ann.ID); len(ms) != 0 {
			t.Fatalf("Memberships(removed): got %v, want none", ms)
		}
		// The user and their keys stay.
		_, err = f.s.User(f.ctx, ann.ID)
		wantCode(t, "User(removed member)", err, "")
		got, err := f.s.Key(f.ctx, ws.ID, k.ID)
		if err != nil || got.OwnerActive {
			t.Fatalf("Key of a removed member: got %v, %v, want the key with owner inactive", got, err)
		}
		if evs := f.eventsFor(ws.ID, ann.ID); len(evs) != 2 || evs[0] != latchkey.EventMemberRemoved {
			t.Fatalf("events: got %v, want [%s %s]", evs, latchkey.EventMemberRemoved, latchkey.EventMemberAdded)
		}
		wantCode(t, "RemoveMember(again)", f.removeMember(ws.ID, ann.ID, f.event(ws.ID, latchkey.EventMemberRemoved, ann.ID)), latchkey.ENOTFOUND)
		if evs := f.eventsFor(ws.ID, ann.ID); len(evs) != 2 {
			t.Fatalf("events after a failed remove: got %v, want 2", evs)
		}
	})

	t.Run("LastOwner", testLastOwner(open))
	t.Run("OwnerActive", testOwnerActive(open))
}
