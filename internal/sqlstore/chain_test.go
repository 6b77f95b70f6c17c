package sqlstore_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/postgres/pgtest"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// rawStore is a store and a way around it, as someone with the database's
// credentials but not latchkey's would have.
type rawStore struct {
	latchkey.Store
	exec   func(q string, args ...any) error
	reopen func() latchkey.Store
}

func stores(t *testing.T) map[string]func(t *testing.T) rawStore {
	return map[string]func(t *testing.T) rawStore{
		"sqlite": func(t *testing.T) rawStore {
			ctx := context.Background()
			path := filepath.Join(t.TempDir(), "latchkey.db")
			open := func() latchkey.Store {
				st, err := sqlite.Open(ctx, path)
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
			st := open()
			raw, err := sql.Open("sqlite", path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { raw.Close() })
			return rawStore{st, func(q string, args ...any) error {
				_, err := raw.ExecContext(ctx, q, args...)
				return err
			}, open}
		},
		"postgres": func(t *testing.T) rawStore {
			ctx := context.Background()
			d := pgtest.New(t)
			open := func() latchkey.Store {
				st, err := postgres.Open(ctx, d.URL(nil))
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { st.Close() })
				return st
			}
			st := open()
			conn, err := pgx.Connect(ctx, d.URL(nil))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { conn.Close(ctx) })
			return rawStore{st, func(q string, args ...any) error {
				n := 0
				q = rebindForTest(q, &n)
				_, err := conn.Exec(ctx, q, args...)
				return err
			}, open}
		},
	}
}

func rebindForTest(q string, n *int) string {
	var b strings.Builder
	for _, c := range q {
		if c == '?' {
			*n++
			b.WriteString("$" + string(rune('0'+*n)))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

var t0 = time.Date(2031, 5, 1, 12, 0, 0, 0, time.UTC)

func event(id, ws string, i int) latchkey.Event {
	return latchkey.Event{ID: id, WorkspaceID: ws, At: t0.Add(time.Duration(i) * time.Minute),
		Actor:  latchkey.Actor{Type: latchkey.ActorUser, ID: "usr_1", Label: "ann@acme.test"},
		Action: latchkey.EventKeyUpdated, Target: "key_1", IP: "192.0.2.1", Data: map[string]any{"n": i}}
}

// audit verifies ws's chain as `latchkey audit verify` does.
func audit(t *testing.T, st latchkey.Store, ws string) error {
	t.Helper()
	ctx := context.Background()
	v := latchkey.ChainVerifier{WorkspaceID: ws}
	if err := st.EachEvent(ctx, latchkey.EventFilter{WorkspaceID: ws}, v.Next); err != nil {
		return err
	}
	head, err := st.ChainHead(ctx, ws)
	if err != nil {
		t.Fatal(err)
	}
	return v.End(head)
}

func wantBreak(t *testing.T, err error, eventID string) {
	t.Helper()
	var brk *latchkey.ChainBreak
	if !errors.As(err, &brk) {
		t.Fatalf("audit: got %v, want a break at %q", err, eventID)
	}
	if brk.EventID != eventID {
		t.Fatalf("audit: break at %q (%s), want %q", brk.EventID, brk.Reason, eventID)
	}
}

// TestChainShowsTampering edits, deletes and inserts event rows with SQL,
// as someone with the database's password could, and checks that the
// audit names the first event that no longer follows.
func TestChainShowsTampering(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			for _, tc := range []struct {
				name, sql string
				args      []any
				want      string // the event the audit names; "" for the end
			}{
				{"edit", `UPDATE events SET target = 'key_2' WHERE id = ?`, []any{"evt_3"}, "evt_3"},
				{"edit data", `UPDATE events SET data = '{"n":99}' WHERE id = ?`, []any{"evt_2"}, "evt_2"},
				{"delete", `DELETE FROM events WHERE id = ?`, []any{"evt_3"}, "evt_4"},
				{"delete last", `DELETE FROM events WHERE id = ?`, []any{"evt_5"}, ""},
				{"insert unlinked", `INSERT INTO events (id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip)
					VALUES (?, 'ws_a', 0, 'user', 'usr_1', 'x', 'key.revoked', 'key_1', '')`, []any{"evt_9"}, "evt_9"},
			} {
				t.Run(tc.name, func(t *testing.T) {
					st := open(t)
					for i := 1; i <= 5; i++ {
						if err := st.AppendEvent(ctx, event("evt_"+string(rune('0'+i)), "ws_a", i)); err != nil {
							t.Fatal(err)
						}
					}
					if err := audit(t, st, "ws_a"); err != nil {
						t.Fatalf("audit before tampering: %v", err)
					}
					args := tc.args
					if name == "postgres" && strings.Contains(tc.sql, "INSERT") {
						tc.sql = strings.Replace(tc.sql, ", 0,", ", now(),", 1)
					}
					if err := st.exec(tc.sql, args...); err != nil {
						t.Fatal(err)
					}
					err := audit(t, st, "ws_a")
					if tc.want == "" {
						var brk *latchkey.ChainBreak
						if !errors.As(err, &brk) || !strings.Contains(brk.Reason, "removed from its end") {
							t.Fatalf("audit: got %v, want events removed from the end", err)
						}
						return
					}
					wantBreak(t, err, tc.want)
					// Reopening the store must not launder an inserted row
					// into the chain.
					if err := audit(t, st.reopen(), "ws_a"); err == nil {
						t.Fatal("audit after reopening: no break, want the same one")
					}
				})
			}
		})
	}
}

// TestSealLegacyEvents checks that events stored before the chain are
// linked when the store opens, and only while the chain is empty.
func TestSealLegacyEvents(t *testing.T) {
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := open(t)
			at := any(int64(0))
			if name == "postgres" {
				at = t0
			}
			for _, id := range []string{"evt_1", "evt_2"} {
				if err := st.exec(`INSERT INTO events (id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip, data)
					VALUES (?, 'ws_old', ?, 'user', 'usr_1', 'ann@acme.test', 'key.created', 'key_1', '', '{"b":2,"a":1}')`, id, at); err != nil {
					t.Fatal(err)
				}
			}
			st = rawStore{st.reopen(), st.exec, st.reopen}
			if err := audit(t, st, "ws_old"); err != nil {
				t.Fatalf("audit after sealing: %v", err)
			}
			if err := st.AppendEvent(ctx, event("evt_3", "ws_old", 3)); err != nil {
				t.Fatal(err)
			}
			if err := audit(t, st, "ws_old"); err != nil {
				t.Fatalf("audit after a new event: %v", err)
			}
			if err := st.exec(`INSERT INTO events (id, workspace_id, at, actor_type, actor_id, actor_label, action, target, ip)
				VALUES (?, 'ws_old', ?, 'user', 'usr_1', 'x', 'key.revoked', 'key_1', '')`, "evt_0", at); err != nil {
				t.Fatal(err)
			}
			wantBreak(t, audit(t, st.reopen(), "ws_old"), "evt_0")
		})
	}
}
