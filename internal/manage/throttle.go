package manage

import (
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
)

// throttle bounds guessing by anonymous callers (passwords, one-time
// tokens) on this instance. Each attempt reserves its place under every
// key it counts against *before* any work is done (reserve) and settles
// afterwards (fail, succeed, release), so attempts in flight count like
// failures: 64 parallel guesses get no more tries than 64 sequential ones.
//
// What is counted decides who can be hurt. Logins are locked per (email,
// source) and per source only; per email alone they are slowed down by a
// bounded delay, never locked, so a stranger cannot lock someone out of
// their account by failing logins in their name. Emails are counted
// whether or not they belong to an account, so answers reveal nothing.
type throttle struct {
	mu      sync.Mutex
	entries map[string]*attempts
	now     func() time.Time
}

type attempts struct {
	failures int
	inflight int
	first    time.Time // start of the counting window
	until    time.Time // locked out until
}

// rule says what happens to one key as failures accumulate.
type rule struct {
	// lockAt is the count (failures plus attempts in flight) from which
	// attempts are refused; 0 never refuses.
	lockAt int
	// slowAt is the count from which each attempt is delayed; 0 never
	// delays.
	slowAt int
	// forget drops the count on a success.
	forget bool
}

var (
	// rulePair: one source guessing one email's password.
	rulePair = rule{lockAt: 10, forget: true}
	// ruleSource: one source guessing many emails' passwords (spraying).
	ruleSource = rule{lockAt: 30}
	// ruleEmail: many sources guessing one email: slowed, never locked.
	ruleEmail = rule{slowAt: 5}
	// ruleToken: one source guessing one-time tokens (invitations).
	ruleToken = rule{lockAt: 20}
	// ruleOwnPassword: a session guessing its user's current password.
	ruleOwnPassword = rule{lockAt: 10, forget: true}
)

const (
	throttleWindow  = 15 * time.Minute
	throttleLockFor = 15 * time.Minute
	throttleMaxKeys = 100_000
	// maxDelay bounds the slow-down: what an attack on an email can cost
	// its owner is this much per login, never a lockout.
	maxDelay = 2 * time.Second
	// busyRetry is the Retry-After of an attempt refused because others
	// are in flight: they settle within seconds.
	busyRetry = 5 * time.Second
)

func newThrottle(now func() time.Time) *throttle {
	return &throttle{entries: map[string]*attempts{}, now: now}
}

// counted is one key of a reservation with its rule.
type counted struct {
	key  string
	rule rule
}

// reservation is one attempt in flight. Exactly one of fail, succeed or
// release must be called; later calls do nothing.
type reservation struct {
	t     *throttle
	keys  []counted
	delay time.Duration
	done  bool
}

// reserve counts one attempt in flight under every key, or refuses it
// with ERATELIMITED (retry_after_seconds in the details) when a key is
// locked or has as many attempts in flight and failed as it allows.
func (t *throttle) reserve(message string, keys ...counted) (*reservation, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	if len(t.entries) >= throttleMaxKeys {
		t.prune(now)
	}
	var wait, delay time.Duration
	for _, k := range keys {
		a := t.entries[k.key]
		if a == nil {
			continue
		}
		if a.inflight == 0 && !now.Before(a.until) && now.Sub(a.first) > throttleWindow {
			delete(t.entries, k.key)
			continue
		}
		n := a.failures + a.inflight
		switch {
		case now.Before(a.until):
			wait = max(wait, a.until.Sub(now))
		case k.rule.lockAt > 0 && n >= k.rule.lockAt:
			wait = max(wait, busyRetry)
		}
		if k.rule.slowAt > 0 && n >= k.rule.slowAt {
			delay = max(delay, min(maxDelay, time.Duration(n-k.rule.slowAt+1)*250*time.Millisecond))
		}
	}
	if wait > 0 {
		secs := int((wait + time.Second - 1) / time.Second)
		return nil, latchkey.Errorf(latchkey.ERATELIMITED, "%s; try again in %s", message, roundUp(wait)).
			WithDetail("retry_after_seconds", secs)
	}
	for _, k := range keys {
		a := t.entries[k.key]
		if a == nil {
			a = &attempts{first: now}
			t.entries[k.key] = a
		}
		a.inflight++
	}
	return &reservation{t: t, keys: keys, delay: delay}, nil
}

// roundUp writes d for people: seconds under two minutes, else minutes.
func roundUp(d time.Duration) string {
	if d < 2*time.Minute {
		return time.Duration((d + time.Second - 1) / time.Second * time.Second).String()
	}
	return strings.TrimSuffix(time.Duration((d+time.Minute-1)/time.Minute*time.Minute).String(), "0s")
}

// settle ends the attempt; a failure is counted under every key, a success
// forgets the failures of the keys whose rule says so (the source's count
// stays, so one good account does not launder guesses at others).
func (r *reservation) settle(failed, forget bool) {
	t := r.t
	t.mu.Lock()
	defer t.mu.Unlock()
	if r.done {
		return
	}
	r.done = true
	now := t.now()
	for _, k := range r.keys {
		a := t.entries[k.key]
		if a == nil { // pruned while in flight
			if !failed {
				continue
			}
			a = &attempts{first: now}
			t.entries[k.key] = a
		} else if a.inflight > 0 {
			a.inflight--
		}
		switch {
		case failed:
			if now.Sub(a.first) > throttleWindow {
				a.failures, a.first = 0, now
			}
			a.failures++
			if k.rule.lockAt > 0 && a.failures >= k.rule.lockAt {
				a.until = now.Add(throttleLockFor)
			}
		case forget && k.rule.forget:
			if a.inflight == 0 {
				delete(t.entries, k.key)
			} else {
				a.failures = 0
			}
		}
	}
}

// fail counts the attempt as a failed guess.
func (r *reservation) fail() { r.settle(true, false) }

// succeed ends a successful attempt.
func (r *reservation) succeed() { r.settle(false, true) }

// release ends an attempt that was not made (the password hash bound
// refused it, the store failed): it counts neither way.
func (r *reservation) release() { r.settle(false, false) }

// prune drops stale entries; when an attacker fills the table with fresh
// ones it drops those that neither lock nor are in flight, and only as a
// last resort everything, rather than grow without bound.
func (t *throttle) prune(now time.Time) {
	for k, a := range t.entries {
		if a.inflight == 0 && now.Sub(a.first) > throttleWindow && !now.Before(a.until) {
			delete(t.entries, k)
		}
	}
	if len(t.entries) < throttleMaxKeys*9/10 {
		return
	}
	for k, a := range t.entries {
		if a.inflight == 0 && !now.Before(a.until) {
			delete(t.entries, k)
		}
	}
	if len(t.entries) >= throttleMaxKeys {
		clear(t.entries)
	}
}

// source is the key of a client address: the address itself, or its /64
// for IPv6, where one subscriber holds a whole /64.
func source(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// loginKeys are the keys a login attempt counts against.
func loginKeys(email, ip string) []counted {
	e := strings.ToLower(strings.TrimSpace(email))
	if n, err := latchkey.NormalizeEmail(email); err == nil {
		e = n
	}
	src := source(ip)
	return []counted{
		{"pair:" + e + "|" + src, rulePair},
		{"source:" + src, ruleSource},
		{"email:" + e, ruleEmail},
	}
}

// reserveTokenUse reserves one attempt by the anonymous caller at ip to
// use a one-time token of a kind ("invite", …), before the token is looked
// up or any password hashed. It refuses with ERATELIMITED once the source
// has as many failed and in-flight attempts as ruleToken allows. The
// caller settles the reservation exactly once:
//
//	r, err := s.reserveTokenUse("invite", ip)
//	if err != nil { return err }
//	… look the token up …
//	not found / expired → r.fail()
//	accepted            → r.succeed()
//	anything else       → r.release()
func (s *Service) reserveTokenUse(kind, ip string) (*reservation, error) {
	return s.throttle.reserve("too many attempts from your address",
		counted{"token:" + kind + "|" + source(ip), ruleToken})
}
