package storetest

import (
	"slices"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testEvents(t *testing.T, open func(t *testing.T) latchkey.Store) {
	f := newFixture(t, open)
	a, b := "ws_01JD000000000000000000000A", "ws_01JD000000000000000000000B"
	type spec struct {
		action, target, actor string
		at                    time.Duration
	}
	specs := []spec{
		{latchkey.EventKeyCreated, "key_1", "usr_1", 0},
		{latchkey.EventKeyUpdated, "key_1", "usr_1", time.Minute},
		{latchkey.EventKeyRevoked, "key_2", "usr_2", 2 * time.Minute},
		{latchkey.EventLogin, "", "usr_2", 3 * time.Minute},
		{"keys.imported", "key_3", "usr_1", 4 * time.Minute}, // "key." must not match "keys."
		{latchkey.EventKeyDeleted, "key_2", "usr_1", 5 * time.Minute},
	}
	var ids []string // of A's events, newest first
	var first latchkey.Event
	for i, s := range specs {
		for _, ws := range []string{a, b} {
			ev := f.event(ws, s.action, s.target)
			ev.Actor.ID, ev.At = s.actor, now.Add(s.at)
			if i == 3 {
				ev.Data = nil
			}
			wantCode(t, "AppendEvent", f.s.AppendEvent(f.ctx, ev), "")
			if ws == a {
				ids = append([]string{ev.ID}, ids...)
				if i == 0 {
					first = ev
				}
			}
		}
	}
	// pick returns A's event ids of the given spec indexes, newest first.
	pick := func(idx ...int) []string {
		var out []string
		for i := len(specs) - 1; i >= 0; i-- {
			if slices.Contains(idx, i) {
				out = append(out, ids[len(specs)-1-i])
			}
		}
		return out
	}
	at := func(d time.Duration) *time.Time { return ptr(now.Add(d)) }

	tests := []struct {
		name string
		f    latchkey.EventFilter
		want []string
	}{
		{"all", latchkey.EventFilter{}, ids},
		{"action exact", latchkey.EventFilter{Action: latchkey.EventKeyCreated}, pick(0)},
		{"action prefix", latchkey.EventFilter{Action: "key."}, pick(0, 1, 2, 5)},
		{"action without dot is exact", latchkey.EventFilter{Action: "key"}, nil},
		{"target", latchkey.EventFilter{Target: "key_2"}, pick(2, 5)},
		{"actor", latchkey.EventFilter{Actor: "usr_2"}, pick(2, 3)},
		{"from", latchkey.EventFilter{From: at(time.Minute)}, pick(1, 2, 3, 4, 5)},
		{"to", latchkey.EventFilter{To: at(2 * time.Minute)}, pick(0, 1, 2)},
		{"from equals to", latchkey.EventFilter{From: at(2 * time.Minute), To: at(2 * time.Minute)}, pick(2)},
		{"combined", latchkey.EventFilter{Action: "key.", Actor: "usr_1", From: at(time.Minute)}, pick(1, 5)},
		{"no match", latchkey.EventFilter{Target: "key_9"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, limit := range []int{1, 2, 200} {
				kf := tt.f
				kf.WorkspaceID, kf.Limit = a, limit
				var got []string
				pages := 0
				for {
					pages++
					list, next, err := f.s.Events(f.ctx, kf)
					wantCode(t, "Events", err, "")
					for _, ev := range list {
						if ev.WorkspaceID != a {
							t.Fatalf("Events: got an event of %s, want only %s", ev.WorkspaceID, a)
						}
						got = append(got, ev.ID)
					}
					if next == "" || pages > 20 {
						break
					}
					kf.Cursor = next
				}
				if !slices.Equal(got, tt.want) {
					t.Fatalf("limit %d: got %v, want %v", limit, got, tt.want)
				}
				if want := max(1, (len(tt.want)+limit-1)/limit); pages != want {
					t.Fatalf("limit %d: got %d pages, want %d", limit, pages, want)
				}
			}
		})
	}

	t.Run("round trip", func(t *testing.T) {
		list, _, err := f.s.Events(f.ctx, latchkey.EventFilter{WorkspaceID: a, Action: latchkey.EventKeyCreated})
		if err != nil || len(list) != 1 {
			t.Fatalf("Events: got %d, %v, want 1", len(list), err)
		}
		got := *list[0]
		if got.Seq == 0 || len(got.Hash) != 64 || len(got.PrevHash) != 64 {
			t.Fatalf("event read back without its chain link: seq %d, hash %q, prev %q", got.Seq, got.Hash, got.PrevHash)
		}
		got.Seq, got.Hash, got.PrevHash = 0, "", ""
		wantSame(t, "event", &got, &first)
		list, _, err = f.s.Events(f.ctx, latchkey.EventFilter{WorkspaceID: a, Action: latchkey.EventLogin})
		if err != nil || len(list) != 1 || list[0].Data != nil {
			t.Fatalf("event without data: got %v, %v, want nil data", list, err)
		}
	})

	t.Run("non-ASCII action prefix", func(t *testing.T) {
		c := "ws_01JD000000000000000000000C"
		for _, action := range []string{"prüfung.started", "prüfungen.started", "prüf.x"} {
			wantCode(t, "AppendEvent", f.s.AppendEvent(f.ctx, f.event(c, action, "")), "")
		}
		list, _, err := f.s.Events(f.ctx, latchkey.EventFilter{WorkspaceID: c, Action: "prüfung."})
		if err != nil || len(list) != 1 || list[0].Action != "prüfung.started" {
			t.Fatalf("Events(prüfung.): got %v, %v, want only prüfung.started", list, err)
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, _, err := f.s.Events(f.ctx, latchkey.EventFilter{WorkspaceID: a, Cursor: "%%%"})
		wantCode(t, "Events(bad cursor)", err, latchkey.EINVALID)
		wantCode(t, "AppendEvent(same id)", f.s.AppendEvent(f.ctx, first), latchkey.ECONFLICT)
	})
}
