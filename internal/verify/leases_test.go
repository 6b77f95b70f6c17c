package verify

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func credits(n int64) func(*latchkey.Key) {
	return func(k *latchkey.Key) { k.Credits = &latchkey.Credits{Remaining: n, RefilledAt: t0} }
}

func limits(ls ...latchkey.NamedLimit) func(*latchkey.Key) {
	return func(k *latchkey.Key) { k.RateLimits = ls }
}

func TestCreditsAreSpentAndRunOut(t *testing.T) {
	f := newFixture(t)
	tok, k := f.key(credits(5))
	var left []int64
	for range 5 {
		r := f.v.Check(f.ctx, tok, Request{})
		if !r.Valid() || !r.HasCredits {
			t.Fatalf("verification within the credits: got %q (credits %+v), want valid with credits", r.Code, r.Credits)
		}
		left = append(left, r.Credits.Remaining)
	}
	r := f.v.Check(f.ctx, tok, Request{})
	if r.Code != latchkey.UsageExceeded {
		t.Fatalf("sixth verification of 5 credits: got %q, want usage_exceeded", r.Code)
	}
	// The answers count down; each is an upper bound of what is left.
	for i, n := range left {
		if n < int64(4-i) || n > 5 {
			t.Errorf("verification %d: remaining %d, want between %d and 5", i+1, n, 4-i)
		}
	}
	if left[4] != 0 {
		t.Errorf("after the last credit: remaining %d, want 0", left[4])
	}
	// Free verifications (cost 0) pass with no credits left.
	if r := f.v.Check(f.ctx, tok, Request{Cost: CostNone}); !r.Valid() {
		t.Errorf("cost 0 with no credits: got %q, want valid", r.Code)
	}
	// Setting the credits again (and telling the verifier, as the
	// management layer does) lets the key through again.
	f.update(k, func(k *latchkey.Key) { k.Credits = &latchkey.Credits{Remaining: 3, RefilledAt: t0.Add(time.Second)} })
	f.v.InvalidateKey(k.ID)
	if r := f.v.Check(f.ctx, tok, Request{Cost: 3}); !r.Valid() {
		t.Fatalf("cost 3 of 3 new credits: got %q, want valid", r.Code)
	}
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != latchkey.UsageExceeded {
		t.Fatalf("after spending the new credits: got %q, want usage_exceeded", r.Code)
	}
}

func TestCreditsRefillAtTheBoundary(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(func(k *latchkey.Key) {
		k.Credits = &latchkey.Credits{Remaining: 2, RefilledAt: t0, Refill: &latchkey.Refill{Interval: latchkey.RefillDaily, Amount: 3}}
	})
	for range 2 {
		if r := f.v.Check(f.ctx, tok, Request{}); !r.Valid() {
			t.Fatalf("got %q, want valid", r.Code)
		}
	}
	r := f.v.Check(f.ctx, tok, Request{})
	midnight := time.Date(t0.Year(), t0.Month(), t0.Day()+1, 0, 0, 0, 0, time.UTC)
	if r.Code != latchkey.UsageExceeded || !r.HasCredits || !r.Credits.Reset.Equal(midnight) {
		t.Fatalf("spent: got %q, credits %+v; want usage_exceeded resetting at %s", r.Code, r.Credits, midnight)
	}
	f.clock.Add(midnight.Sub(t0))
	n := 0
	for f.v.Check(f.ctx, tok, Request{}).Code == "" {
		n++
	}
	if n != 3 {
		t.Fatalf("after midnight: %d verifications passed, want the refill's 3", n)
	}
}

func TestNamedLimitsHoldAcrossVerifiers(t *testing.T) {
	f := newFixture(t)
	// Three verifiers over one store stand for three instances.
	other := []*Verifier{f.v, New(Config{Store: f.db, Now: f.clock.Now}), New(Config{Store: f.db, Now: f.clock.Now})}
	tok, _ := f.key(limits(latchkey.NamedLimit{Name: "minute", Limit: 100, Duration: latchkey.Duration(time.Minute)}))
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 12 {
		wg.Go(func() {
			v := other[i%3]
			for range 40 {
				switch r := v.Check(f.ctx, tok, Request{}); r.Code {
				case "":
					ok.Add(1)
				case latchkey.RateLimited:
					limited.Add(1)
					if r.RetryAfter <= 0 || r.RetryAfter > time.Minute {
						t.Errorf("retry after %s, want within the window", r.RetryAfter)
					}
				default:
					t.Errorf("got %q", r.Code)
				}
			}
		})
	}
	wg.Wait()
	if ok.Load() > 100 {
		t.Fatalf("%d verifications passed a limit of 100 per window on three instances", ok.Load())
	}
	// Every instance settles: then the rest of the window is usable.
	for _, v := range other {
		if err := v.SettleLeases(f.ctx); err != nil {
			t.Fatal(err)
		}
	}
	for f.v.Check(f.ctx, tok, Request{}).Code == "" {
		ok.Add(1)
	}
	if ok.Load() != 100 {
		t.Fatalf("after the leases were settled, %d passed in all, want exactly 100", ok.Load())
	}
	// The next window starts afresh.
	f.clock.Add(time.Minute)
	if r := other[1].Check(f.ctx, tok, Request{}); !r.Valid() || len(r.Limits()) != 1 || r.Limits()[0].Remaining != 99 {
		t.Fatalf("next window: got %q %+v, want valid with 99 left", r.Code, r.Limits())
	}
}

func TestNamedLimitsApplyAsTheRequestSays(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(limits(
		latchkey.NamedLimit{Name: "burst", Limit: 3, Duration: latchkey.Duration(time.Second)},
		latchkey.NamedLimit{Name: "expensive", Limit: 10, Duration: latchkey.Duration(time.Hour)}))
	// Only "expensive" applies, at cost 4: two pass, the third does not.
	req := Request{Limits: []LimitUse{{Name: "expensive", Cost: 4}, {Name: "not-on-this-key"}}}
	for i := range 2 {
		if r := f.v.Check(f.ctx, tok, req); !r.Valid() || len(r.Limits()) != 1 || r.Limits()[0].Name != "expensive" {
			t.Fatalf("expensive call %d: got %q %+v, want valid, one limit", i+1, r.Code, r.Limits())
		}
	}
	r := f.v.Check(f.ctx, tok, req)
	if r.Code != latchkey.RateLimited || !r.Limits()[0].Exceeded {
		t.Fatalf("third expensive call: got %q %+v, want rate_limited by expensive", r.Code, r.Limits())
	}
	// No names: every limit at cost 1, and burst (3 per second) bites.
	for range 3 {
		if r := f.v.Check(f.ctx, tok, Request{Limits: nil}); r.Code != "" && r.Code != latchkey.RateLimited {
			t.Fatalf("got %q", r.Code)
		}
	}
	// An empty list applies none.
	if r := f.v.Check(f.ctx, tok, Request{Limits: []LimitUse{}}); !r.Valid() || len(r.Limits()) != 0 {
		t.Fatalf("no limits named: got %q %+v, want valid with no limit applied", r.Code, r.Limits())
	}
}

func TestBudgetsInTheAnswers(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(credits(2), limits(latchkey.NamedLimit{Name: "minute", Limit: 5, Duration: latchkey.Duration(time.Minute)}))
	body := `{"key":"` + tok + `","credits":{"cost":2},"ratelimits":[{"name":"minute","cost":1}],"tags":["path=/v1/items"]}`
	w := httptest.NewRecorder()
	f.v.PostHandler().ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader(body)))
	var a struct {
		Valid   bool `json:"valid"`
		Credits *struct {
			Remaining *int64     `json:"remaining"`
			Reset     *time.Time `json:"reset"`
		} `json:"credits"`
		Ratelimits []struct {
			Name      string    `json:"name"`
			Limit     int64     `json:"limit"`
			Remaining int64     `json:"remaining"`
			Reset     time.Time `json:"reset"`
		} `json:"ratelimits"`
		Error *struct {
			Code    string         `json:"code"`
			Details map[string]any `json:"details"`
		} `json:"error"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil {
		t.Fatalf("answer %q: %v", w.Body.String(), err)
	}
	if w.Code != 200 || !a.Valid || a.Credits == nil || a.Credits.Remaining == nil || *a.Credits.Remaining != 0 || a.Credits.Reset != nil ||
		len(a.Ratelimits) != 1 || a.Ratelimits[0].Limit != 5 || a.Ratelimits[0].Remaining != 4 || !a.Ratelimits[0].Reset.Equal(t0.Add(time.Minute)) {
		t.Fatalf("valid answer: %d %s", w.Code, w.Body.String())
	}
	// Spent: 429 usage_exceeded, not rate_limited.
	w = httptest.NewRecorder()
	f.v.PostHandler().ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader(`{"key":"`+tok+`"}`)))
	a.Error = nil
	if err := json.Unmarshal(w.Body.Bytes(), &a); err != nil || w.Code != 429 || a.Error == nil || a.Error.Code != "usage_exceeded" || w.Header().Get("Retry-After") != "" {
		t.Fatalf("spent credits that never refill: %d %s (Retry-After %q), want 429 usage_exceeded without Retry-After", w.Code, w.Body.String(), w.Header().Get("Retry-After"))
	}
	// Forward-auth: the budgets travel in headers; the window's limit bites.
	f2 := newFixture(t)
	tok2, _ := f2.key(limits(latchkey.NamedLimit{Name: "minute", Limit: 1, Duration: latchkey.Duration(time.Minute)}))
	get := func() *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", "/v1/verify?ratelimit=minute:1&tag=v%3D2", nil)
		r.Header.Set("X-API-Key", tok2)
		w := httptest.NewRecorder()
		f2.v.ForwardAuthHandler().ServeHTTP(w, r)
		return w
	}
	if w := get(); w.Code != 200 || w.Header().Get("RateLimit-Limit") != "1" || w.Header().Get("RateLimit-Remaining") != "0" || w.Header().Get("RateLimit-Reset") != "60" {
		t.Fatalf("forward-auth within the limit: %d %v", w.Code, w.Header())
	}
	if w := get(); w.Code != 429 || w.Header().Get("Retry-After") != "60" || !strings.Contains(w.Body.String(), `"ratelimit":{"name":"minute","limit":1`) {
		t.Fatalf("forward-auth over the limit: %d %v %s", w.Code, w.Header(), w.Body.String())
	}
}

func TestBadBudgetRequests(t *testing.T) {
	f := newFixture(t)
	for _, body := range []string{`{"credits":{"cost":-1}}`, `{"credits":{"cost":1.5}}`, `{"credits":{"cost":10000000}}`,
		`{"credits":5}`, `{"ratelimits":[{"cost":1}]}`, `{"ratelimits":{"name":"x"}}`, `{"ratelimits":[{"name":"x","extra":1}]}`,
		`{"tags":["a","b","c","d","e","f","g","h","i","j","k"]}`, `{"tags":[""]}`, `{"tags":["` + strings.Repeat("x", 129) + `"]}`} {
		w := httptest.NewRecorder()
		f.v.PostHandler().ServeHTTP(w, httptest.NewRequest("POST", "/", strings.NewReader(body)))
		if w.Code != 400 || !strings.Contains(w.Body.String(), `"code":"invalid_request"`) {
			t.Errorf("%s: got %d %s, want 400 invalid_request", body, w.Code, w.Body.String())
		}
	}
	for _, q := range []string{"cost=-1", "cost=x", "ratelimit=", "ratelimit=a:b", "tag="} {
		w := httptest.NewRecorder()
		f.v.ForwardAuthHandler().ServeHTTP(w, httptest.NewRequest("GET", "/v1/verify?"+q, nil))
		if w.Code != 400 {
			t.Errorf("?%s: got %d %s, want 400", q, w.Code, w.Body.String())
		}
	}
}

// A store that fails: credits cannot be checked, so the key is not let
// through (fail closed), and nothing is lost.
type failingLeases struct{}

func (failingLeases) LeaseBudget(context.Context, latchkey.LeaseRequest) (latchkey.Lease, error) {
	return latchkey.Lease{}, latchkey.Errorf(latchkey.EUNAVAILABLE, "down")
}

func TestCreditsFailClosed(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Leases = failingLeases{} })
	tok, _ := f.key(credits(5))
	if r := f.v.Check(f.ctx, tok, Request{}); r.Code != Unavailable {
		t.Fatalf("credits with the lease store down: got %q, want unavailable", r.Code)
	}
	plain, _ := f.key()
	if r := f.v.Check(f.ctx, plain, Request{}); !r.Valid() {
		t.Fatalf("a key without budgets with the lease store down: got %q, want valid", r.Code)
	}
}

// TestAuthenticateSpendsBudgets: a management key's credits hold on the
// management API as a product key's do on verify.
func TestAuthenticateSpendsBudgets(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(credits(2), func(k *latchkey.Key) { k.Type = latchkey.TypeManagement })
	for i := range 2 {
		if _, code := f.v.Authenticate(f.ctx, tok); code != "" {
			t.Fatalf("call %d: got %q, want valid", i+1, code)
		}
	}
	if _, code := f.v.Authenticate(f.ctx, tok); code != latchkey.UsageExceeded {
		t.Fatalf("third call on 2 credits: got %q, want usage_exceeded", code)
	}
}

// TestBudgetedDecisionDoesNotAllocate holds a verification spending
// credits and a named limit from blocks already leased to the plain
// decision's zero allocations, and the handlers to what they need beyond
// it: POST's body copy, and GET's two for the budget headers.
func TestBudgetedDecisionDoesNotAllocate(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(credits(1e15), limits(latchkey.NamedLimit{Name: "day", Limit: 1e9, Duration: latchkey.Duration(latchkey.Day)}))
	req := Request{Scopes: []string{"items:read"}, Type: "public_api"}
	r := f.v.Check(f.ctx, tok, req)
	if !r.Valid() || !r.HasCredits || len(r.Limits()) != 1 {
		t.Fatalf("Check: got %q %+v, want valid with credits and one limit", r.Code, r)
	}
	if n := testing.AllocsPerRun(1000, func() {
		if r := f.v.Check(f.ctx, tok, req); r.Code != "" {
			t.Fatal(r.Code)
		}
	}); n != 0 {
		t.Errorf("budgeted Check of a cached key: %v allocations, want 0", n)
	}

	handlerAllocs(t, f, tok, "/v1/verify?scope=items:read", `{"key":"`+tok+`","scopes":["items:read"]}`, "X-Latchkey-Credits-Remaining", 3, 1)
}
