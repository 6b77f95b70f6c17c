package verify

import (
	"net/http"
	"strconv"
	"time"
)

// appendBudgets ends a valid answer (b is its body without the closing
// brace) with what the verification left of the key's budgets:
// "credits": {...} and "ratelimits": [...].
func appendBudgets(b []byte, res *Result) []byte {
	if res.Credits != nil {
		b = append(b, `,"credits":`...)
		b = appendBudget(b, res.Credits)
	}
	if res.Limits != nil {
		b = append(b, `,"ratelimits":[`...)
		for i := range res.Limits {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendBudget(b, &res.Limits[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// appendBudget writes one budget: {"remaining", "reset"} for credits,
// with "name" and "limit" first for a rate limit. remaining is null when
// unknown; reset is null for credits that never refill.
func appendBudget(b []byte, s *BudgetState) []byte {
	b = append(b, '{')
	if s.Limit > 0 {
		b = append(b, `"name":`...)
		b = appendJSONString(b, s.Name)
		b = append(b, `,"limit":`...)
		b = strconv.AppendInt(b, s.Limit, 10)
		b = append(b, ',')
	}
	b = append(b, `"remaining":`...)
	if s.Remaining < 0 {
		b = append(b, "null"...)
	} else {
		b = strconv.AppendInt(b, max(s.Remaining, 0), 10)
	}
	b = append(b, `,"reset":`...)
	if s.Reset.IsZero() {
		b = append(b, "null"...)
	} else {
		b = append(b, '"')
		b = s.Reset.UTC().AppendFormat(b, time.RFC3339)
		b = append(b, '"')
	}
	return append(b, '}')
}

// budgetHeaders tells a proxy what is left: the credits, and the named
// limit with the least left (the one that refused, on a refusal) as the
// RateLimit-* headers of the IETF draft, reset in seconds from now.
func budgetHeaders(h http.Header, res *Result) {
	if c := res.Credits; c != nil && c.Remaining >= 0 {
		h["X-Latchkey-Credits-Remaining"] = []string{strconv.FormatInt(c.Remaining, 10)}
	}
	var tight *BudgetState
	for i := range res.Limits {
		l := &res.Limits[i]
		if tight == nil || l.Exceeded || (!tight.Exceeded && l.Remaining >= 0 && l.Remaining < tight.Remaining) {
			tight = l
		}
	}
	if tight == nil {
		return
	}
	h["Ratelimit-Limit"] = []string{strconv.FormatInt(tight.Limit, 10)}
	h["Ratelimit-Remaining"] = []string{strconv.FormatInt(max(tight.Remaining, 0), 10)}
	h["Ratelimit-Reset"] = []string{strconv.FormatInt(retrySeconds(time.Duration(tight.Reset.UnixNano()-res.at)), 10)}
	h["X-Latchkey-Ratelimit-Name"] = []string{tight.Name}
}
