package verify

import (
	"io"
	"net/http"
	"strconv"
	"time"
)

// appendBudgets ends a valid answer (b is its body without the closing
// brace) with what the verification left of the key's budgets:
// "credits": {...} and "ratelimits": [...].
func appendBudgets(b []byte, res *Result) []byte {
	if res.HasCredits {
		b = append(b, `,"credits":`...)
		b = appendBudget(b, &res.Credits)
	}
	if limits := res.Limits(); len(limits) > 0 {
		b = append(b, `,"ratelimits":[`...)
		for i := range limits {
			if i > 0 {
				b = append(b, ',')
			}
			b = appendBudget(b, &limits[i])
		}
		b = append(b, ']')
	}
	return append(b, '}')
}

// writeWithBudgets writes a valid answer's cached body ended with its
// budgets, built in a pooled buffer: w copies it before Write returns.
func writeWithBudgets(w io.Writer, body string, res *Result) {
	bp := bufPool.Get().(*[]byte)
	b := appendBudgets(append((*bp)[:0], body[:len(body)-1]...), res)
	w.Write(b)
	*bp = b[:0]
	bufPool.Put(bp)
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
	// The values share one string and one slice: two allocations for
	// up to five headers.
	var num [4 * 20]byte
	b := num[:0]
	var ends [4]int
	n := 0
	credits := res.HasCredits && res.Credits.Remaining >= 0
	if credits {
		b = strconv.AppendInt(b, res.Credits.Remaining, 10)
		ends[n], n = len(b), n+1
	}
	var tight *BudgetState
	limits := res.Limits()
	for i := range limits {
		l := &limits[i]
		if tight == nil || l.Exceeded || (!tight.Exceeded && l.Remaining >= 0 && l.Remaining < tight.Remaining) {
			tight = l
		}
	}
	if tight != nil {
		b = strconv.AppendInt(b, tight.Limit, 10)
		ends[n], n = len(b), n+1
		b = strconv.AppendInt(b, max(tight.Remaining, 0), 10)
		ends[n], n = len(b), n+1
		b = strconv.AppendInt(b, retrySeconds(time.Duration(tight.Reset.UnixNano()-res.at)), 10)
		ends[n], n = len(b), n+1
	}
	if n == 0 {
		return
	}
	s := string(b)
	vals := make([]string, n+1)
	start := 0
	for i := range n {
		vals[i], start = s[start:ends[i]], ends[i]
	}
	i := 0
	if credits {
		h["X-Latchkey-Credits-Remaining"], i = vals[0:1:1], 1
	}
	if tight == nil {
		return
	}
	vals[n] = tight.Name
	h["Ratelimit-Limit"] = vals[i : i+1 : i+1]
	h["Ratelimit-Remaining"] = vals[i+1 : i+2 : i+2]
	h["Ratelimit-Reset"] = vals[i+2 : i+3 : i+3]
	h["X-Latchkey-Ratelimit-Name"] = vals[n : n+1 : n+1]
}
