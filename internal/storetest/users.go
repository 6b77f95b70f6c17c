package storetest

import (
	"testing"

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
