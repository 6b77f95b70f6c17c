package latchkey

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"time"
)

// Credits is what a key may still spend: each verification spends its cost
// (1 by default) once every other check has passed, and a key with none
// left is refused with usage_exceeded. A key with nil Credits is unlimited.
type Credits struct {
	// Remaining is what is left. Read from the store it is an upper bound
	// while instances hold leases: the credits leased out are counted as
	// unspent until the instances holding them settle.
	Remaining int64 `json:"remaining"`
	// Refill, when set, resets Remaining to its Amount at the start of
	// every UTC day or month.
	Refill *Refill `json:"refill,omitempty"`
	// RefilledAt is when Remaining was last set: by a refill, or by the
	// person who set it. Setting it again (any edit of the credits) voids
	// every outstanding lease.
	RefilledAt time.Time `json:"refilled_at"`
}

// Refill is a Credits refill rule.
type Refill struct {
	Interval RefillInterval `json:"interval"`
	Amount   int64          `json:"amount"`
}

// RefillInterval is how often credits refill.
type RefillInterval string

// The refill intervals: the start of each UTC day or calendar month.
const (
	RefillDaily   RefillInterval = "daily"
	RefillMonthly RefillInterval = "monthly"
)

// Limits of credits and named rate limits; they keep the verify answer
// small and the arithmetic far from overflow.
const (
	MaxCredits    = 1_000_000_000_000_000
	MaxRateLimits = 8
	MaxLimitCount = 1_000_000_000
	MaxCost       = 1_000_000
)

// CreditsInput is credits as a person sets them: Remaining defaults to
// the refill's amount.
type CreditsInput struct {
	Remaining *int64  `json:"remaining"`
	Refill    *Refill `json:"refill"`
}

// Credits checks the input and returns the credits it sets at now.
func (in *CreditsInput) Credits(now time.Time) (*Credits, error) {
	c := &Credits{Refill: in.Refill, RefilledAt: now.UTC()}
	switch {
	case in.Remaining != nil:
		c.Remaining = *in.Remaining
	case in.Refill != nil:
		c.Remaining = in.Refill.Amount
	default:
		return nil, Errorf(EINVALID, "credits need remaining, a refill, or both").WithDetail("field", "credits.remaining")
	}
	if err := ValidateCredits(c); err != nil {
		return nil, err
	}
	return c, nil
}

// ValidateCredits checks credits set through the API; nil means unlimited.
func ValidateCredits(c *Credits) error {
	if c == nil {
		return nil
	}
	if c.Remaining < 0 || c.Remaining > MaxCredits {
		return Errorf(EINVALID, "credits.remaining must be between 0 and %d", int64(MaxCredits)).WithDetail("field", "credits.remaining")
	}
	if r := c.Refill; r != nil {
		if r.Interval != RefillDaily && r.Interval != RefillMonthly {
			return Errorf(EINVALID, `credits.refill.interval must be "daily" or "monthly"`).WithDetail("field", "credits.refill.interval")
		}
		if r.Amount < 1 || r.Amount > MaxCredits {
			return Errorf(EINVALID, "credits.refill.amount must be between 1 and %d", int64(MaxCredits)).WithDetail("field", "credits.refill.amount")
		}
	}
	return nil
}

// EffectiveAt is Remaining as of now: a refill due since RefilledAt has
// happened, even though the store applies it only when next asked.
func (c *Credits) EffectiveAt(now time.Time) int64 {
	if c.Refill != nil && c.Budget().PeriodStart(now).After(c.RefilledAt) {
		return c.Refill.Amount
	}
	return c.Remaining
}

// Budget is the lease rule of the key's credits.
func (c *Credits) Budget() Budget {
	b := Budget{Name: CreditsBudget}
	if c.Refill != nil {
		b.Interval, b.Amount = c.Refill.Interval, c.Refill.Amount
	}
	return b
}

// NamedLimit is a rate limit enforced across every instance: at most Limit
// units (each verification costs 1 unless it says otherwise) in each fixed
// window of Duration, windows aligned to the Unix epoch. A key may have
// several, told apart by name.
type NamedLimit struct {
	Name     string   `json:"name"`
	Limit    int64    `json:"limit"`
	Duration Duration `json:"duration"`
}

// Budget is the lease rule of the limit: Limit units per window.
func (l NamedLimit) Budget() Budget {
	return Budget{Name: l.Name, Every: time.Duration(l.Duration), Amount: l.Limit}
}

var limitName = regexp.MustCompile(`^[a-z0-9][a-z0-9_.-]{0,31}$`)

// ValidLimitName reports whether s may name a rate limit: 1–32 characters
// of lower-case letters, digits, '_', '.' and '-'.
func ValidLimitName(s string) bool { return limitName.MatchString(s) }

// ValidateRateLimits checks a key's named limits.
func ValidateRateLimits(ls []NamedLimit) error {
	if len(ls) > MaxRateLimits {
		return Errorf(EINVALID, "a key may have at most %d rate limits", MaxRateLimits).WithDetail("field", "ratelimits")
	}
	for i, l := range ls {
		field := fmt.Sprintf("ratelimits[%d]", i)
		switch {
		case !ValidLimitName(l.Name):
			return Errorf(EINVALID, "%s.name must be 1-32 lower-case letters, digits, '_', '.' or '-'", field).WithDetail("field", field+".name")
		case slices.ContainsFunc(ls[:i], func(o NamedLimit) bool { return o.Name == l.Name }):
			return Errorf(EINVALID, "rate limit %q appears twice", l.Name).WithDetail("field", field+".name")
		case l.Limit < 1 || l.Limit > MaxLimitCount:
			return Errorf(EINVALID, "%s.limit must be between 1 and %d", field, MaxLimitCount).WithDetail("field", field+".limit")
		case l.Duration < Duration(time.Second) || l.Duration > Duration(30*Day) || time.Duration(l.Duration)%time.Second != 0:
			return Errorf(EINVALID, "%s.duration must be whole seconds between 1s and 30d", field).WithDetail("field", field+".duration")
		}
	}
	return nil
}

// CreditsBudget is the Budget name of a key's credits; named limits have
// non-empty names.
const CreditsBudget = ""

// Budget is a counter of a key that verifications spend and that refills:
// the key's credits (daily, monthly or never) or one of its named limits
// (every window). Instances lease blocks of it from the store (LeaseStore).
type Budget struct {
	Name string
	// Interval (credits) or Every (limits) says when the budget refills
	// to Amount; neither set means never.
	Interval RefillInterval
	Every    time.Duration
	Amount   int64
}

// epoch stands for "no period" in the store: a budget that never refills
// has one period, begun at the Unix epoch.
var epoch = time.Unix(0, 0).UTC()

// PeriodStart is the start of the refill period holding now.
func (b Budget) PeriodStart(now time.Time) time.Time {
	now = now.UTC()
	switch {
	case b.Every > 0:
		ns := now.UnixNano()
		return time.Unix(0, ns-ns%int64(b.Every)).UTC()
	case b.Interval == RefillDaily:
		return time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	case b.Interval == RefillMonthly:
		return time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, time.UTC)
	}
	return epoch
}

// PeriodEnd is when the period begun at start ends: the next refill, or
// never (the far future) for a budget that does not refill.
func (b Budget) PeriodEnd(start time.Time) time.Time {
	switch {
	case b.Every > 0:
		return start.Add(b.Every)
	case b.Interval == RefillDaily:
		return start.AddDate(0, 0, 1)
	case b.Interval == RefillMonthly:
		return start.AddDate(0, 1, 0)
	}
	return never
}

// never is the end of a period that never ends.
var never = time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC)

// Refills reports whether the budget refills at all.
func (b Budget) Refills() bool { return b.Every > 0 || b.Interval != "" }

// LeaseRequest asks the store for a block of a key's budget, and settles
// the block the instance held before.
type LeaseRequest struct {
	KeyID  string
	Budget Budget
	// Want is how much to lease; 0 only settles Held. The store grants
	// at most Want and at most an eighth of what is left (at least Min),
	// so that one instance cannot hoard what others need.
	Want, Min int64
	// Held is the lease being settled (nil for none): what it left
	// unspent goes back unless the budget was reset since.
	Held    *Lease
	Unspent int64
	Now     time.Time
}

// Lease is a block of a budget an instance may spend in memory.
type Lease struct {
	// Found is false when the key has no such budget any more (its
	// credits were removed, or the key deleted): nothing is counted.
	Found bool
	// Generation and Period identify the state of the budget the lease
	// was cut from; a lease of another state is void and settles nothing.
	Generation int64
	Period     time.Time
	Granted    int64
	// Left is what the budget held after the grant, counting every
	// outstanding lease as unspent: an upper bound of what is left.
	Left int64
}

// LeaseStore hands out blocks of keys' credits and rate-limit windows.
// Leasing is one atomic step per call: two instances can never both be
// granted the same unit, which is what makes a budget hold across any
// number of instances.
type LeaseStore interface {
	LeaseBudget(ctx context.Context, r LeaseRequest) (Lease, error)
}
