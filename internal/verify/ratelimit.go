package verify

import (
	"math"
	"strings"
	"sync"
	"time"

	"golang.org/x/time/rate"
)

// limiters holds one token bucket per rate-limited key on this instance. It
// lives apart from the cache so that invalidating a key (any edit of it)
// does not refill its bucket.
type limiters struct {
	mu  sync.RWMutex
	m   map[string]*limiter
	max int
}

type limiter struct {
	*rate.Limiter
	limit  int32
	period int64
}

func (l *limiters) init(max int) {
	l.m = make(map[string]*limiter)
	l.max = max
}

// allow takes one token from the key's bucket at now (the injected clock,
// so tests need no sleeps) and says how long to wait when there is none.
func (l *limiters) allow(e *entry, now time.Time) (time.Duration, bool) {
	id := e.id()
	l.mu.RLock()
	lim := l.m[id]
	l.mu.RUnlock()
	if lim == nil || lim.limit != e.rateLimit || lim.period != e.ratePeriod {
		lim = l.reconfigure(e, now)
	}
	if lim.AllowN(now, 1) {
		return 0, true
	}
	missing := 1 - lim.TokensAt(now)
	wait := time.Duration(missing / float64(lim.Limit()) * float64(time.Second))
	return max(wait, time.Nanosecond), false
}

// every is limit per period as a rate per second; burst = limit lets a key
// spend a whole period's allowance at once, as "N per period" reads.
func every(limit int32, period int64) rate.Limit {
	return rate.Limit(float64(limit) / (float64(period) / float64(time.Second)))
}

func (l *limiters) reconfigure(e *entry, now time.Time) *limiter {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := e.id()
	lim := l.m[id]
	switch {
	case lim == nil:
		if len(l.m) >= l.max {
			// Any victim will do; it only loses its bucket's state.
			for k := range l.m {
				delete(l.m, k)
				break
			}
		}
		lim = &limiter{Limiter: rate.NewLimiter(every(e.rateLimit, e.ratePeriod), int(e.rateLimit))}
		// A copy: id points into the entry's data, which this map must not pin.
		l.m[strings.Clone(id)] = lim
	case lim.limit != e.rateLimit || lim.period != e.ratePeriod:
		lim.SetLimitAt(now, every(e.rateLimit, e.ratePeriod))
		lim.SetBurstAt(now, int(e.rateLimit))
	}
	lim.limit, lim.period = e.rateLimit, e.ratePeriod
	return lim
}

// retrySeconds is a Retry-After value: whole seconds, at least 1.
func retrySeconds(d time.Duration) int64 {
	s := int64(math.Ceil(d.Seconds()))
	return max(s, 1)
}
