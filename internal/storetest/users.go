package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

func testUsers(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("CreateAndRead", func(t *testing.T) {
		f := newFixture(t, open)
		u := f.user("ann@example.com")
		ev := f.event("", "user.created", u.ID)
		wantCode(t, "CreateUser", f.s.CreateUser(f.ctx, u, &ev), "")
		got, err := f.s.User(f.ctx, u.ID)
		wantCode(t, "User", err, "")
		wantSame(t, "User", got, u)
		got, err = f.s.UserByEmail(f.ctx, "ann@example.com")
		wantCode(t, "UserByEmail", err, "")
		wantSame(t, "UserByEmail", got, u)
		if evs := f.eventsFor("", u.ID); len(evs) != 1 {
			t.Fatalf("platform events for the user: got %v, want 1", evs)
		}

		op := f.user("op@example.com")
		op.Operator = true
		wantCode(t, "CreateUser(operator, no event)", f.s.CreateUser(f.ctx, op, nil), "")
		got, err = f.s.User(f.ctx, op.ID)
		if err != nil || !got.Operator {
			t.Fatalf("User(operator): got %v, %v, want an operator", got, err)
		}
		ms, err := f.s.Memberships(f.ctx, op.ID)
		if err != nil || len(ms) != 0 {
			t.Fatalf("Memberships(operator): got %v, %v, want none", ms, err)
		}
	})

	t.Run("StoredLowerCase", func(t *testing.T) {
		f := newFixture(t, open)
		u := f.user("Ann@Example.COM")
		wantCode(t, "CreateUser", f.s.CreateUser(f.ctx, u, nil), "")
		got, err := f.s.User(f.ctx, u.ID)
		if err != nil || got.Email != "ann@example.com" {
			t.Fatalf("User email: got %v, %v, want ann@example.com", got, err)
		}
	})

	t.Run("Errors", func(t *testing.T) {
		tests := []struct {
			name string
			make func(f *fixture, first *latchkey.User) *latchkey.User
			want latchkey.Code
		}{
			{"same email", func(f *fixture, _ *latchkey.User) *latchkey.User { return f.user("ann@example.com") }, latchkey.ECONFLICT},
			{"same email other case", func(f *fixture, _ *latchkey.User) *latchkey.User { return f.user("ANN@example.com") }, latchkey.ECONFLICT},
			{"same id", func(f *fixture, first *latchkey.User) *latchkey.User {
				u := f.user("other@example.com")
				u.ID = first.ID
				return u
			}, latchkey.ECONFLICT},
			{"other email", func(f *fixture, _ *latchkey.User) *latchkey.User { return f.user("bob@example.com") }, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				first := f.user("ann@example.com")
				wantCode(t, "CreateUser(first)", f.s.CreateUser(f.ctx, first, nil), "")
				second := tt.make(f, first)
				ev := f.event("", "user.created", "second-user")
				wantCode(t, "CreateUser(second)", f.s.CreateUser(f.ctx, second, &ev), tt.want)
				want := 0
				if tt.want == "" {
					want = 1
				}
				if evs := f.eventsFor("", "second-user"); len(evs) != want {
					t.Fatalf("events: got %v, want %d", evs, want)
				}
			})
		}
	})

	t.Run("UpdateUser", func(t *testing.T) { testUpdateUser(t, open) })

	t.Run("NotFound", func(t *testing.T) {
		f := newFixture(t, open)
		_, err := f.s.User(f.ctx, f.ids.New(id.User))
		wantCode(t, "User", err, latchkey.ENOTFOUND)
		_, err = f.s.UserByEmail(f.ctx, "nobody@example.com")
		wantCode(t, "UserByEmail", err, latchkey.ENOTFOUND)
		ms, err := f.s.Memberships(f.ctx, f.ids.New(id.User))
		if err != nil || len(ms) != 0 {
			t.Fatalf("Memberships(unknown): got %v, %v, want none", ms, err)
		}
	})
}

func testUpdateUser(t *testing.T, open func(t *testing.T) latchkey.Store) {
	errNo := errors.New("refused")
	tests := []struct {
		name  string
		fn    func(u *latchkey.User) error
		code  latchkey.Code
		fnErr bool
		want  func(u latchkey.User) latchkey.User // the stored user after success
	}{
		{"name and password", func(u *latchkey.User) error {
			u.Name, u.PasswordHash = "Ann B.", "$argon2id$new"
			return nil
		}, "", false, func(u latchkey.User) latchkey.User {
			u.Name, u.PasswordHash = "Ann B.", "$argon2id$new"
			return u
		}},
		{"email stored lower case", func(u *latchkey.User) error {
			u.Email = " Ann.B@Example.com "
			return nil
		}, "", false, func(u latchkey.User) latchkey.User { u.Email = "ann.b@example.com"; return u }},
		{"id, operator and creation stay", func(u *latchkey.User) error {
			u.ID, u.Operator, u.CreatedAt, u.Name = "usr_other", true, now.Add(time.Hour), "renamed"
			return nil
		}, "", false, func(u latchkey.User) latchkey.User { u.Name = "renamed"; return u }},
		{"email taken", func(u *latchkey.User) error { u.Email, u.Name = "BOB@example.com", "x"; return nil }, latchkey.ECONFLICT, false, nil},
		{"fn error", func(u *latchkey.User) error { u.Name = "not stored"; return errNo }, "", true, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, open)
			ann, bob := f.user("ann@example.com"), f.user("bob@example.com")
			for _, u := range []*latchkey.User{ann, bob} {
				wantCode(t, "CreateUser", f.s.CreateUser(f.ctx, u, nil), "")
			}
			got, err := f.s.UpdateUser(f.ctx, ann.ID, func(u *latchkey.User) error {
				wantSame(t, "user passed to fn", u, ann)
				return tt.fn(u)
			})
			if tt.fnErr && err != errNo {
				t.Fatalf("UpdateUser: got %v, want fn's error unchanged", err)
			}
			if !tt.fnErr {
				wantCode(t, "UpdateUser", err, tt.code)
			}
			read, rerr := f.s.User(f.ctx, ann.ID)
			wantCode(t, "User", rerr, "")
			if tt.want == nil {
				wantSame(t, "user after a failed update", read, ann)
				return
			}
			want := tt.want(*ann)
			wantSame(t, "returned user", got, &want)
			wantSame(t, "stored user", read, &want)
		})
	}
	t.Run("unknown", func(t *testing.T) {
		f := newFixture(t, open)
		_, err := f.s.UpdateUser(f.ctx, f.ids.New(id.User), func(*latchkey.User) error {
			t.Fatalf("UpdateUser called fn for an unknown user")
			return nil
		})
		wantCode(t, "UpdateUser(unknown)", err, latchkey.ENOTFOUND)
	})
}
