package manage

import (
	"sync"
	"time"
)

// throttle slows down and then refuses repeated failed logins, per email
// and per client IP, on this instance. It counts emails whether or not
// they exist, so its answers reveal nothing about accounts.
type throttle struct {
	mu      sync.Mutex
	entries map[string]*attempts
	now     func() time.Time
}

type attempts struct {
	failures int
	first    time.Time // start of the counting window
	until    time.Time // locked out until
}

const (
	throttleWindow  = 15 * time.Minute
	throttleSlowAt  = 5  // failures after which each answer is delayed
	throttleLockAt  = 10 // failures after which logins answer 429
	throttleLockFor = 15 * time.Minute
	throttleMaxKeys = 100_000
	maxDelay        = 2 * time.Second
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{entries: map[string]*attempts{}, now: now}
}

// check returns how long the caller must wait before this attempt is
// answered, or that it is locked out and for how long.
func (t *throttle) check(keys ...string) (delay, locked time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	for _, k := range keys {
		a := t.entries[k]
		if a == nil {
			continue
		}
		if now.Before(a.until) {
			locked = max(locked, a.until.Sub(now))
			continue
		}
		if now.Sub(a.first) > throttleWindow {
			delete(t.entries, k)
			continue
		}
		if a.failures >= throttleSlowAt {
			delay = max(delay, min(maxDelay, time.Duration(a.failures-throttleSlowAt+1)*250*time.Millisecond))
		}
	}
	return delay, locked
}

// fail records a failed attempt under each key.
func (t *throttle) fail(keys ...string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.entries) >= throttleMaxKeys {
		t.prune(now)
	}
	for _, k := range keys {
		a := t.entries[k]
		if a == nil || now.Sub(a.first) > throttleWindow {
			a = &attempts{first: now}
			t.entries[k] = a
		}
		a.failures++
		if a.failures >= throttleLockAt {
			a.until = now.Add(throttleLockFor)
		}
	}
}

// succeed forgets the failures of an email; the IP's count stays, so one
// good account does not launder guesses at others.
func (t *throttle) succeed(emailKey string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	delete(t.entries, emailKey)
}

// prune drops stale entries; when an attacker fills the table with fresh
// ones it drops everything rather than grow without bound.
func (t *throttle) prune(now time.Time) {
	for k, a := range t.entries {
		if now.Sub(a.first) > throttleWindow && !now.Before(a.until) {
			delete(t.entries, k)
		}
	}
	if len(t.entries) >= throttleMaxKeys {
		clear(t.entries)
	}
}
