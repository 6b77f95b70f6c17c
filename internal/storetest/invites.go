package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

func testInvites(t *testing.T, open func(t *testing.T) latchkey.Store) {
	const newPassword = "$argon2id$v=19$m=65536,t=1,p=4$bmV3$bmV3"
	// invitee stores a user without a password, a member of ws.
	invitee := func(f *fixture, ws, email string) *latchkey.User {
		u := f.user(email)
		u.PasswordHash = ""
		wantCode(t, "CreateUser", f.s.CreateUser(f.ctx, u, nil), "")
		m := &latchkey.Member{WorkspaceID: ws, UserID: u.ID, Role: latchkey.RoleMember, Active: true, CreatedAt: now}
		wantCode(t, "AddMember", f.s.AddMember(f.ctx, m, f.event(ws, latchkey.EventMemberAdded, u.ID)), "")
		return u
	}
	invite := func(f *fixture, ws string, u *latchkey.User, token string) *latchkey.Invite {
		inv := &latchkey.Invite{Hash: sha256.Sum256([]byte(token)), UserID: u.ID, WorkspaceID: ws,
			CreatedAt: now, ExpiresAt: now.Add(7 * latchkey.Day)}
		wantCode(t, "CreateInvite", f.s.CreateInvite(f.ctx, inv), "")
		return inv
	}
	password := func(f *fixture, u *latchkey.User) string {
		got, err := f.s.User(f.ctx, u.ID)
		wantCode(t, "User", err, "")
		return got.PasswordHash
	}

	t.Run("expiry", func(t *testing.T) {
		tests := []struct {
			name string
			at   func(inv *latchkey.Invite) time.Time
			want latchkey.Code
		}{
			{"at creation", func(inv *latchkey.Invite) time.Time { return inv.CreatedAt }, ""},
			{"just before expiry", func(inv *latchkey.Invite) time.Time { return inv.ExpiresAt.Add(-time.Microsecond) }, ""},
			{"at expiry", func(inv *latchkey.Invite) time.Time { return inv.ExpiresAt }, latchkey.ENOTFOUND},
			{"after expiry", func(inv *latchkey.Invite) time.Time { return inv.ExpiresAt.Add(time.Hour) }, latchkey.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				ws, _ := f.workspace("A", "a@example.com")
				u := invitee(f, ws.ID, "new@example.com")
				inv := invite(f, ws.ID, u, "token")
				got, err := f.s.AcceptInvite(f.ctx, inv.Hash, tt.at(inv), latchkey.InviteClaim{PasswordHash: newPassword})
				wantCode(t, "AcceptInvite", err, tt.want)
				want := ""
				if tt.want == "" {
					want = newPassword
					stored := *u
					stored.PasswordHash, stored.Claimed = newPassword, true
					wantSame(t, "accepted user", got, &stored)
				}
				if p := password(f, u); p != want {
					t.Fatalf("password hash: got %q, want %q", p, want)
				}
			})
		}
	})

	t.Run("one-time", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		u := invitee(f, ws.ID, "new@example.com")
		first, second := invite(f, ws.ID, u, "first"), invite(f, ws.ID, u, "second")
		_, err := f.s.AcceptInvite(f.ctx, first.Hash, now, latchkey.InviteClaim{PasswordHash: newPassword})
		wantCode(t, "AcceptInvite", err, "")
		_, err = f.s.AcceptInvite(f.ctx, first.Hash, now, latchkey.InviteClaim{PasswordHash: "$argon2id$other"})
		wantCode(t, "AcceptInvite(again)", err, latchkey.ENOTFOUND)
		// Once the user has a password, no other invite of theirs works.
		_, err = f.s.AcceptInvite(f.ctx, second.Hash, now, latchkey.InviteClaim{PasswordHash: "$argon2id$other"})
		wantCode(t, "AcceptInvite(another invite of the user)", err, latchkey.ENOTFOUND)
		if p := password(f, u); p != newPassword {
			t.Fatalf("password hash: got %q, want the first accepted", p)
		}
		// Nor can an invite be made for a user who has a password.
		err = f.s.CreateInvite(f.ctx, &latchkey.Invite{Hash: sha256.Sum256([]byte("third")), UserID: u.ID,
			WorkspaceID: ws.ID, CreatedAt: now, ExpiresAt: now.Add(time.Hour)})
		wantCode(t, "CreateInvite(user with a password)", err, latchkey.ECONFLICT)
	})

	t.Run("concurrent accepts", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		u := invitee(f, ws.ID, "new@example.com")
		inv := invite(f, ws.ID, u, "token")
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				_, err := f.s.AcceptInvite(f.ctx, inv.Hash, now, latchkey.InviteClaim{PasswordHash: newPassword})
				errs <- err
			}()
		}
		ok := 0
		for range 4 {
			switch err := <-errs; latchkey.ErrorCode(err) {
			case "":
				ok++
			case latchkey.ENOTFOUND:
			default:
				t.Fatalf("AcceptInvite: got %v, want nil or ENOTFOUND", err)
			}
		}
		if ok != 1 {
			t.Fatalf("concurrent accepts: got %d successes, want 1", ok)
		}
	})

	t.Run("errors", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		u := invitee(f, ws.ID, "new@example.com")
		inv := invite(f, ws.ID, u, "token")
		tests := []struct {
			name string
			inv  latchkey.Invite
			want latchkey.Code
		}{
			{"same hash", *inv, latchkey.ECONFLICT},
			{"unknown user", latchkey.Invite{Hash: [32]byte{1}, UserID: f.ids.New(id.User), WorkspaceID: ws.ID}, latchkey.ENOTFOUND},
			{"unknown workspace", latchkey.Invite{Hash: [32]byte{2}, UserID: u.ID, WorkspaceID: f.ids.New(id.Workspace)}, latchkey.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.inv.CreatedAt, tt.inv.ExpiresAt = now, now.Add(time.Hour)
				wantCode(t, "CreateInvite", f.s.CreateInvite(f.ctx, &tt.inv), tt.want)
			})
		}
		_, err := f.s.AcceptInvite(f.ctx, sha256.Sum256([]byte("unknown")), now, latchkey.InviteClaim{PasswordHash: newPassword})
		wantCode(t, "AcceptInvite(unknown)", err, latchkey.ENOTFOUND)
		_, err = f.s.AcceptInvite(f.ctx, inv.Hash, now, latchkey.InviteClaim{PasswordHash: ""})
		wantCode(t, "AcceptInvite(empty password hash)", err, latchkey.EINVALID)
		if p := password(f, u); p != "" {
			t.Fatalf("password hash after a refused accept: got %q, want none", p)
		}
		// Removing the member voids their invite to the workspace.
		wantCode(t, "RemoveMember", f.removeMember(ws.ID, u.ID, f.event(ws.ID, latchkey.EventMemberRemoved, u.ID)), "")
		_, err = f.s.AcceptInvite(f.ctx, inv.Hash, now, latchkey.InviteClaim{PasswordHash: newPassword})
		wantCode(t, "AcceptInvite(removed member)", err, latchkey.ENOTFOUND)
	})
}
