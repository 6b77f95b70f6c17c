package storetest

import (
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// verifyChain reads a workspace's chain as an auditor would and returns
// the first break, or nil.
func verifyChain(f *fixture, workspaceID string) (int, error) {
	v := latchkey.ChainVerifier{WorkspaceID: workspaceID}
	n := 0
	err := f.s.EachEvent(f.ctx, latchkey.EventFilter{WorkspaceID: workspaceID}, func(ev *latchkey.Event) error {
		n++
		return v.Next(ev)
	})
	if err != nil {
		return n, err
	}
	head, err := f.s.ChainHead(f.ctx, workspaceID)
	if err != nil {
		return n, err
	}
	return n, v.End(head)
}

func testEventChain(t *testing.T, open func(t *testing.T) latchkey.Store) {
	t.Run("EmptyChain", func(t *testing.T) {
		f := newFixture(t, open)
		head, err := f.s.ChainHead(f.ctx, "ws_none")
		if err != nil || head.Seq != 0 || head.Hash != fmt.Sprintf("%064x", 0) {
			t.Fatalf("ChainHead of an empty chain: got %+v, %v, want seq 0 and a zero hash", head, err)
		}
		if n, err := verifyChain(f, "ws_none"); n != 0 || err != nil {
			t.Fatalf("verify empty chain: got %d events, %v", n, err)
		}
	})

	t.Run("EveryWriterLinks", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("Acme", "ann@acme.test")
		k := f.newKey(ws.ID, "ci")
		wantCode(t, "CreateKey", f.s.CreateKey(f.ctx, k, f.event(ws.ID, latchkey.EventKeyCreated, k.ID)), "")
		_, err := f.s.UpdateKey(f.ctx, ws.ID, k.ID, func(k *latchkey.Key) (*latchkey.Event, error) {
			k.Name = "ci2"
			ev := f.event(ws.ID, latchkey.EventKeyUpdated, k.ID)
			return &ev, nil
		})
		wantCode(t, "UpdateKey", err, "")
		wantCode(t, "AppendEvent", f.s.AppendEvent(f.ctx, f.event(ws.ID, latchkey.EventLogin, "")), "")
		wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, ws.ID, k.ID, f.event(ws.ID, latchkey.EventKeyDeleted, k.ID)), "")
		wantCode(t, "platform event", f.s.AppendEvent(f.ctx, f.event("", latchkey.EventLoginFailed, "")), "")
		n, err := verifyChain(f, ws.ID)
		if err != nil || n != 5 { // workspace.created, key created, updated, login, deleted
			t.Fatalf("verify: got %d events, %v, want 5 and no break", n, err)
		}
		if n, err := verifyChain(f, ""); err != nil || n != 1 {
			t.Fatalf("verify platform chain: got %d events, %v, want 1", n, err)
		}
		heads, err := f.s.ChainHeads(f.ctx)
		if err != nil || len(heads) != 2 || heads[0].WorkspaceID != "" || heads[1].WorkspaceID != ws.ID || heads[1].Seq != 5 {
			t.Fatalf("ChainHeads: got %+v, %v, want the platform's and Acme's at 5", heads, err)
		}
	})

	t.Run("FailedWriteLeavesNoLink", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("Acme", "ann@acme.test")
		ev := f.event(ws.ID, latchkey.EventLogin, "")
		wantCode(t, "AppendEvent", f.s.AppendEvent(f.ctx, ev), "")
		wantCode(t, "AppendEvent again", f.s.AppendEvent(f.ctx, ev), latchkey.ECONFLICT)
		_, err := f.s.UpdateKey(f.ctx, ws.ID, "key_missing", func(*latchkey.Key) (*latchkey.Event, error) { return nil, nil })
		wantCode(t, "UpdateKey missing", err, latchkey.ENOTFOUND)
		if n, err := verifyChain(f, ws.ID); err != nil || n != 2 {
			t.Fatalf("verify: got %d events, %v, want 2 and no break", n, err)
		}
	})

	t.Run("ConcurrentWritersKeepOneChain", func(t *testing.T) {
		f := newFixture(t, open)
		a, _ := f.workspace("A", "ann@a.test")
		b, _ := f.workspace("B", "bob@b.test")
		const writers, each = 8, 15
		var wg sync.WaitGroup
		errs := make(chan error, writers*each)
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range each {
					ws := a.ID
					if (w+i)%3 == 0 {
						ws = b.ID
					}
					ev := f.event(ws, "test.concurrent", fmt.Sprintf("w%d-%d", w, i))
					ev.At = now.Add(time.Duration(i) * time.Second)
					if err := f.s.AppendEvent(f.ctx, ev); err != nil {
						errs <- err
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("AppendEvent: %v", err)
		}
		na, errA := verifyChain(f, a.ID)
		nb, errB := verifyChain(f, b.ID)
		if errA != nil || errB != nil || na+nb != writers*each+2 {
			t.Fatalf("verify: got %d+%d events, %v, %v, want %d and no break", na, nb, errA, errB, writers*each+2)
		}
	})

	t.Run("NumbersReadBackAsHashed", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("Acme", "ann@acme.test")
		ev := f.event(ws.ID, "test.numbers", "")
		ev.Data = map[string]any{"big": int64(1) << 60, "float": 1.5e21, "list": []any{3, "x", true, nil}, "nested": map[string]any{"z": 1, "a": 2}}
		wantCode(t, "AppendEvent", f.s.AppendEvent(f.ctx, ev), "")
		if _, err := verifyChain(f, ws.ID); err != nil {
			t.Fatalf("verify: %v", err)
		}
	})

	t.Run("VerifierNamesTheBreak", func(t *testing.T) {
		f := newFixture(t, open)
		ws, _ := f.workspace("Acme", "ann@acme.test")
		for range 3 {
			wantCode(t, "AppendEvent", f.s.AppendEvent(f.ctx, f.event(ws.ID, latchkey.EventLogin, "")), "")
		}
		var evs []*latchkey.Event
		f.s.EachEvent(f.ctx, latchkey.EventFilter{WorkspaceID: ws.ID}, func(ev *latchkey.Event) error {
			evs = append(evs, ev)
			return nil
		})
		check := func(name string, list []*latchkey.Event, wantID string) {
			v := latchkey.ChainVerifier{WorkspaceID: ws.ID}
			var brk *latchkey.ChainBreak
			for _, ev := range list {
				if err := v.Next(ev); err != nil {
					if !errors.As(err, &brk) || brk.EventID != wantID {
						t.Errorf("%s: got %v, want a break at %s", name, err, wantID)
					}
					return
				}
			}
			t.Errorf("%s: no break found, want one at %s", name, wantID)
		}
		altered := *evs[2]
		altered.Target = "key_other"
		check("altered", []*latchkey.Event{evs[0], evs[1], &altered, evs[3]}, evs[2].ID)
		check("removed", []*latchkey.Event{evs[0], evs[2], evs[3]}, evs[2].ID)
		check("inserted", []*latchkey.Event{evs[0], evs[1], evs[1], evs[2]}, evs[1].ID)
	})
}
