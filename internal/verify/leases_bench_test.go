package verify

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey"
)

// BenchmarkCheckWarmBudgeted is BenchmarkCheckWarm for a key with credits
// and a named limit: the cost of spending from leased blocks.
func BenchmarkCheckWarmBudgeted(b *testing.B) {
	f := newFixture(b)
	tok, _ := f.key(credits(1e15), limits(latchkey.NamedLimit{Name: "day", Limit: 1e9, Duration: latchkey.Duration(latchkey.Day)}))
	req := Request{Scopes: []string{"items:read"}, Type: "public_api"}
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

// BenchmarkCheckWarmBudgetedParallel spends one key's budgets from every
// core at once: the atomic fast path under contention.
func BenchmarkCheckWarmBudgetedParallel(b *testing.B) {
	f := newFixture(b)
	tok, _ := f.key(credits(1e15), limits(latchkey.NamedLimit{Name: "day", Limit: 1e9, Duration: latchkey.Duration(latchkey.Day)}))
	req := Request{Scopes: []string{"items:read"}, Type: "public_api"}
	ctx := context.Background()
	f.v.Check(ctx, tok, req)
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if r := f.v.Check(ctx, tok, req); r.Code != "" {
				b.Error(r.Code)
				return
			}
		}
	})
}
