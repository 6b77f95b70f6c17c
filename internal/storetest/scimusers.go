package storetest

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// scimUser returns a SCIM record for a new user of ws, not stored yet.
func (f *fixture) scimUser(ws, userName string, mods ...func(*latchkey.ScimUser)) (*latchkey.ScimUser, *latchkey.User) {
	nu := f.user(userName)
	nu.PasswordHash = ""
	u := &latchkey.ScimUser{
		WorkspaceID: ws, UserID: nu.ID, UserName: userName, Active: true,
		Emails: []latchkey.ScimEmail{{Value: userName, Type: "work", Primary: true}},
		Doc: map[string]any{"name": map[string]any{"givenName": "Given " + userName, "familyName": "Family"},
			latchkey.ScimEnterpriseSchema: map[string]any{"department": "Sales"}},
		Created: now, Updated: now,
	}
	for _, m := range mods {
		m(u)
	}
	return u, nu
}

// provision stores a new SCIM user of ws and returns it as stored.
func (f *fixture) provision(ws, userName string, mods ...func(*latchkey.ScimUser)) *latchkey.ScimUser {
	f.t.Helper()
	u, nu := f.scimUser(ws, userName, mods...)
	err := f.s.CreateScimUser(f.ctx, u, nu, func(prev *latchkey.Member) ([]latchkey.Event, error) {
		return []latchkey.Event{f.event(ws, latchkey.EventScimUserCreated, u.UserID)}, nil
	})
	wantCode(f.t, "CreateScimUser("+userName+")", err, "")
	got, err := f.s.ScimUser(f.ctx, ws, u.UserID)
	wantCode(f.t, "ScimUser", err, "")
	return got
}

func scimEvent(f *fixture, ws, target string) func(*latchkey.Member) ([]latchkey.Event, error) {
	return func(*latchkey.Member) ([]latchkey.Event, error) {
		return []latchkey.Event{f.event(ws, latchkey.EventScimUserCreated, target)}, nil
	}
}

func testScimUsers(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "a@example.com")
		got := f.provision(a.ID, "Ann@Example.com", func(u *latchkey.ScimUser) { u.ExternalID = "ext-1" })
		want := &latchkey.ScimUser{WorkspaceID: a.ID, UserID: got.UserID, UserName: "Ann@Example.com", ExternalID: "ext-1",
			Active: true, Emails: []latchkey.ScimEmail{{Value: "Ann@Example.com", Type: "work", Primary: true}},
			Doc: map[string]any{"name": map[string]any{"givenName": "Given Ann@Example.com", "familyName": "Family"},
				latchkey.ScimEnterpriseSchema: map[string]any{"department": "Sales"}},
			Email: "ann@example.com", Name: "Name of Ann@Example.com", Created: now, Updated: now, Version: 1}
		wantSame(t, "ScimUser", got, want)
		m, err := f.s.Member(f.ctx, a.ID, got.UserID)
		wantCode(t, "Member", err, "")
		if m.Role != latchkey.RoleMember || !m.Active {
			t.Fatalf("membership: got role %s active %v, want member and active", m.Role, m.Active)
		}
		if evs := f.eventsFor(a.ID, got.UserID); len(evs) != 1 || evs[0] != latchkey.EventScimUserCreated {
			t.Fatalf("events: got %v", evs)
		}
		_, err = f.s.ScimUser(f.ctx, a.ID, "usr_nobody")
		wantCode(t, "ScimUser(unknown)", err, latchkey.ENOTFOUND)
	})

	t.Run("Uniqueness", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "a@example.com")
		b, _ := f.workspace("B", "b@example.com")
		f.provision(a.ID, "bob@example.com")
		u, nu := f.scimUser(a.ID, "BOB@example.com")
		nu.Email = "other@example.com"
		err := f.s.CreateScimUser(f.ctx, u, nu, scimEvent(f, a.ID, u.UserID))
		wantCode(t, "CreateScimUser(same userName, other case)", err, latchkey.ECONFLICT)
		if _, err := f.s.UserByEmail(f.ctx, "other@example.com"); !latchkey.IsNotFound(err) {
			t.Fatalf("the refused create left its user behind: %v", err)
		}
		// Another workspace may use the same userName.
		u2, nu2 := f.scimUser(b.ID, "bob@example.com")
		nu2.Email = "bob.b@example.com"
		wantCode(t, "CreateScimUser(other workspace)", f.s.CreateScimUser(f.ctx, u2, nu2, scimEvent(f, b.ID, u2.UserID)), "")
	})

	t.Run("LinkExistingUser", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "a@example.com")
		b, _ := f.workspace("B", "b@example.com")
		cat := f.member(b.ID, "cat@example.com", latchkey.RoleAdmin)
		u := &latchkey.ScimUser{WorkspaceID: a.ID, UserID: cat.ID, UserName: "cat@example.com", Active: true, Created: now, Updated: now}
		var prev *latchkey.Member
		err := f.s.CreateScimUser(f.ctx, u, nil, func(p *latchkey.Member) ([]latchkey.Event, error) {
			prev = p
			return []latchkey.Event{f.event(a.ID, latchkey.EventMemberAdded, cat.ID)}, nil
		})
		wantCode(t, "CreateScimUser(existing user)", err, "")
		if prev != nil || u.Email != "cat@example.com" {
			t.Fatalf("got prev %v, email %q; want nil and the user's", prev, u.Email)
		}
		// Provisioning an existing member adopts them with their role.
		u2 := &latchkey.ScimUser{WorkspaceID: b.ID, UserID: cat.ID, UserName: "cat", Active: true, Created: now, Updated: now}
		err = f.s.CreateScimUser(f.ctx, u2, nil, func(p *latchkey.Member) ([]latchkey.Event, error) {
			prev = p
			return nil, nil
		})
		wantCode(t, "CreateScimUser(existing member)", err, "")
		if prev == nil || prev.Role != latchkey.RoleAdmin {
			t.Fatalf("prev: got %+v, want the admin membership", prev)
		}
		err = f.s.CreateScimUser(f.ctx, u2, nil, func(*latchkey.Member) ([]latchkey.Event, error) { return nil, nil })
		wantCode(t, "CreateScimUser(twice)", err, latchkey.ECONFLICT)
	})

	t.Run("UpdateAndDeprovision", func(t *testing.T) {
		f := newFixture(t, open)
		a, owner := f.workspace("A", "a@example.com")
		u := f.provision(a.ID, "dan@example.com")
		k := f.key(a.ID, "personal", func(k *latchkey.Key) { k.Owner = u.UserID })
		got, err := f.s.UpdateScimUser(f.ctx, a.ID, u.UserID, func(s *latchkey.ScimUser) ([]latchkey.Event, error) {
			s.Active, s.UserName, s.ExternalID = false, "Dan@example.com", "x9"
			s.Emails = []latchkey.ScimEmail{{Value: "dan@home.example", Type: "home"}}
			s.Updated = now.Add(time.Hour)
			return []latchkey.Event{f.event(a.ID, latchkey.EventScimUserUpdated, s.UserID)}, nil
		})
		wantCode(t, "UpdateScimUser", err, "")
		if got.Active || got.UserName != "Dan@example.com" || got.ExternalID != "x9" || got.Version != 2 || !got.Updated.Equal(now.Add(time.Hour)) {
			t.Fatalf("UpdateScimUser: got %+v", got)
		}
		if kk, err := f.s.KeyByHash(f.ctx, k.Hash); err != nil || kk.OwnerActive {
			t.Fatalf("the personal key of a deprovisioned member: got owner active %v (%v), want false", kk.OwnerActive, err)
		}
		// An error from fn, or no event, changes nothing.
		_, err = f.s.UpdateScimUser(f.ctx, a.ID, u.UserID, func(s *latchkey.ScimUser) ([]latchkey.Event, error) {
			s.Active, s.UserName = true, "changed"
			return nil, latchkey.Errorf(latchkey.EINVALID, "no")
		})
		wantCode(t, "UpdateScimUser(fn fails)", err, latchkey.EINVALID)
		same, _ := f.s.UpdateScimUser(f.ctx, a.ID, u.UserID, func(s *latchkey.ScimUser) ([]latchkey.Event, error) {
			s.UserName = "ignored"
			return nil, nil
		})
		if same.UserName != "Dan@example.com" || same.Active {
			t.Fatalf("an update without events changed the record: %+v", same)
		}
		// The last active owner cannot be deprovisioned.
		ou := &latchkey.ScimUser{WorkspaceID: a.ID, UserID: owner.ID, UserName: "owner", Active: true, Created: now, Updated: now}
		wantCode(t, "CreateScimUser(owner)", f.s.CreateScimUser(f.ctx, ou, nil, scimEvent(f, a.ID, owner.ID)), "")
		_, err = f.s.UpdateScimUser(f.ctx, a.ID, owner.ID, func(s *latchkey.ScimUser) ([]latchkey.Event, error) {
			s.Active = false
			return []latchkey.Event{f.event(a.ID, latchkey.EventScimUserUpdated, s.UserID)}, nil
		})
		wantCode(t, "UpdateScimUser(last owner inactive)", err, latchkey.ECONFLICT)
		// Removing the membership removes the SCIM record.
		wantCode(t, "RemoveMember", f.removeMember(a.ID, u.UserID, f.event(a.ID, latchkey.EventMemberRemoved, u.UserID)), "")
		_, err = f.s.ScimUser(f.ctx, a.ID, u.UserID)
		wantCode(t, "ScimUser(removed)", err, latchkey.ENOTFOUND)
	})

	t.Run("LoginEmailFollowsOnlyForOneWorkspace", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "a@example.com")
		b, _ := f.workspace("B", "b@example.com")
		solo := f.provision(a.ID, "solo@example.com")
		both := f.provision(a.ID, "both@example.com")
		m := &latchkey.Member{WorkspaceID: b.ID, UserID: both.UserID, Role: latchkey.RoleMember, Active: true, CreatedAt: now}
		wantCode(t, "AddMember", f.s.AddMember(f.ctx, m, f.event(b.ID, latchkey.EventMemberAdded, both.UserID)), "")
		rename := func(uid, email string) *latchkey.ScimUser {
			got, err := f.s.UpdateScimUser(f.ctx, a.ID, uid, func(s *latchkey.ScimUser) ([]latchkey.Event, error) {
				s.Email, s.Name = email, "Renamed"
				return []latchkey.Event{f.event(a.ID, latchkey.EventScimUserUpdated, uid)}, nil
			})
			wantCode(t, "UpdateScimUser", err, "")
			return got
		}
		if got := rename(solo.UserID, "solo2@example.com"); got.Email != "solo2@example.com" || got.Name != "Renamed" {
			t.Fatalf("sole workspace: got %q %q, want the new email and name", got.Email, got.Name)
		}
		if got := rename(both.UserID, "both2@example.com"); got.Email != "both@example.com" {
			t.Fatalf("user of two workspaces: got email %q, want it kept", got.Email)
		}
		if got := rename(solo.UserID, "a@example.com"); got.Email != "solo2@example.com" {
			t.Fatalf("taken email: got %q, want the old one kept", got.Email)
		}
	})

	t.Run("ExtensionAttrs", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "a@example.com")
		f.provision(a.ID, "ext@example.com", func(u *latchkey.ScimUser) {
			u.Doc["urn:example:custom:2.0:User"] = map[string]any{"badge": "42", "vip": true, "tags": []any{"x"}}
		})
		got, err := f.s.ScimExtensionAttrs(f.ctx, a.ID)
		wantCode(t, "ScimExtensionAttrs", err, "")
		want := []latchkey.ScimExtensionAttr{
			{URN: "urn:example:custom:2.0:User", Name: "badge", Type: "string"},
			{URN: "urn:example:custom:2.0:User", Name: "tags", Type: "string", MultiValued: true},
			{URN: "urn:example:custom:2.0:User", Name: "vip", Type: "boolean"},
		}
		if len(got) != len(want) {
			t.Fatalf("ScimExtensionAttrs: got %+v, want %+v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("ScimExtensionAttrs[%d]: got %+v, want %+v", i, got[i], want[i])
			}
		}
	})
}
