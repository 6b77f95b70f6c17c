package storetest

import (
	"slices"
	"sync"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
)

func testLeaks(t *testing.T, open func(t *testing.T) latchkey.Store) {
	const hook = "https://hooks.example.com/latchkey"
	leakOf := func(k *latchkey.Key, action string) latchkey.Leak {
		return latchkey.Leak{Hash: k.Hash, WorkspaceID: k.WorkspaceID, KeyID: k.ID, TokenType: "latchkey_api_key",
			URL: "https://github.com/acme/app/blob/abc/config.yml", Source: "content",
			Reporter: latchkey.LeakReporterGitHub, Action: action, ReportedAt: now}
	}
	record := func(f *fixture, l latchkey.Leak) (*latchkey.Key, bool, error) {
		return f.s.RecordLeak(f.ctx, l, latchkey.LeakReporterGitHub,
			func(k *latchkey.Key) []latchkey.Event {
				evs := []latchkey.Event{f.event(k.WorkspaceID, latchkey.EventKeyLeaked, k.ID)}
				if l.Action == latchkey.LeakRevoked {
					evs = append(evs, f.event(k.WorkspaceID, latchkey.EventKeyRevoked, k.ID))
				}
				return evs
			},
			func(k *latchkey.Key) []*latchkey.Mail {
				return []*latchkey.Mail{{ID: f.ids.New(id.Mail), WorkspaceID: k.WorkspaceID, To: "owner@example.com",
					Subject: "latchkey: an API key was found in public", Body: "key " + k.ID, CreatedAt: now}}
			})
	}

	t.Run("RevokesOnceWithEventsWebhooksAndMail", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "leaky", func(k *latchkey.Key) { k.CallbackURL = hook })
		got, recorded, err := record(f, leakOf(k, latchkey.LeakRevoked))
		wantCode(t, "RecordLeak", err, "")
		if !recorded || got == nil || got.RevokedAt == nil || !got.RevokedAt.Equal(now) || got.RevokedBy != latchkey.LeakReporterGitHub {
			t.Fatalf("RecordLeak: got %+v recorded %v, want the key revoked now by github", got, recorded)
		}
		stored, err := f.s.Key(f.ctx, ws.ID, k.ID)
		wantCode(t, "Key", err, "")
		if stored.RevokedAt == nil {
			t.Fatalf("stored key: got not revoked, want revoked")
		}
		if got, want := f.eventsFor(ws.ID, k.ID), []string{latchkey.EventKeyRevoked, latchkey.EventKeyLeaked, latchkey.EventKeyCreated}; !slices.Equal(got, want) {
			t.Fatalf("events: got %v, want %v", got, want)
		}
		if got, want := f.deliveryTypes(ws.ID), []string{"key.leaked " + k.ID, "key.revoked " + k.ID}; !slices.Equal(got, want) {
			t.Fatalf("webhooks: got %v, want %v", got, want)
		}
		mails, _, err := f.s.Mails(f.ctx, ws.ID, 10, "")
		if err != nil || len(mails) != 1 {
			t.Fatalf("mails: got %d, %v, want 1", len(mails), err)
		}
		leaks, err := f.s.Leaks(f.ctx, ws.ID, k.ID)
		wantCode(t, "Leaks", err, "")
		if len(leaks) != 1 || leaks[0].Hash != k.Hash || leaks[0].URL != "https://github.com/acme/app/blob/abc/config.yml" ||
			leaks[0].Action != latchkey.LeakRevoked || !leaks[0].ReportedAt.Equal(now) {
			t.Fatalf("Leaks: got %s, want the one leak", show(leaks))
		}

		// The replay: nothing more is written.
		again, recorded, err := record(f, leakOf(k, latchkey.LeakRevoked))
		wantCode(t, "RecordLeak again", err, "")
		if recorded || again != nil {
			t.Fatalf("RecordLeak again: got %v recorded %v, want nothing", again, recorded)
		}
		if got := f.eventsFor(ws.ID, k.ID); len(got) != 3 {
			t.Fatalf("events after the replay: got %v, want 3", got)
		}
		if mails, _, _ := f.s.Mails(f.ctx, ws.ID, 10, ""); len(mails) != 1 {
			t.Fatalf("mails after the replay: got %d, want 1", len(mails))
		}
		if got := f.deliveryTypes(ws.ID); len(got) != 2 {
			t.Fatalf("webhooks after the replay: got %v, want 2", got)
		}
	})

	t.Run("NotifyLeavesTheKeyWorking", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "leaky")
		got, recorded, err := record(f, leakOf(k, latchkey.LeakNotified))
		wantCode(t, "RecordLeak", err, "")
		if !recorded || got.RevokedAt != nil {
			t.Fatalf("RecordLeak: got revoked_at %v recorded %v, want recorded, not revoked", got.RevokedAt, recorded)
		}
		if got, want := f.eventsFor(ws.ID, k.ID), []string{latchkey.EventKeyLeaked, latchkey.EventKeyCreated}; !slices.Equal(got, want) {
			t.Fatalf("events: got %v, want %v", got, want)
		}
	})

	t.Run("PreviousSecretOfAReset", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		old := f.newKey(ws.ID, "x").Hash
		k := f.key(ws.ID, "reset", func(k *latchkey.Key) { k.PreviousHash, k.PreviousExpiresAt = &old, ptr(now.Add(latchkey.Day)) })
		l := leakOf(k, latchkey.LeakRevoked)
		l.Hash = old
		if _, recorded, err := record(f, l); err != nil || !recorded {
			t.Fatalf("RecordLeak of the previous secret: got %v, %v, want recorded", recorded, err)
		}
	})

	t.Run("AnotherWorkspaceOrSecretFindsNothing", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "a@example.com")
		e, _ := f.workspace("E", "e@example.com")
		k := f.key(a.ID, "victim")
		for name, l := range map[string]latchkey.Leak{
			"other workspace": func() latchkey.Leak { l := leakOf(k, latchkey.LeakRevoked); l.WorkspaceID = e.ID; return l }(),
			"other secret":    func() latchkey.Leak { l := leakOf(k, latchkey.LeakRevoked); l.Hash[0] ^= 1; return l }(),
			"unknown key":     func() latchkey.Leak { l := leakOf(k, latchkey.LeakRevoked); l.KeyID = f.ids.New(id.Key); return l }(),
		} {
			_, recorded, err := record(f, l)
			wantCode(t, "RecordLeak "+name, err, latchkey.ENOTFOUND)
			if recorded {
				t.Fatalf("%s: recorded, want nothing", name)
			}
		}
		stored, _ := f.s.Key(f.ctx, a.ID, k.ID)
		if stored.RevokedAt != nil {
			t.Fatalf("victim: got revoked, want untouched")
		}
		if leaks, _ := f.s.Leaks(f.ctx, a.ID, k.ID); len(leaks) != 0 {
			t.Fatalf("victim's leaks: got %d, want 0", len(leaks))
		}
	})

	t.Run("ConcurrentReportsActOnce", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "leaky")
		var wg sync.WaitGroup
		var mu sync.Mutex
		wins := 0
		for range 4 {
			wg.Go(func() {
				_, recorded, err := record(f, leakOf(k, latchkey.LeakRevoked))
				if err != nil {
					t.Errorf("RecordLeak: got %v, want nil", err)
				}
				if recorded {
					mu.Lock()
					wins++
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		if wins != 1 {
			t.Fatalf("recorded: got %d times, want 1", wins)
		}
		if got := f.eventsFor(ws.ID, k.ID); len(got) != 3 {
			t.Fatalf("events: got %v, want created, leaked, revoked", got)
		}
	})

	t.Run("AllowlistRoundTrips", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("A", "a@example.com")
		k := f.key(ws.ID, "bound", func(k *latchkey.Key) { k.AllowedIPs = []string{"10.0.0.0/8", "2001:db8::/32"} })
		got, err := f.s.KeyByHash(f.ctx, k.Hash)
		wantCode(t, "KeyByHash", err, "")
		if !slices.Equal(got.AllowedIPs, k.AllowedIPs) {
			t.Fatalf("allowed_ips: got %v, want %v", got.AllowedIPs, k.AllowedIPs)
		}
		got, err = f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.AllowedIPs = nil
			ev := f.event(ws.ID, latchkey.EventKeyUpdated, k.ID)
			return &ev, nil
		})
		wantCode(t, "UpdateKey", err, "")
		if got.AllowedIPs != nil {
			t.Fatalf("cleared allowed_ips: got %v, want nil", got.AllowedIPs)
		}
	})
}
