package storetest

import (
	"crypto/sha256"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testSessions(t *testing.T, open func(t *testing.T) latchkey.Store) {
	f := newFixture(t, open)
	ann, bob := f.user("ann@example.com"), f.user("bob@example.com")
	for _, u := range []*latchkey.User{ann, bob} {
		wantCode(t, "CreateUser", f.s.CreateUser(f.ctx, u, nil), "")
	}
	session := func(user *latchkey.User, cookie string) *latchkey.Session {
		s := &latchkey.Session{Hash: sha256.Sum256([]byte(cookie)), UserID: user.ID, CreatedAt: now, ExpiresAt: now.Add(12 * time.Hour)}
		wantCode(t, "CreateSession", f.s.CreateSession(f.ctx, s), "")
		return s
	}
	ann1, ann2, bob1 := session(ann, "ann-1"), session(ann, "ann-2"), session(bob, "bob-1")

	t.Run("expiry", func(t *testing.T) {
		tests := []struct {
			name string
			at   time.Time
			want latchkey.Code
		}{
			{"at creation", now, ""},
			{"just before expiry", ann1.ExpiresAt.Add(-time.Microsecond), ""},
			{"at expiry", ann1.ExpiresAt, latchkey.ENOTFOUND},
			{"after expiry", ann1.ExpiresAt.Add(time.Hour), latchkey.ENOTFOUND},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := f.s.Session(f.ctx, ann1.Hash, tt.at)
				wantCode(t, "Session", err, tt.want)
				if err == nil {
					wantSame(t, "Session", got, ann1)
				}
			})
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := f.s.Session(f.ctx, sha256.Sum256([]byte("unknown")), now)
		wantCode(t, "Session(unknown)", err, latchkey.ENOTFOUND)
		wantCode(t, "CreateSession(same hash)", f.s.CreateSession(f.ctx, ann1), latchkey.ECONFLICT)
	})

	t.Run("delete", func(t *testing.T) {
		wantCode(t, "DeleteSession", f.s.DeleteSession(f.ctx, ann1.Hash), "")
		_, err := f.s.Session(f.ctx, ann1.Hash, now)
		wantCode(t, "Session(deleted)", err, latchkey.ENOTFOUND)
		_, err = f.s.Session(f.ctx, ann2.Hash, now)
		wantCode(t, "Session(other of the same user)", err, "")

		wantCode(t, "DeleteUserSessions", f.s.DeleteUserSessions(f.ctx, ann.ID), "")
		_, err = f.s.Session(f.ctx, ann2.Hash, now)
		wantCode(t, "Session(after DeleteUserSessions)", err, latchkey.ENOTFOUND)
		_, err = f.s.Session(f.ctx, bob1.Hash, now)
		wantCode(t, "Session(another user's)", err, "")
	})
}
