package jobs_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jobs"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/postgres/pgtest"
	"github.com/latchkey/latchkey/internal/token"
)

// Two instances on one database tick at the same moments: the advisory
// lock lets one of them work per tick, and the notice's primary key stops
// a duplicate even if both did.
func TestTwoRunnersOnPostgresNeverDoubleSend(t *testing.T) {
	ctx := context.Background()
	url := pgtest.New(t).URL(nil)
	var dbs []*postgres.DB
	for range 2 {
		db, err := postgres.Open(ctx, url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs = append(dbs, db)
	}
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	format, _ := token.NewFormat("lk")
	svc := manage.New(manage.Config{Store: dbs[0], Format: format, Now: c.Now})
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Principal(ctx, manage.Caller{User: first.Owner}, first.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	var keys []*latchkey.Key
	for _, name := range []string{"a", "b", "c", "d"} {
		k, _, err := svc.CreateKey(ctx, p, first.Workspace.ID, manage.CreateKey{Name: name, Owner: latchkey.OwnerWorkspace, ExpiresIn: "1y"})
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k)
	}
	var runners []*jobs.Runner
	for _, db := range dbs {
		runners = append(runners, jobs.New(jobs.Config{Store: db, Locker: db, Now: c.Now}))
	}
	c.Set(keys[0].ExpiresAt.Add(-30 * latchkey.Day))
	for range 5 {
		var wg sync.WaitGroup
		for _, r := range runners {
			wg.Go(func() {
				if err := r.RunOnce(ctx); err != nil {
					t.Errorf("RunOnce: %v", err)
				}
			})
		}
		wg.Wait()
	}
	mails, _, err := dbs[1].Mails(ctx, first.Workspace.ID, 200, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 1 || mails[0].Subject != jobs.Subject(len(keys)) {
		t.Fatalf("mails: got %d, want one digest about %d keys", len(mails), len(keys))
	}
	for _, k := range keys {
		if !strings.Contains(mails[0].Body, k.ID) {
			t.Fatalf("the digest does not list %s:\n%s", k.ID, mails[0].Body)
		}
	}
	evs, _, err := dbs[1].Events(ctx, latchkey.EventFilter{WorkspaceID: first.Workspace.ID, Action: latchkey.EventKeyExpiring})
	if err != nil || len(evs) != len(keys) {
		t.Fatalf("key.expiring events: got %d (%v), want %d", len(evs), err, len(keys))
	}
}
