package storetest

import (
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

// testUsageFold: several instances' flushes, folded by several instances
// at once, count each entry exactly once; what readers see is the same
// before and after the fold; entries that name a key of another
// workspace never count; a key deleted before the fold keeps its usage
// (it is what a product bills), and so does one deleted past retention.
func testUsageFold(t *testing.T, open func(*testing.T) latchkey.Store) {
	f := newFixture(t, open)
	a, _ := f.workspace("A", "a@example.com")
	b, _ := f.workspace("B", "b@example.com")
	var keys []*latchkey.Key
	for range 7 {
		keys = append(keys, f.key(a.ID, "in use"))
	}
	gone := f.key(a.ID, "deleted after its use")
	purged := f.key(a.ID, "revoked long ago, deleted past retention after its use", func(k *latchkey.Key) {
		at := now.Add(-time.Hour)
		k.RevokedAt, k.RevokedBy = &at, "usr_someone"
	})
	d := time.Date(2030, 6, 10, 0, 0, 0, 0, time.UTC)
	const flushes = 3
	for i := range flushes {
		var batch []latchkey.Usage
		for _, k := range append(keys[:len(keys):len(keys)], gone, purged) {
			batch = append(batch, latchkey.Usage{WorkspaceID: a.ID, KeyID: k.ID, Day: d, Environment: latchkey.Production,
				Valid: int64(i + 1), Denied: 1, Outcomes: map[string]int64{latchkey.OutcomeValid: int64(i + 1), string(latchkey.RateLimited): 1},
				Tags:       map[string]latchkey.TagCount{"path=/v1/items": {Verifications: int64(i + 2), Valid: int64(i + 1)}},
				LastUsedAt: now.Add(time.Duration(i) * latchkey.LastUsedStep)})
		}
		// Another workspace naming my keys counts nowhere.
		batch = append(batch, latchkey.Usage{WorkspaceID: b.ID, KeyID: keys[0].ID, Day: d, Environment: latchkey.Production,
			Valid: 100, Outcomes: map[string]int64{latchkey.OutcomeValid: 100}, LastUsedAt: now.Add(time.Hour)})
		wantCode(t, "AddUsage", f.s.AddUsage(f.ctx, batch), "")
	}
	wantCode(t, "DeleteKey", f.s.DeleteKey(f.ctx, a.ID, gone.ID, f.event(a.ID, latchkey.EventKeyDeleted, gone.ID)), "")
	deleted, err := f.s.DeleteExpiredKeys(f.ctx, a.ID, now.Add(-time.Hour), now, 10, func(k *latchkey.Key) latchkey.Event {
		return f.event(a.ID, latchkey.EventKeyDeleted, k.ID)
	})
	wantCode(t, "DeleteExpiredKeys", err, "")
	if len(deleted) != 1 || deleted[0].ID != purged.ID {
		t.Fatalf("DeleteExpiredKeys: got %v, want the revoked key", deleted)
	}

	type seen struct {
		days []latchkey.UsageDay
		tags []latchkey.UsageTag
	}
	read := func(t *testing.T, ws, keyID string) seen {
		t.Helper()
		days, err := f.s.Usage(f.ctx, ws, keyID, d, d)
		wantCode(t, "Usage", err, "")
		tags, err := f.s.UsageTags(f.ctx, ws, keyID, d, d)
		wantCode(t, "UsageTags", err, "")
		return seen{days, tags}
	}
	want := seen{
		days: []latchkey.UsageDay{{Day: "2030-06-10", Environment: latchkey.Production, Valid: 6, Denied: 3,
			Outcomes: map[string]int64{latchkey.OutcomeValid: 6, string(latchkey.RateLimited): 3}}},
		tags: []latchkey.UsageTag{{Day: "2030-06-10", Tag: "path=/v1/items", TagCount: latchkey.TagCount{Verifications: 9, Valid: 6}}},
	}
	check := func(t *testing.T, when string) {
		t.Helper()
		for _, k := range append(keys[:len(keys):len(keys)], gone, purged) {
			if got := read(t, a.ID, k.ID); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, key %s: got %+v, want %+v", when, k.ID, got, want)
			}
			if got := read(t, b.ID, k.ID); len(got.days)+len(got.tags) != 0 {
				t.Fatalf("%s, my key read as another workspace: got %+v", when, got)
			}
		}
	}
	check(t, "before the fold")

	const folders = 4
	var wg sync.WaitGroup
	errs := make(chan error, folders)
	for range folders {
		wg.Go(func() { errs <- f.fold() })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		wantCode(t, "FoldUsage(concurrent)", err, "")
	}
	check(t, "after the fold")
	if last, err := f.s.FoldUsage(f.ctx, "", 100); err != nil || last != "" {
		t.Fatalf("FoldUsage of an empty log: got %q, %v, want nothing folded", last, err)
	}
	check(t, "after a second fold")
	for _, k := range keys {
		got, err := f.s.Key(f.ctx, a.ID, k.ID)
		wantCode(t, "Key", err, "")
		if want := now.Add((flushes - 1) * latchkey.LastUsedStep); got.LastUsedAt == nil || !got.LastUsedAt.Equal(want) {
			t.Fatalf("LastUsedAt of %s: got %v, want %v (the latest of the flushes, not another workspace's)", k.ID, got.LastUsedAt, want)
		}
	}
}
