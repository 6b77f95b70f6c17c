package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
)

// A budgeted key has more credits and a higher named limit than any run
// can spend, so that every answer is 200 and each one spends from both.
const (
	budgetCredits = 1_000_000_000_000_000 // latchkey.MaxCredits
	budgetLimit   = 1_000_000_000         // per second: latchkey.MaxLimitCount
	budgetName    = "burst"
)

// budgetedKey creates (once) on the warm server a key like the warm one
// that also carries credits and a named limit, through the API.
func (b *bench) budgetedKey(ctx context.Context) (*child, error) {
	c, err := b.warmServer(ctx)
	if err != nil || b.budgetKey != "" {
		return c, err
	}
	s, err := login(c.URL, b.warm.WorkspaceID)
	if err != nil {
		return nil, err
	}
	_, b.budgetKey, err = s.createKeyWith("bench budgeted", map[string]any{
		"credits":    map[string]any{"remaining": int64(budgetCredits)},
		"ratelimits": []map[string]any{{"name": budgetName, "limit": budgetLimit, "duration": "1s"}},
	})
	return c, err
}

func (b *bench) getWarmBudgeted(ctx context.Context, r *result) error {
	return b.warmBudgeted(ctx, r, verifyGet, func(h http.Header, _ []byte) error {
		if _, err := strconv.ParseInt(h.Get("X-Latchkey-Credits-Remaining"), 10, 64); err != nil {
			return errors.New("no X-Latchkey-Credits-Remaining header")
		}
		if h.Get("X-Latchkey-Ratelimit-Name") != budgetName {
			return errors.New("no X-Latchkey-Ratelimit-Name header")
		}
		return nil
	})
}

func (b *bench) postWarmBudgeted(ctx context.Context, r *result) error {
	return b.warmBudgeted(ctx, r, verifyPost, func(_ http.Header, body []byte) error {
		_, err := answerCredits(body)
		return err
	})
}

// warmBudgeted measures the budgeted key as the warm rows measure the
// plain one, then checks that the run spent a credit per answer: the
// credits left before and after must differ by at least wrk's count.
func (b *bench) warmBudgeted(ctx context.Context, r *result, l func(string) load, check func(http.Header, []byte) error) error {
	c, err := b.budgetedKey(ctx)
	if err != nil {
		return err
	}
	before, err := creditsLeft(c.URL, b.budgetKey)
	if err != nil {
		return err
	}
	r.Target = "≥ 0.90× bare, ½-peak p99 ≤ 2× bare's"
	err = b.measure(ctx, r, measurement{server: c, load: l(b.budgetKey), halfLoad: true, check: check, profile: pprofURL(c)})
	r.check(r.Ratio >= 0.9 && r.HalfP99 > 0 && r.HalfP99 <= 2*b.bareHalfP99)
	if err != nil {
		return err
	}
	after, err := creditsLeft(c.URL, b.budgetKey)
	if err != nil {
		return err
	}
	if spent := before - after; spent < int64(r.Requests) {
		return fmt.Errorf("the runs spent %d credits, fewer than wrk's %d answers", spent, r.Requests)
	}
	r.note("credits spent during the runs: %d (wrk's measured run: %d answers)", before-after, r.Requests)
	return nil
}

// creditsLeft verifies key once with POST and returns credits.remaining.
func creditsLeft(base, key string) (int64, error) {
	l := verifyPost(key)
	var left int64
	err := checkOnce(base, l, 0, func(_ http.Header, body []byte) (err error) {
		left, err = answerCredits(body)
		return err
	})
	return left, err
}

// answerCredits is credits.remaining of a valid verify answer, which
// must also report the named limit.
func answerCredits(body []byte) (int64, error) {
	var a struct {
		Valid   bool `json:"valid"`
		Credits *struct {
			Remaining *int64 `json:"remaining"`
		} `json:"credits"`
		Limits []struct {
			Name string `json:"name"`
		} `json:"ratelimits"`
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, err
	}
	switch {
	case !a.Valid:
		return 0, errors.New("the answer is not valid")
	case a.Credits == nil || a.Credits.Remaining == nil:
		return 0, errors.New("the answer carries no credits.remaining")
	case len(a.Limits) != 1 || a.Limits[0].Name != budgetName:
		return 0, errors.New("the answer does not carry the named limit")
	}
	return *a.Credits.Remaining, nil
}
