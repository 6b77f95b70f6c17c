package main

import (
	"context"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
	"github.com/latchkey/latchkey/internal/api/apitest"
)

// hammer sends n verifications per worker, round robin over urls, and
// counts the answers by code ("" for valid).
func hammer(t *testing.T, urls []string, secret string, workers, n int, body map[string]any) map[string]int64 {
	t.Helper()
	if body == nil {
		body = map[string]any{}
	}
	body["key"] = secret
	var mu sync.Mutex
	counts := map[string]int64{}
	var wg sync.WaitGroup
	hc := &http.Client{Timeout: 10 * time.Second}
	for w := range workers {
		wg.Go(func() {
			local := map[string]int64{}
			for i := range n {
				got := send(t, hc, "POST", urls[(w+i)%len(urls)]+"/v1/keys/verify", body)
				switch {
				case got.status == 200:
					local[""]++
				case got.status == 429:
					local[got.errCode()]++
				default:
					t.Errorf("verify: %d %s", got.status, got.raw)
					return
				}
			}
			mu.Lock()
			for k, v := range local {
				counts[k] += v
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	return counts
}

func urlsOf(ms []*Main) []string {
	var out []string
	for _, m := range ms {
		out = append(out, m.URL())
	}
	return out
}

// budgetRow reads a key's credits as the store holds them.
func budgetRow(t *testing.T, c *pgCluster, keyID, name string) (remaining, leased int64) {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if err := conn.QueryRow(ctx, `SELECT remaining, leased FROM key_budgets WHERE key_id = $1 AND name = $2`,
		keyID, name).Scan(&remaining, &leased); err != nil {
		t.Fatalf("reading the budget: %v", err)
	}
	return remaining, leased
}

// acctNum is acctStr for numbers; -1 when absent.
func acctNum(x any, path ...string) float64 {
	for _, k := range path {
		x = acctObj(x)[k]
	}
	n, ok := x.(float64)
	if !ok {
		return -1
	}
	return n
}

// TestCreditsHoldAcrossThreeInstances hammers a key with 1,000 credits
// through three instances on one PostgreSQL: never more than 1,000 pass,
// and once the instances have given back their unspent leases (a clean
// shutdown), exactly 1,000 have passed or remain.
func TestCreditsHoldAcrossThreeInstances(t *testing.T) {
	c := startCluster(t, 3, nil)
	hc := c.login(t, c.mains[0])
	got := send(t, hc, "POST", c.mains[0].URL()+"/v1/workspaces/"+c.ws+"/keys", map[string]any{"name": "metered", "credits": map[string]any{"remaining": 1000}})
	if got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.raw)
	}
	id, secret := acctStr(got.body, "key", "id"), got.body["secret"].(string)

	counts := hammer(t, urlsOf(c.mains), secret, 24, 60, nil)
	passed := counts[""]
	t.Logf("1,440 verifications through three instances: %d passed, %d usage_exceeded", passed, counts["usage_exceeded"])
	if passed > 1000 {
		t.Fatalf("%d verifications passed on 1,000 credits", passed)
	}
	if passed < 900 {
		t.Errorf("only %d of 1,000 credits were spent by 1,440 verifications: leases strand too much", passed)
	}

	// A clean shutdown gives back every unspent lease.
	c.stopAll()
	remaining, leased := budgetRow(t, c, id, "")
	if leased != 0 || remaining != 1000-passed {
		t.Fatalf("after shutdown the store holds %d remaining and %d leased, want %d and 0", remaining, leased, 1000-passed)
	}
	m := c.start(t, nil)
	more := hammer(t, []string{m.URL()}, secret, 4, int(remaining)/4+10, nil)
	if total := passed + more[""]; total != 1000 {
		t.Fatalf("after the leases came back, %d verifications passed in all, want exactly 1,000", total)
	}
	if r := send(t, hc, "GET", m.URL()+"/v1/workspaces/"+c.ws+"/keys/"+id, nil); r.status != 200 || acctNum(r.body, "key", "credits", "remaining") != 0 {
		t.Fatalf("key after spending everything: %d %s, want credits.remaining 0", r.status, r.raw)
	}
}

// TestSIGKILLLosesAtMostTheLease kills an instance holding a lease: what
// it leased and did not spend is lost (never more), and no credit is ever
// created.
func TestSIGKILLLosesAtMostTheLease(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	c := startCluster(t, 1, nil)
	b := c.mains[0]
	hc := c.login(t, b)
	got := send(t, hc, "POST", b.URL()+"/v1/workspaces/"+c.ws+"/keys", map[string]any{"name": "metered", "credits": map[string]any{"remaining": 10000}})
	if got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.raw)
	}
	id, secret := acctStr(got.body, "key", "id"), got.body["secret"].(string)
	a := startChild(t, "serve", "--database-url", c.url, "--addr", "127.0.0.1:0", "--master-key-file", c.keyring)
	// Enough demand on a for its leases to grow.
	spentA := hammer(t, []string{a.url}, secret, 8, 50, nil)[""]
	_, leasedBefore := budgetRow(t, c, id, "")
	a.kill(t)
	// b spends everything that is left.
	var spentB int64
	for {
		n := hammer(t, []string{b.URL()}, secret, 8, 200, nil)[""]
		spentB += n
		if n == 0 {
			break
		}
	}
	c.stopAll()
	remaining, leased := budgetRow(t, c, id, "")
	lost := 10000 - spentA - spentB - remaining
	t.Logf("a spent %d and held a block of %d when killed; b spent %d; lost %d credits", spentA, leasedBefore, spentB, lost)
	// leased is a's last block, which it never settled: what it had not
	// spent of it is what the kill cost.
	if remaining != 0 || lost < 0 || lost > leasedBefore || leased != leasedBefore {
		t.Fatalf("after SIGKILL: %d remaining, %d leased, %d lost; want 0 remaining, the killed block (%d) still counted, and at most that lost",
			remaining, leased, lost, leasedBefore)
	}
}

// TestGlobalLimitAcrossThreeInstances: 100 per minute on three instances
// lets at most 100 through, and (with the leases settled) exactly 100.
func TestGlobalLimitAcrossThreeInstances(t *testing.T) {
	// One clock for the three instances, in the middle of a minute, so the
	// window cannot turn during the test.
	var clock atomic.Int64
	clock.Store(time.Now().Truncate(time.Minute).Add(30 * time.Second).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	c := startCluster(t, 3, func(cfg *Config) { cfg.Now = now })
	hc := c.login(t, c.mains[0])
	got := send(t, hc, "POST", c.mains[0].URL()+"/v1/workspaces/"+c.ws+"/keys", map[string]any{"name": "limited",
		"ratelimits": []map[string]any{{"name": "minute", "limit": 100, "duration": "1m"}}})
	if got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.raw)
	}
	id, secret := acctStr(got.body, "key", "id"), got.body["secret"].(string)
	counts := hammer(t, urlsOf(c.mains), secret, 12, 50, nil)
	t.Logf("600 verifications in one window on three instances: %d passed, %d rate_limited", counts[""], counts["rate_limited"])
	if counts[""] > 100 || counts[""] < 90 {
		t.Fatalf("%d passed a global limit of 100 per minute, want between 90 and 100", counts[""])
	}
	// The next window lets 100 more through, on any instance.
	clock.Add(int64(time.Minute))
	if next := hammer(t, urlsOf(c.mains), secret, 12, 20, nil); next[""] > 100 || next[""] < 90 {
		t.Fatalf("next window: %d passed, want between 90 and 100", next[""])
	}
	c.stopAll()
	if remaining, leased := budgetRow(t, c, id, "minute"); leased != 0 || remaining < 0 {
		t.Fatalf("after shutdown: %d remaining, %d leased; want nothing leased", remaining, leased)
	}
}

// TestCreditsRefillOnEveryInstance spends a daily budget, moves the
// instances' clock past midnight, and finds it refilled everywhere.
func TestCreditsRefillOnEveryInstance(t *testing.T) {
	var clock atomic.Int64
	clock.Store(time.Date(2031, 1, 31, 23, 0, 0, 0, time.UTC).UnixNano())
	now := func() time.Time { return time.Unix(0, clock.Load()) }
	c := startCluster(t, 2, func(cfg *Config) { cfg.Now = now })
	hc := c.login(t, c.mains[0])
	got := send(t, hc, "POST", c.mains[0].URL()+"/v1/workspaces/"+c.ws+"/keys", map[string]any{"name": "daily",
		"credits": map[string]any{"remaining": 10, "refill": map[string]any{"interval": "daily", "amount": 20}}})
	if got.status != 201 || acctNum(got.body, "key", "credits", "remaining") != 10 {
		t.Fatalf("create: %d %s", got.status, got.raw)
	}
	secret := got.body["secret"].(string)
	if n := hammer(t, urlsOf(c.mains), secret, 4, 5, nil); n[""] != 10 || n["usage_exceeded"] != 10 {
		t.Fatalf("before midnight: %v, want 10 passed and 10 usage_exceeded", n)
	}
	r := send(t, http.DefaultClient, "POST", c.mains[1].URL()+"/v1/keys/verify", map[string]any{"key": secret})
	if r.status != 429 || acctStr(r.body, "error", "details", "credits", "reset") != "2031-02-01T00:00:00Z" || r.header.Get("Retry-After") != "3600" {
		t.Fatalf("spent: %d %s, want 429 with the refill time", r.status, r.raw)
	}
	clock.Add(int64(time.Hour))
	if n := hammer(t, urlsOf(c.mains), secret, 5, 5, nil); n[""] != 20 {
		t.Fatalf("after midnight: %v, want the refill's 20 to pass", n)
	}
}

// TestBudgetsThroughTheAPI: set, read, edit and remove credits and
// limits; refuse what is malformed; and refuse a member widening them.
func TestBudgetsThroughTheAPI(t *testing.T) {
	s := startServer(t)
	// Every request and answer is checked against the OpenAPI document.
	v := apitest.New(t)
	hc := v.Client(s.login(t))
	anon := v.Client(&http.Client{Timeout: 10 * time.Second})
	keys := s.URL + "/v1/workspaces/" + s.WorkspaceID + "/keys"
	for _, bad := range []map[string]any{
		{"credits": map[string]any{"remaining": -1}},
		{"credits": map[string]any{}},
		{"credits": map[string]any{"remaining": 5, "refill": map[string]any{"interval": "weekly", "amount": 5}}},
		{"credits": map[string]any{"refill": map[string]any{"interval": "daily", "amount": 0}}},
		{"credits": 5},
		{"ratelimits": []map[string]any{{"name": "Bad Name", "limit": 5, "duration": "1m"}}},
		{"ratelimits": []map[string]any{{"name": "a", "limit": 0, "duration": "1m"}}},
		{"ratelimits": []map[string]any{{"name": "a", "limit": 5, "duration": "500ms"}}},
		{"ratelimits": []map[string]any{{"name": "a", "limit": 5, "duration": "1m"}, {"name": "a", "limit": 6, "duration": "1h"}}},
	} {
		bad["name"] = "bad"
		expect(t, fmt.Sprint(bad), send(t, hc, "POST", keys, bad), 400, "invalid_request")
	}
	got := send(t, hc, "POST", keys, map[string]any{"name": "billed", "credits": map[string]any{"refill": map[string]any{"interval": "monthly", "amount": 500}},
		"ratelimits": []map[string]any{{"name": "burst", "limit": 10, "duration": "1s"}}})
	if got.status != 201 || acctNum(got.body, "key", "credits", "remaining") != 500 || acctStr(got.body, "key", "credits", "refill", "interval") != "monthly" {
		t.Fatalf("create: %d %s", got.status, got.raw)
	}
	id, secret := acctStr(got.body, "key", "id"), got.body["secret"].(string)
	got = send(t, anon, "POST", s.URL+"/v1/keys/verify", map[string]any{"key": secret, "credits": map[string]any{"cost": 5}, "ratelimits": []any{}, "tags": []string{"path=/v1/items"}})
	if got.status != 200 || acctNum(got.body, "credits", "remaining") != 495 || acctNum(got.body, "ratelimits") != -1 {
		t.Fatalf("verify: %d %s, want credits.remaining 495", got.status, got.raw)
	}
	got = send(t, anon, "GET", s.URL+"/v1/verify?cost=2&ratelimit=burst:3&tag=v%3D2", nil, "X-API-Key: "+secret)
	if got.status != 200 || got.header.Get("X-Latchkey-Credits-Remaining") != "493" || got.header.Get("RateLimit-Remaining") != "7" {
		t.Fatalf("forward-auth: %d %v, want 493 credits and 7 of the burst limit left", got.status, got.header)
	}
	p := send(t, hc, "PATCH", keys+"/"+id, map[string]any{"credits": map[string]any{"remaining": 3}})
	if p.status != 200 || acctNum(p.body, "key", "credits", "remaining") != 3 {
		t.Fatalf("patch credits: %d %s", p.status, p.raw)
	}
	for i := range 4 {
		v := send(t, anon, "POST", s.URL+"/v1/keys/verify", map[string]any{"key": secret, "ratelimits": []any{}})
		if want := 200; i == 3 {
			want = 429
			if v.status != want || v.errCode() != "usage_exceeded" {
				t.Fatalf("fourth verify of 3 credits: %d %s", v.status, v.raw)
			}
		} else if v.status != want {
			t.Fatalf("verify %d: %d %s", i, v.status, v.raw)
		}
	}
	p = send(t, hc, "PATCH", keys+"/"+id, map[string]any{"credits": nil, "ratelimits": []any{}})
	if p.status != 200 || p.body["key"].(map[string]any)["credits"] != nil || p.body["key"].(map[string]any)["ratelimits"] != nil {
		t.Fatalf("remove budgets: %d %s", p.status, p.raw)
	}
	if v := send(t, anon, "POST", s.URL+"/v1/keys/verify", map[string]any{"key": secret}); v.status != 200 || v.body["credits"] != nil {
		t.Fatalf("verify an unlimited key: %d %s", v.status, v.raw)
	}
}

// TestClientSpendsCredits: the Go client sends a verification's cost and
// named limits and reads what they left.
func TestClientSpendsCredits(t *testing.T) {
	s := startServer(t)
	hc := s.login(t)
	got := send(t, hc, "POST", s.URL+"/v1/workspaces/"+s.WorkspaceID+"/keys", map[string]any{"name": "metered",
		"credits": map[string]any{"remaining": 3}, "ratelimits": []map[string]any{{"name": "minute", "limit": 10, "duration": "1m"}}})
	if got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.raw)
	}
	secret := got.body["secret"].(string)
	c := newGoClient(t, s.URL)
	two := int64(2)
	res, err := c.Verify(context.Background(), client.VerifyRequest{Key: secret, Cost: &two, Limits: []client.LimitUse{{Name: "minute", Cost: 4}}})
	if err != nil || !res.Valid || res.Credits == nil || res.Credits.Remaining != 1 || len(res.Limits) != 1 || res.Limits[0].Remaining != 6 {
		t.Fatalf("first verification: %+v %v, want 1 credit and 6 of the limit left", res, err)
	}
	res, err = c.Verify(context.Background(), client.VerifyRequest{Key: secret, Cost: &two, Limits: []client.LimitUse{}})
	if err != nil || res.Valid || res.Code != latchkey.UsageExceeded || res.Credits == nil || res.Credits.Remaining != 1 {
		t.Fatalf("second verification: %+v %v, want usage_exceeded with 1 credit left", res, err)
	}
}

// TestCreditsEditReachesEveryInstance: credits given to an unlimited key,
// set again, or taken away through one instance hold on the others at
// once, although only key_budgets changes.
func TestCreditsEditReachesEveryInstance(t *testing.T) {
	c := startCluster(t, 2, nil)
	a, b := c.mains[0], c.mains[1]
	hc := c.login(t, a)
	id, secret := c.createKey(t, hc, a)
	keyURL := a.URL() + "/v1/workspaces/" + c.ws + "/keys/" + id
	if got := verifyOn(t, b, secret); got != "" {
		t.Fatalf("b before credits: %q", got) // b caches the key as unlimited
	}
	if got := send(t, hc, "PATCH", keyURL, map[string]any{"credits": map[string]any{"remaining": 0}}); got.status != 200 {
		t.Fatalf("give 0 credits: %d %s", got.status, got.raw)
	}
	d := waitRejected(t, []*Main{b}, secret, "usage_exceeded", time.Second)
	t.Logf("b refused the key with no credits %v after the edit returned", d)
	if got := send(t, hc, "PATCH", keyURL, map[string]any{"credits": map[string]any{"remaining": 5}}); got.status != 200 {
		t.Fatalf("set 5 credits: %d %s", got.status, got.raw)
	}
	d = waitAccepted(t, []*Main{b}, secret, time.Second)
	t.Logf("b accepted the key with 5 credits %v after the edit returned", d)
	if got := send(t, hc, "PATCH", keyURL, map[string]any{"credits": map[string]any{"remaining": 0}}); got.status != 200 {
		t.Fatalf("set 0 credits again: %d %s", got.status, got.raw)
	}
	// b's leased block of the 5 is void: it spends nothing more of it.
	waitRejected(t, []*Main{b}, secret, "usage_exceeded", time.Second)
	if got := send(t, hc, "PATCH", keyURL, map[string]any{"credits": nil}); got.status != 200 {
		t.Fatalf("remove credits: %d %s", got.status, got.raw)
	}
	waitAccepted(t, []*Main{b}, secret, time.Second)
}
