package storetest

import (
	"crypto/sha256"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

func testKeys(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("RoundTrip", func(t *testing.T) {
		tests := []struct {
			name string
			mod  func(*latchkey.Key)
		}{
			{"minimal", func(k *latchkey.Key) {}},
			{"every field", func(k *latchkey.Key) {
				k.Type, k.Environment = "on_premise", latchkey.Demo
				k.Scopes = []string{"items:read", "users:read"}
				k.Settings = map[string]any{"retrieve_signatures": true, "send_directory_data": false, "label": "x"}
				k.CallbackURL = "https://hooks.example.com/latchkey"
				k.RateLimit = &latchkey.RateLimit{Limit: 100, Period: latchkey.Duration(time.Minute)}
				k.LastUsedAt = ptr(now.Add(-time.Hour))
				k.RevokedAt, k.RevokedBy = ptr(now.Add(-time.Minute)), "usr_revoker"
				k.PreviousHash = ptr(sha256.Sum256([]byte("previous")))
				k.PreviousExpiresAt = ptr(now.Add(time.Hour))
				k.DisabledAt, k.DisabledBy = ptr(now.Add(-2*time.Minute)), "usr_disabler"
				k.ExternalID = "cus_Ärger 42"
				k.Meta = []byte(`{"a":1,"plan":"pro","tags":["x","y"]}`)
				k.Credits = &latchkey.Credits{Remaining: 1000, RefilledAt: now,
					Refill: &latchkey.Refill{Interval: latchkey.RefillMonthly, Amount: 5000}}
				k.RateLimits = []latchkey.NamedLimit{{Name: "burst", Limit: 10, Duration: latchkey.Duration(time.Second)},
					{Name: "daily", Limit: 10000, Duration: latchkey.Duration(latchkey.Day)}}
			}},
			{"never expires", func(k *latchkey.Key) { k.ExpiresAt = nil }},
			{"sub-microsecond times are truncated", func(k *latchkey.Key) {
				k.CreatedAt = now.Add(1500 * time.Nanosecond)
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				ws, _ := f.workspace("A", "a@example.com")
				k := f.key(ws.ID, "Zapier", tt.mod)
				want := *k
				want.CreatedAt = k.CreatedAt.Truncate(time.Microsecond)
				got, err := f.s.Key(f.ctx, ws.ID, k.ID)
				wantCode(t, "Key", err, "")
				wantSame(t, "Key", got, &want)
				// KeyForVerify reads the same key, less what verification
				// never looks at, by its current and its previous secret.
				lean := want
				lean.Description, lean.CallbackURL, lean.CreatedBy, lean.CreatedAt = "", "", "", time.Time{}
				lean.LastUsedAt, lean.Start, lean.RevokedBy, lean.DisabledBy = nil, "", "", ""
				hashes := [][32]byte{k.Hash}
				if k.PreviousHash != nil {
					hashes = append(hashes, *k.PreviousHash)
				}
				for _, h := range hashes {
					got, err := f.s.KeyForVerify(f.ctx, h)
					wantCode(t, "KeyForVerify", err, "")
					wantSame(t, "KeyForVerify", got, &lean)
				}
				if evs := f.eventsFor(ws.ID, k.ID); !slices.Equal(evs, []string{latchkey.EventKeyCreated}) {
					t.Fatalf("events: got %v, want [%s]", evs, latchkey.EventKeyCreated)
				}
			})
		}
	})

	t.Run("NilScopesAndSettingsReadEmpty", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "bare", func(k *latchkey.Key) { k.Scopes, k.Settings = nil, nil })
		got, err := f.s.Key(f.ctx, ws.ID, k.ID)
		if err != nil || got.Scopes == nil || len(got.Scopes) != 0 || got.Settings == nil || len(got.Settings) != 0 {
			t.Fatalf("Key: got scopes %#v settings %#v (%v), want empty and non-nil", got.Scopes, got.Settings, err)
		}
	})

	t.Run("CreateErrors", func(t *testing.T) {
		tests := []struct {
			name string
			mod  func(k, first *latchkey.Key)
			want latchkey.Code
		}{
			{"same id", func(k, first *latchkey.Key) { k.ID = first.ID }, latchkey.ECONFLICT},
			{"same hash", func(k, first *latchkey.Key) { k.Hash = first.Hash }, latchkey.ECONFLICT},
			{"same previous hash", func(k, first *latchkey.Key) { k.PreviousHash = first.PreviousHash }, latchkey.ECONFLICT},
			{"unknown workspace", func(k, first *latchkey.Key) { k.WorkspaceID = "ws_01JD0000000000000000000000" }, latchkey.ENOTFOUND},
			{"same name", func(k, first *latchkey.Key) { k.Name = first.Name }, ""},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				ws, _ := f.workspace("A", "a@example.com")
				first := f.key(ws.ID, "first", func(k *latchkey.Key) { k.PreviousHash = ptr(sha256.Sum256([]byte("p"))) })
				k := f.newKey(ws.ID, "second")
				tt.mod(k, first)
				ev := f.event(ws.ID, latchkey.EventKeyCreated, "second-key")
				wantCode(t, "CreateKey", f.s.CreateKey(f.ctx, k, ev), tt.want)
				want := 0
				if tt.want == "" {
					want = 1
				}
				if evs := f.eventsFor(ws.ID, "second-key"); len(evs) != want {
					t.Fatalf("events: got %v, want %d", evs, want)
				}
			})
		}
	})

	t.Run("Isolation", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "a@example.com")
		b, _ := f.workspace("B", "b@example.com")
		ka := f.key(a.ID, "Zapier")
		kb := f.key(b.ID, "Zapier")
		for _, c := range []struct{ ws, key string }{{a.ID, kb.ID}, {b.ID, ka.ID}, {a.ID, f.ids.New(id.Key)}} {
			_, err := f.s.Key(f.ctx, c.ws, c.key)
			wantCode(t, "Key(other workspace)", err, latchkey.ENOTFOUND)
			_, err = f.s.UpdateKey(f.ctx, c.ws, c.key, func(k *latchkey.Key) (*latchkey.Event, error) {
				t.Fatalf("UpdateKey called fn for a key of another workspace")
				return nil, nil
			})
			wantCode(t, "UpdateKey(other workspace)", err, latchkey.ENOTFOUND)
			err = f.s.DeleteKey(f.ctx, c.ws, c.key, f.event(c.ws, latchkey.EventKeyDeleted, c.key))
			wantCode(t, "DeleteKey(other workspace)", err, latchkey.ENOTFOUND)
		}
		for _, k := range []*latchkey.Key{ka, kb} {
			if _, err := f.s.Key(f.ctx, k.WorkspaceID, k.ID); err != nil {
				t.Fatalf("Key after foreign delete: got %v, want nil", err)
			}
			if evs := f.eventsFor(k.WorkspaceID, k.ID); len(evs) != 1 {
				t.Fatalf("events after foreign attempts: got %v, want only the creation", evs)
			}
		}
		list, _, err := f.s.Keys(f.ctx, latchkey.KeyFilter{WorkspaceID: a.ID})
		if err != nil || len(list) != 1 || list[0].ID != ka.ID {
			t.Fatalf("Keys(A): got %v, %v, want only %s", list, err, ka.ID)
		}
	})

	t.Run("UpdateKey", testUpdateKey(open))

	t.Run("CountKeys", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "a@example.com")
		b, _ := f.workspace("B", "b@example.com")
		f.key(a.ID, "company")
		f.key(a.ID, "mine", func(k *latchkey.Key) { k.Owner = "usr_ann" })
		f.key(a.ID, "mine, revoked", func(k *latchkey.Key) { k.Owner, k.RevokedAt = "usr_ann", ptr(now) })
		f.key(a.ID, "mine, expired", func(k *latchkey.Key) { k.Owner, k.ExpiresAt = "usr_ann", ptr(now.Add(-time.Hour)) })
		gone := f.key(a.ID, "mine, deleted", func(k *latchkey.Key) { k.Owner = "usr_ann" })
		wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, a.ID, gone.ID, f.event(a.ID, latchkey.EventKeyDeleted, gone.ID)), "")
		f.key(b.ID, "theirs", func(k *latchkey.Key) { k.Owner = "usr_ann" })
		for _, c := range []struct {
			ws, owner string
			want      int
		}{
			{a.ID, "", 4}, {a.ID, "usr_ann", 3}, {a.ID, latchkey.OwnerWorkspace, 1},
			{a.ID, "usr_bob", 0}, {b.ID, "", 1}, {"ws_01JD0000000000000000000000", "", 0},
		} {
			n, err := f.s.CountKeys(f.ctx, c.ws, c.owner)
			if err != nil || n != c.want {
				t.Errorf("CountKeys(%s, %q): got %d, %v, want %d", c.ws, c.owner, n, err, c.want)
			}
		}
	})

	t.Run("DeleteKey", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "doomed", func(k *latchkey.Key) { k.PreviousHash = ptr(sha256.Sum256([]byte("p"))) })
		wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, ws.ID, k.ID, f.event(ws.ID, latchkey.EventKeyDeleted, k.ID)), "")
		_, err := f.s.Key(f.ctx, ws.ID, k.ID)
		wantCode(t, "Key(deleted)", err, latchkey.ENOTFOUND)
		_, err = f.s.KeyByHash(f.ctx, k.Hash)
		wantCode(t, "KeyByHash(deleted)", err, latchkey.ENOTFOUND)
		_, err = f.s.KeyByHash(f.ctx, *k.PreviousHash)
		wantCode(t, "KeyByHash(deleted, previous)", err, latchkey.ENOTFOUND)
		// The events outlive the key.
		want := []string{latchkey.EventKeyDeleted, latchkey.EventKeyCreated}
		if evs := f.eventsFor(ws.ID, k.ID); !slices.Equal(evs, want) {
			t.Fatalf("events: got %v, want %v", evs, want)
		}
		err = f.s.DeleteKey(f.ctx, ws.ID, k.ID, f.event(ws.ID, latchkey.EventKeyDeleted, k.ID))
		wantCode(t, "DeleteKey(again)", err, latchkey.ENOTFOUND)
		if evs := f.eventsFor(ws.ID, k.ID); len(evs) != 2 {
			t.Fatalf("events after a failed delete: got %v, want %v", evs, want)
		}
		// A new key may reuse nothing but may take the deleted key's name.
		f.key(ws.ID, "doomed")
	})
}

func testUpdateKey(open func(t *testing.T) latchkey.Store) func(t *testing.T) {
	return func(t *testing.T) {
		errNo := errors.New("refused")
		newHash := sha256.Sum256([]byte("new secret"))
		tests := []struct {
			name    string
			fn      func(f *fixture, k *latchkey.Key) (*latchkey.Event, error)
			wantErr error
			check   func(t *testing.T, got *latchkey.Key, old *latchkey.Key)
			events  int // recorded for the key, creation included
		}{
			{"description", func(f *fixture, k *latchkey.Key) (*latchkey.Event, error) {
				k.Description = "changed"
				return ptr(f.event(k.WorkspaceID, latchkey.EventKeyUpdated, k.ID)), nil
			}, nil, func(t *testing.T, got, old *latchkey.Key) {
				if got.Description != "changed" {
					t.Fatalf("Description: got %q, want %q", got.Description, "changed")
				}
			}, 2},
			{"reset with grace", func(f *fixture, k *latchkey.Key) (*latchkey.Event, error) {
				k.PreviousHash, k.PreviousExpiresAt = ptr(k.Hash), ptr(now.Add(time.Hour))
				k.Hash = newHash
				return ptr(f.event(k.WorkspaceID, latchkey.EventKeyReset, k.ID)), nil
			}, nil, func(t *testing.T, got, old *latchkey.Key) {
				if got.Hash != newHash || got.PreviousHash == nil || *got.PreviousHash != old.Hash {
					t.Fatalf("hashes: got %x / %v, want the new hash and the old one as previous", got.Hash, got.PreviousHash)
				}
			}, 2},
			{"revoke", func(f *fixture, k *latchkey.Key) (*latchkey.Event, error) {
				k.RevokedAt, k.RevokedBy = ptr(now), "usr_revoker"
				k.RateLimit = &latchkey.RateLimit{Limit: 5, Period: latchkey.Duration(time.Second)}
				return ptr(f.event(k.WorkspaceID, latchkey.EventKeyRevoked, k.ID)), nil
			}, nil, func(t *testing.T, got, old *latchkey.Key) {
				if got.RevokedAt == nil || !got.RevokedAt.Equal(now) || got.RevokedBy != "usr_revoker" || got.RateLimit == nil {
					t.Fatalf("revoked: got %v by %q, rate %v, want %v by usr_revoker", got.RevokedAt, got.RevokedBy, got.RateLimit, now)
				}
			}, 2},
			{"id and workspace stay", func(f *fixture, k *latchkey.Key) (*latchkey.Event, error) {
				k.ID, k.WorkspaceID, k.Name = "key_other", "ws_other", "renamed"
				return ptr(f.event("", latchkey.EventKeyUpdated, k.ID)), nil
			}, nil, func(t *testing.T, got, old *latchkey.Key) {
				if got.ID != old.ID || got.WorkspaceID != old.WorkspaceID || got.Name != "renamed" {
					t.Fatalf("got %s in %s named %q, want %s in %s named renamed", got.ID, got.WorkspaceID, got.Name, old.ID, old.WorkspaceID)
				}
			}, 1}, // the event names key_other as its target
			{"nil event", func(f *fixture, k *latchkey.Key) (*latchkey.Event, error) {
				k.Description = "not stored"
				return nil, nil
			}, nil, func(t *testing.T, got, old *latchkey.Key) {
				wantSame(t, "unchanged key", got, old)
			}, 1},
			{"fn error", func(f *fixture, k *latchkey.Key) (*latchkey.Event, error) {
				k.Description = "not stored"
				return ptr(f.event(k.WorkspaceID, latchkey.EventKeyUpdated, k.ID)), errNo
			}, errNo, nil, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				f := newFixture(t, open)
				ws, _ := f.workspace("A", "a@example.com")
				old := f.key(ws.ID, "Zapier")
				got, err := f.s.UpdateKey(f.ctx, ws.ID, old.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
					wantSame(t, "key passed to fn", k, old)
					return tt.fn(f, k)
				})
				if err != tt.wantErr {
					t.Fatalf("UpdateKey: got error %v, want %v (unchanged)", err, tt.wantErr)
				}
				read, rerr := f.s.Key(f.ctx, ws.ID, old.ID)
				wantCode(t, "Key", rerr, "")
				if err == nil {
					wantSame(t, "returned key and stored key", got, read)
					tt.check(t, got, old)
				} else {
					wantSame(t, "key after a failed update", read, old)
				}
				if evs := f.eventsFor(ws.ID, old.ID); len(evs) != tt.events {
					t.Fatalf("events: got %v, want %d", evs, tt.events)
				}
			})
		}

		t.Run("hash conflict", func(t *testing.T) {
			f := newFixture(t, open)
			ws, _ := f.workspace("A", "a@example.com")
			a, b := f.key(ws.ID, "a"), f.key(ws.ID, "b")
			_, err := f.s.UpdateKey(f.ctx, ws.ID, b.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
				k.Hash = a.Hash
				return ptr(f.event(ws.ID, latchkey.EventKeyReset, k.ID)), nil
			})
			wantCode(t, "UpdateKey(taken hash)", err, latchkey.ECONFLICT)
			if evs := f.eventsFor(ws.ID, b.ID); len(evs) != 1 {
				t.Fatalf("events: got %v, want only the creation", evs)
			}
		})
	}
}
