package storetest

import (
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func testUsageOutcomes(t *testing.T, f *fixture) {
	a, _ := f.workspace("A", "a@example.com")
	b, _ := f.workspace("B", "b@example.com")
	k := f.key(a.ID, "counted")
	d := time.Date(2030, 6, 10, 0, 0, 0, 0, time.UTC)
	entry := func(ws string, env latchkey.Environment, valid, denied int64, out map[string]int64) latchkey.Usage {
		return latchkey.Usage{WorkspaceID: ws, KeyID: k.ID, Day: d, Environment: env, Valid: valid, Denied: denied, Outcomes: out}
	}
	f.addUsage(t, "AddUsage", []latchkey.Usage{
		entry(a.ID, latchkey.Production, 4, 5, map[string]int64{"valid": 4, "key_expired": 1, "key_disabled": 2, "usage_exceeded": 2}),
		entry(a.ID, latchkey.Demo, 0, 1, map[string]int64{"wrong_environment": 1}),
		// Another workspace naming my key adds nothing to it.
		entry(b.ID, latchkey.Production, 50, 50, map[string]int64{"valid": 50, "key_revoked": 50}),
	})
	f.addUsage(t, "AddUsage", []latchkey.Usage{
		entry(a.ID, latchkey.Production, 1, 1, map[string]int64{"valid": 1, "usage_exceeded": 1, "rate_limited": 0}),
		entry(a.ID, latchkey.Production, 2, 0, nil), // totals only
	})
	got, err := f.s.Usage(f.ctx, a.ID, k.ID, d, d)
	wantCode(t, "Usage", err, "")
	want := []latchkey.UsageDay{
		{Day: "2030-06-10", Environment: latchkey.Production, Valid: 7, Denied: 6,
			Outcomes: map[string]int64{"valid": 5, "key_expired": 1, "key_disabled": 2, "usage_exceeded": 3}},
		{Day: "2030-06-10", Environment: latchkey.Demo, Denied: 1, Outcomes: map[string]int64{"wrong_environment": 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("Usage: got %+v, want %+v", got, want)
	}
	got, err = f.s.Usage(f.ctx, b.ID, k.ID, d, d)
	wantCode(t, "Usage(other workspace)", err, "")
	if len(got) != 0 {
		t.Fatalf("Usage of my key read as another workspace: got %+v, want nothing", got)
	}
}

func testUsageTags(t *testing.T, f *fixture) {
	a, _ := f.workspace("A", "a@example.com")
	b, _ := f.workspace("B", "b@example.com")
	k := f.key(a.ID, "tagged")
	other := f.key(a.ID, "another key")
	day := func(n int) time.Time { return time.Date(2030, 6, 10+n, 0, 0, 0, 0, time.UTC) }
	entry := func(ws string, key *latchkey.Key, d int, tags map[string]latchkey.TagCount) latchkey.Usage {
		return latchkey.Usage{WorkspaceID: ws, KeyID: key.ID, Day: day(d), Environment: latchkey.Production, Valid: 1, Tags: tags}
	}
	read := func(t *testing.T, ws, keyID string, d int) map[string]latchkey.TagCount {
		t.Helper()
		list, err := f.s.UsageTags(f.ctx, ws, keyID, day(d), day(d))
		wantCode(t, "UsageTags", err, "")
		m := map[string]latchkey.TagCount{}
		for _, tg := range list {
			if tg.Day != day(d).Format(time.DateOnly) {
				t.Fatalf("UsageTags: got day %s, want %s", tg.Day, day(d).Format(time.DateOnly))
			}
			m[tg.Tag] = tg.TagCount
		}
		return m
	}

	t.Run("counted and summed", func(t *testing.T) {
		f.addUsage(t, "AddUsage", []latchkey.Usage{
			entry(a.ID, k, 0, map[string]latchkey.TagCount{"path=/v1/a": tc(3, 2), "version=1.2": tc(1, 1)}),
			entry(a.ID, k, 1, map[string]latchkey.TagCount{"path=/v1/a": tc(1, 0)}),
		})
		f.addUsage(t, "AddUsage", []latchkey.Usage{
			entry(a.ID, k, 0, map[string]latchkey.TagCount{"path=/v1/a": tc(2, 2)}),
		})
		want := map[string]latchkey.TagCount{"path=/v1/a": tc(5, 4), "version=1.2": tc(1, 1)}
		if got := read(t, a.ID, k.ID, 0); !reflect.DeepEqual(got, want) {
			t.Fatalf("day 0: got %v, want %v", got, want)
		}
		list, err := f.s.UsageTags(f.ctx, a.ID, k.ID, day(0), day(1))
		wantCode(t, "UsageTags", err, "")
		if len(list) != 3 || list[0].Tag != "path=/v1/a" || list[1].Tag != "version=1.2" || list[2].Day != "2030-06-11" {
			t.Fatalf("UsageTags over two days: got %+v, want day 0's two tags then day 1's", list)
		}
	})

	t.Run("another workspace can neither add nor read", func(t *testing.T) {
		f.addUsage(t, "AddUsage", []latchkey.Usage{
			entry(b.ID, k, 0, map[string]latchkey.TagCount{"path=/v1/a": tc(100, 100), "evil": tc(1, 1)}),
		})
		want := map[string]latchkey.TagCount{"path=/v1/a": tc(5, 4), "version=1.2": tc(1, 1)}
		if got := read(t, a.ID, k.ID, 0); !reflect.DeepEqual(got, want) {
			t.Fatalf("after another workspace's batch: got %v, want %v", got, want)
		}
		if got := read(t, b.ID, k.ID, 0); len(got) != 0 {
			t.Fatalf("my key's tags read as another workspace: got %v, want nothing", got)
		}
	})

	t.Run("random tags are capped", func(t *testing.T) {
		// An attacker holding a valid key sends a new tag on every call.
		const sent = latchkey.MaxUsageTags + 50
		for batch := range 3 {
			tags := map[string]latchkey.TagCount{}
			for i := range sent / 3 {
				tags[fmt.Sprintf("random=%03d", batch*(sent/3)+i)] = latchkey.TagCount{Verifications: 1}
			}
			f.addUsage(t, "AddUsage", []latchkey.Usage{entry(a.ID, other, 0, tags)})
		}
		got := read(t, a.ID, other.ID, 0)
		if len(got) != latchkey.MaxUsageTags+1 {
			t.Fatalf("distinct tags kept: got %d, want %d and %s", len(got), latchkey.MaxUsageTags, latchkey.UsageTagOther)
		}
		if o := got[latchkey.UsageTagOther]; o.Verifications != sent-latchkey.MaxUsageTags {
			t.Fatalf("%s: got %d verifications, want %d", latchkey.UsageTagOther, o.Verifications, sent-latchkey.MaxUsageTags)
		}
		// A tag already kept still counts under its name; a new one
		// (or one named like the bucket) goes to the bucket.
		f.addUsage(t, "AddUsage", []latchkey.Usage{entry(a.ID, other, 0, map[string]latchkey.TagCount{
			"random=000": tc(7, 7), "late": tc(1, 0), latchkey.UsageTagOther: tc(1, 1)})})
		got = read(t, a.ID, other.ID, 0)
		if got["random=000"] != (latchkey.TagCount{Verifications: 8, Valid: 7}) || got["late"] != (latchkey.TagCount{}) {
			t.Fatalf("after the cap: got random=000 %v and late %v, want {8 7} and none", got["random=000"], got["late"])
		}
		if o := got[latchkey.UsageTagOther]; o.Verifications != sent-latchkey.MaxUsageTags+2 || o.Valid != 1 {
			t.Fatalf("%s after the cap: got %+v, want %d verifications, 1 valid", latchkey.UsageTagOther, o, sent-latchkey.MaxUsageTags+2)
		}
		// The cap is per key and day: the next day starts afresh.
		f.addUsage(t, "AddUsage", []latchkey.Usage{entry(a.ID, other, 1, map[string]latchkey.TagCount{"late": tc(1, 0)})})
		if got := read(t, a.ID, other.ID, 1); got["late"].Verifications != 1 {
			t.Fatalf("next day: got %v, want late counted under its name", got)
		}
	})

	t.Run("cap holds across concurrent flushes", func(t *testing.T) {
		// Instances flush at once, each with tags the others have not seen.
		fresh := f.key(a.ID, "hammered")
		const writers = 4
		var wg sync.WaitGroup
		errs := make(chan error, writers)
		for w := range writers {
			wg.Go(func() {
				tags := map[string]latchkey.TagCount{}
				for i := range latchkey.MaxUsageTags / 2 {
					tags[fmt.Sprintf("w%d=%03d", w, i)] = latchkey.TagCount{Verifications: 1}
				}
				errs <- f.s.AddUsage(f.ctx, []latchkey.Usage{entry(a.ID, fresh, 0, tags)})
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			wantCode(t, "AddUsage(concurrent)", err, "")
		}
		if f.foldUsage {
			// And as many folds at once.
			folds := make(chan error, writers)
			for range writers {
				wg.Go(func() { folds <- f.fold() })
			}
			wg.Wait()
			close(folds)
			for err := range folds {
				wantCode(t, "FoldUsage(concurrent)", err, "")
			}
		}
		got := read(t, a.ID, fresh.ID, 0)
		var total int64
		for _, c := range got {
			total += c.Verifications
		}
		if len(got) != latchkey.MaxUsageTags+1 || total != writers*latchkey.MaxUsageTags/2 {
			t.Fatalf("concurrent flushes: got %d distinct tags and %d verifications, want %d and %d",
				len(got), total, latchkey.MaxUsageTags+1, writers*latchkey.MaxUsageTags/2)
		}
	})
}

func tc(verifications, valid int64) latchkey.TagCount {
	return latchkey.TagCount{Verifications: verifications, Valid: valid}
}
