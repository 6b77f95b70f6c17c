package storetest

import (
	"errors"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

func testWorkspaces(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("Initialized", func(t *testing.T) {
		tests := []struct {
			name string
			fill func(f *fixture)
			want bool
		}{
			{"empty", func(f *fixture) {}, false},
			{"a plain user", func(f *fixture) { f.s.CreateUser(f.ctx, f.user("ann@example.com"), nil) }, false},
			{"an operator", func(f *fixture) {
				u := f.user("op@example.com")
				u.Operator = true
				f.s.CreateUser(f.ctx, u, nil)
			}, true},
			{"a workspace", func(f *fixture) { f.workspace("Acme", "owner@acme.test") }, true},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				tt.fill(f)
				got, err := f.s.Initialized(f.ctx)
				if err != nil || got != tt.want {
					t.Fatalf("Initialized: got %v, %v, want %v, nil", got, err, tt.want)
				}
			})
		}
	})

	t.Run("CreateAndRead", func(t *testing.T) {
		f := newFixture(t, open)
		ws, owner := f.workspace("Acme", "owner@acme.test")
		got, err := f.s.Workspace(f.ctx, ws.ID)
		wantCode(t, "Workspace", err, "")
		wantSame(t, "Workspace", got, ws)

		m, err := f.s.Member(f.ctx, ws.ID, owner.ID)
		wantCode(t, "Member", err, "")
		want := &latchkey.Member{WorkspaceID: ws.ID, UserID: owner.ID, Email: owner.Email, Name: owner.Name,
			Role: latchkey.RoleOwner, Active: true, CreatedAt: now}
		wantSame(t, "Member", m, want)

		u, err := f.s.User(f.ctx, owner.ID)
		wantCode(t, "User", err, "")
		wantSame(t, "User", u, owner)

		if got := f.eventsFor(ws.ID, ws.ID); len(got) != 1 || got[0] != latchkey.EventWorkspaceCreated {
			t.Fatalf("events: got %v, want [%s]", got, latchkey.EventWorkspaceCreated)
		}
		_, err = f.s.Workspace(f.ctx, f.ids.New(id.Workspace))
		wantCode(t, "Workspace(unknown)", err, latchkey.ENOTFOUND)
	})

	t.Run("ExistingOwner", func(t *testing.T) {
		f := newFixture(t, open)
		a, owner := f.workspace("A", "owner@example.com")
		b := &latchkey.Workspace{ID: f.ids.New(id.Workspace), Name: "B", Settings: latchkey.DefaultSettings(), CreatedAt: now.Add(latchkey.Day)}
		// The stored user wins: a different email on the passed owner is ignored.
		again := *owner
		again.Email = "someone-else@example.com"
		err := f.s.CreateWorkspace(f.ctx, b, &again, f.event(b.ID, latchkey.EventWorkspaceCreated, b.ID))
		wantCode(t, "CreateWorkspace(existing owner)", err, "")
		ms, err := f.s.Memberships(f.ctx, owner.ID)
		wantCode(t, "Memberships", err, "")
		if len(ms) != 2 || ms[0].WorkspaceID != a.ID || ms[1].WorkspaceID != b.ID {
			t.Fatalf("Memberships: got %d (%v), want [%s %s]", len(ms), ms, a.ID, b.ID)
		}
		if ms[1].Email != owner.Email {
			t.Fatalf("Memberships email: got %s, want %s", ms[1].Email, owner.Email)
		}
		list, err := f.s.Workspaces(f.ctx)
		if err != nil || len(list) != 2 || list[0].ID != a.ID || list[1].ID != b.ID {
			t.Fatalf("Workspaces: got %d, %v, want [%s %s] oldest first", len(list), err, a.ID, b.ID)
		}
	})

	t.Run("Conflicts", func(t *testing.T) {
		tests := []struct {
			name  string
			build func(f *fixture, ws *latchkey.Workspace, owner *latchkey.User) (*latchkey.Workspace, *latchkey.User)
		}{
			{"same workspace id", func(f *fixture, ws *latchkey.Workspace, _ *latchkey.User) (*latchkey.Workspace, *latchkey.User) {
				dup := *ws
				return &dup, f.user("new@example.com")
			}},
			{"owner email taken by another user", func(f *fixture, _ *latchkey.Workspace, owner *latchkey.User) (*latchkey.Workspace, *latchkey.User) {
				ws := &latchkey.Workspace{ID: f.ids.New(id.Workspace), Name: "B", Settings: latchkey.DefaultSettings(), CreatedAt: now}
				return ws, f.user(owner.Email)
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				ws, owner := f.workspace("A", "owner@example.com")
				ws2, owner2 := tt.build(f, ws, owner)
				ev := f.event(ws2.ID, latchkey.EventWorkspaceCreated, "target-of-failed-create")
				err := f.s.CreateWorkspace(f.ctx, ws2, owner2, ev)
				wantCode(t, "CreateWorkspace", err, latchkey.ECONFLICT)
				// All or nothing: no new user, workspace, membership or event.
				_, err = f.s.User(f.ctx, owner2.ID)
				wantCode(t, "User(new owner)", err, latchkey.ENOTFOUND)
				if list, _ := f.s.Workspaces(f.ctx); len(list) != 1 {
					t.Fatalf("Workspaces: got %d, want 1", len(list))
				}
				if got := f.eventsFor(ws2.ID, "target-of-failed-create"); len(got) != 0 {
					t.Fatalf("events: got %v, want none", got)
				}
			})
		}
	})

	t.Run("UpdateSettings", func(t *testing.T) {
		errNo := errors.New("refused")
		tests := []struct {
			name    string
			fn      func(f *fixture, ws string) func(*latchkey.Settings) (*latchkey.Event, error)
			wantErr error
			stored  bool // whether the change is stored and its event recorded
		}{
			{"change", func(f *fixture, ws string) func(*latchkey.Settings) (*latchkey.Event, error) {
				return func(s *latchkey.Settings) (*latchkey.Event, error) {
					s.ScimCustomAttributes = true
					return ptr(f.event(ws, latchkey.EventSettingsUpdated, ws)), nil
				}
			}, nil, true},
			{"nil event", func(f *fixture, ws string) func(*latchkey.Settings) (*latchkey.Event, error) {
				return func(s *latchkey.Settings) (*latchkey.Event, error) {
					s.ScimCustomAttributes = true
					return nil, nil
				}
			}, nil, false},
			{"fn error", func(f *fixture, ws string) func(*latchkey.Settings) (*latchkey.Event, error) {
				return func(s *latchkey.Settings) (*latchkey.Event, error) {
					s.ScimCustomAttributes = true
					return ptr(f.event(ws, latchkey.EventSettingsUpdated, ws)), errNo
				}
			}, errNo, false},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				ws, _ := f.workspace("A", "owner@example.com")
				got, err := f.s.UpdateSettings(f.ctx, ws.ID, tt.fn(f, ws.ID))
				if err != tt.wantErr {
					t.Fatalf("UpdateSettings: got error %v, want %v (unchanged)", err, tt.wantErr)
				}
				if err == nil && got.ScimCustomAttributes != tt.stored {
					t.Fatalf("returned ScimCustomAttributes: got %v, want %v", got.ScimCustomAttributes, tt.stored)
				}
				read, err := f.s.Workspace(f.ctx, ws.ID)
				wantCode(t, "Workspace", err, "")
				if read.Settings.ScimCustomAttributes != tt.stored {
					t.Fatalf("stored ScimCustomAttributes: got %v, want %v", read.Settings.ScimCustomAttributes, tt.stored)
				}
				want := map[bool]int{true: 2, false: 1}[tt.stored]
				if evs := f.eventsFor(ws.ID, ws.ID); len(evs) != want {
					t.Fatalf("events: got %v, want %d", evs, want)
				}
			})
		}
		f := newFixture(t, open)
		called := false
		_, err := f.s.UpdateSettings(f.ctx, f.ids.New(id.Workspace), func(*latchkey.Settings) (*latchkey.Event, error) {
			called = true
			return nil, nil
		})
		wantCode(t, "UpdateSettings(unknown)", err, latchkey.ENOTFOUND)
		if called {
			t.Fatalf("fn called for an unknown workspace: got true, want false")
		}
	})

	t.Run("Members", func(t *testing.T) {
		f := newFixture(t, open)
		a, ownerA := f.workspace("A", "a@example.com")
		b, ownerB := f.workspace("B", "b@example.com")
		ms, err := f.s.Members(f.ctx, a.ID)
		if err != nil || len(ms) != 1 || ms[0].UserID != ownerA.ID || ms[0].Email != "a@example.com" || ms[0].Name != ownerA.Name {
			t.Fatalf("Members(A): got %v, %v, want only %s with email and name", ms, err, ownerA.ID)
		}
		_, err = f.s.Member(f.ctx, a.ID, ownerB.ID)
		wantCode(t, "Member(owner of B in A)", err, latchkey.ENOTFOUND)
		_, err = f.s.Member(f.ctx, b.ID, ownerA.ID)
		wantCode(t, "Member(owner of A in B)", err, latchkey.ENOTFOUND)
		ms, err = f.s.Members(f.ctx, f.ids.New(id.Workspace))
		if err != nil || len(ms) != 0 {
			t.Fatalf("Members(unknown): got %v, %v, want none", ms, err)
		}
	})
}
