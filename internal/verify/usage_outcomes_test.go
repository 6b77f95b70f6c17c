package verify

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestUsageByOutcome(t *testing.T) {
	f := newFixture(t)
	tok, k := f.key(func(k *latchkey.Key) {
		k.RateLimit = &latchkey.RateLimit{Limit: 3, Period: latchkey.Duration(time.Hour)}
	})
	revoked, kr := f.key(func(k *latchkey.Key) { k.RevokedAt = ptr(t0.Add(-time.Hour)) })
	disabled, kd := f.key(func(k *latchkey.Key) { k.DisabledAt = ptr(t0.Add(-time.Hour)) })
	expired, ke := f.key(func(k *latchkey.Key) { k.ExpiresAt = ptr(t0.Add(-time.Hour)) })
	spent, ks := f.key(func(k *latchkey.Key) { k.Credits = &latchkey.Credits{Remaining: 1, RefilledAt: t0} })

	f.v.Check(f.ctx, tok, Request{})                                     // valid
	f.v.Check(f.ctx, tok, Request{Scopes: []string{"items:write"}})      // insufficient_scope
	f.v.Check(f.ctx, tok, Request{Type: "scim"})                         // wrong_type
	f.v.Check(f.ctx, tok, Request{Environment: latchkey.Demo})           // wrong_environment
	f.v.Check(f.ctx, tok, Request{})                                     // valid
	f.v.Check(f.ctx, tok, Request{})                                     // valid, the limit's third
	f.v.Check(f.ctx, tok, Request{})                                     // rate_limited
	f.v.Check(f.ctx, "lk_live_not_a_key_at_all_000000000000", Request{}) // no key: not counted
	f.v.Check(f.ctx, revoked, Request{})
	f.v.Check(f.ctx, disabled, Request{})
	f.v.Check(f.ctx, expired, Request{})
	f.v.Check(f.ctx, spent, Request{})
	f.v.Check(f.ctx, spent, Request{})
	if err := f.v.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		key         *latchkey.Key
		valid, deny int64
		want        map[string]int64
	}{
		{k, 3, 4, map[string]int64{"valid": 3, "insufficient_scope": 1, "wrong_type": 1, "wrong_environment": 1, "rate_limited": 1}},
		{kr, 0, 1, map[string]int64{"key_revoked": 1}},
		{kd, 0, 1, map[string]int64{"key_disabled": 1}},
		{ke, 0, 1, map[string]int64{"key_expired": 1}},
		{ks, 1, 1, map[string]int64{"valid": 1, "usage_exceeded": 1}},
	}
	for _, tt := range tests {
		days, err := f.db.Usage(f.ctx, f.ws, tt.key.ID, t0, t0)
		if err != nil {
			t.Fatal(err)
		}
		if len(days) != 1 || days[0].Valid != tt.valid || days[0].Denied != tt.deny || !reflect.DeepEqual(days[0].Outcomes, tt.want) {
			t.Errorf("usage of %v: got %+v, want %d valid, %d denied, outcomes %v", tt.want, days, tt.valid, tt.deny, tt.want)
		}
	}
}

// TestOutcomeCodesCounted: every outcome about a found key has a slot;
// the outcomes that are not the key's have none.
func TestOutcomeCodesCounted(t *testing.T) {
	for i, code := range outcomeCodes {
		if got, ok := outcomeIndex(code); !ok || got != i {
			t.Errorf("outcomeIndex(%q): got %d, %v, want %d, true", code, got, ok, i)
		}
	}
	for _, code := range []latchkey.VerifyCode{latchkey.VerifyUnavailable, latchkey.KeyInvalid, latchkey.KeyMissing, latchkey.KeyMalformed} {
		if _, ok := outcomeIndex(code); ok {
			t.Errorf("outcomeIndex(%q): counted, want not counted", code)
		}
	}
}

func TestTagsCounted(t *testing.T) {
	f := newFixture(t)
	tok, k := f.key()
	f.v.Check(f.ctx, tok, Request{Tags: []string{"path=/v1/items", "version=2"}})
	f.v.Check(f.ctx, tok, Request{Tags: []string{"path=/v1/items", "path=/v1/items"}}) // once per verification
	f.v.Check(f.ctx, tok, Request{Tags: []string{"path=/v1/items"}, Scopes: []string{"items:write"}})
	f.v.Check(f.ctx, tok, Request{})
	if err := f.v.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.db.UsageTags(f.ctx, f.ws, k.ID, t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := []latchkey.UsageTag{
		{Day: "2025-03-14", Tag: "path=/v1/items", TagCount: latchkey.TagCount{Verifications: 3, Valid: 2}},
		{Day: "2025-03-14", Tag: "version=2", TagCount: latchkey.TagCount{Verifications: 1, Valid: 1}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("UsageTags: got %+v, want %+v", got, want)
	}
}

// TestRandomTagsCannotGrowUsage: a caller with a valid key sends a new tag
// on every verification. Memory between flushes and the stored counts
// both stop at MaxUsageTags names; the rest is counted under (other).
func TestRandomTagsCannotGrowUsage(t *testing.T) {
	f := newFixture(t)
	tok, k := f.key()
	const sent = 5 * latchkey.MaxUsageTags
	for i := range sent {
		f.v.Check(f.ctx, tok, Request{Tags: []string{fmt.Sprintf("random=%d", i), "path=/v1/items"}})
	}
	f.v.usage.mu.Lock()
	for _, c := range f.v.usage.m {
		if len(c.tags) > latchkey.MaxUsageTags+1 {
			t.Errorf("tags held in memory: got %d, want at most %d", len(c.tags), latchkey.MaxUsageTags+1)
		}
	}
	f.v.usage.mu.Unlock()
	if err := f.v.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	// The next flush window brings new random tags: the store keeps the cap.
	for i := range latchkey.MaxUsageTags {
		f.v.Check(f.ctx, tok, Request{Tags: []string{fmt.Sprintf("again=%d", i)}})
	}
	if err := f.v.Flush(f.ctx); err != nil {
		t.Fatal(err)
	}
	got, err := f.db.UsageTags(f.ctx, f.ws, k.ID, t0, t0)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != latchkey.MaxUsageTags+1 {
		t.Fatalf("tags stored: got %d, want %d", len(got), latchkey.MaxUsageTags+1)
	}
	var total int64
	counts := map[string]int64{}
	for _, tg := range got {
		total += tg.Verifications
		counts[tg.Tag] = tg.Verifications
	}
	if counts["path=/v1/items"] != sent {
		t.Errorf("the tag sent every time: got %d, want %d", counts["path=/v1/items"], sent)
	}
	if want := int64(2*sent + latchkey.MaxUsageTags); total != want {
		t.Errorf("tag counts in all: got %d, want %d (nothing lost, all beyond the cap in %s)", total, want, latchkey.UsageTagOther)
	}
}

// TestWarmCountingAllocatesNothing: counting a decision, valid or refused
// and with tags already seen, adds no allocation to the warm path.
func TestWarmCountingAllocatesNothing(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key()
	ctx := context.Background()
	for _, c := range []struct {
		name string
		req  Request
		want latchkey.VerifyCode
	}{
		{"valid", Request{Scopes: []string{"items:read"}, Type: "public_api"}, ""},
		{"valid with tags", Request{Type: "public_api", Tags: []string{"path=/v1/items", "version=2"}}, ""},
		{"refused", Request{Type: "public_api", Environment: latchkey.Demo}, latchkey.WrongEnvironment},
		{"refused with tags", Request{Type: "scim", Tags: []string{"path=/v1/items"}}, latchkey.WrongType},
	} {
		if got := f.v.Check(ctx, tok, c.req).Code; got != c.want {
			t.Fatalf("%s: got %q, want %q", c.name, got, c.want)
		}
		if n := testing.AllocsPerRun(200, func() { f.v.Check(ctx, tok, c.req) }); n != 0 {
			t.Errorf("%s: got %v allocations, want 0", c.name, n)
		}
	}
}

// BenchmarkCheckWarmTagged is BenchmarkCheckWarm with two tags counted.
func BenchmarkCheckWarmTagged(b *testing.B) {
	f := newFixture(b)
	tok, _ := f.key()
	req := Request{Scopes: []string{"items:read"}, Type: "public_api", Tags: []string{"path=/v1/items", "version=2.1"}}
	ctx := context.Background()
	if r := f.v.Check(ctx, tok, req); r.Code != "" {
		b.Fatalf("Check: got %q, want valid", r.Code)
	}
	b.ReportAllocs()
	for b.Loop() {
		if r := f.v.Check(ctx, tok, req); r.Code != "" {
			b.Fatal(r.Code)
		}
	}
}
