package main

import (
	"strconv"
	"strings"

	"github.com/spf13/pflag"

	"github.com/latchkey/latchkey"
)

// budgetFlags are the flags of a key's credits and named rate limits,
// shared by keys create and keys update.
type budgetFlags struct {
	credits, refill string
	noCredits       bool
	ratelimits      []string
}

func (b *budgetFlags) register(f *pflag.FlagSet, update bool) {
	f.StringVar(&b.credits, "credits", "", "credits the key may spend, one per verification unless the verification names a cost")
	f.StringVar(&b.refill, "refill", "", "refill the credits at the start of every UTC day or month: daily:N or monthly:N")
	usage := "a rate limit held across every instance, name=LIMIT/DURATION such as api=100/1m (repeatable)"
	if update {
		usage = `a rate limit held across every instance, name=LIMIT/DURATION such as api=100/1m (repeatable; replaces the key's limits, "none" removes them)`
		f.BoolVar(&b.noCredits, "no-credits", false, "make the key unlimited: remove its credits and refill")
	}
	f.StringArrayVar(&b.ratelimits, "ratelimit", nil, usage)
}

// creditsInput reads --credits, --refill and --no-credits: the credits to
// set (nil for no change), or clear to make the key unlimited.
func (b *budgetFlags) creditsInput(f *pflag.FlagSet) (in *latchkey.CreditsInput, clear bool, err error) {
	if b.noCredits {
		if f.Changed("credits") || f.Changed("refill") {
			return nil, false, usagef("give --no-credits alone, or --credits and --refill, not both")
		}
		return nil, true, nil
	}
	if !f.Changed("credits") && !f.Changed("refill") {
		return nil, false, nil
	}
	in = &latchkey.CreditsInput{}
	if f.Changed("credits") {
		n, err := strconv.ParseInt(strings.TrimSpace(b.credits), 10, 64)
		if err != nil || n < 0 {
			return nil, false, usagef("--credits %q: want a whole number of credits, 0 or more", b.credits)
		}
		in.Remaining = &n
	}
	if f.Changed("refill") {
		if in.Refill, err = parseRefill(b.refill); err != nil {
			return nil, false, err
		}
	}
	return in, false, nil
}

// parseRefill reads --refill: daily:N or monthly:N.
func parseRefill(s string) (*latchkey.Refill, error) {
	interval, amount, ok := strings.Cut(strings.TrimSpace(s), ":")
	n, err := strconv.ParseInt(strings.TrimSpace(amount), 10, 64)
	iv := latchkey.RefillInterval(strings.ToLower(strings.TrimSpace(interval)))
	if !ok || err != nil || n < 1 || (iv != latchkey.RefillDaily && iv != latchkey.RefillMonthly) {
		return nil, usagef("--refill %q: write it as daily:N or monthly:N, such as monthly:10000", s)
	}
	return &latchkey.Refill{Interval: iv, Amount: n}, nil
}

// namedLimits reads the repeated --ratelimit flags; "none" alone is the
// empty list, which removes a key's limits.
func (b *budgetFlags) namedLimits() ([]latchkey.NamedLimit, error) {
	if len(b.ratelimits) == 1 && strings.EqualFold(strings.TrimSpace(b.ratelimits[0]), "none") {
		return []latchkey.NamedLimit{}, nil
	}
	out := make([]latchkey.NamedLimit, 0, len(b.ratelimits))
	for _, s := range b.ratelimits {
		name, spec, ok := strings.Cut(strings.TrimSpace(s), "=")
		count, period, ok2 := strings.Cut(spec, "/")
		n, err := strconv.ParseInt(strings.TrimSpace(count), 10, 64)
		if !ok || !ok2 || err != nil || n < 1 {
			return nil, usagef(`--ratelimit %q: write it as name=LIMIT/DURATION, such as api=100/1m, or "none" alone`, s)
		}
		if name = strings.TrimSpace(name); !latchkey.ValidLimitName(name) {
			return nil, usagef("--ratelimit %q: the name must be 1-32 lower-case letters, digits, '_', '.' or '-'", s)
		}
		d, err := latchkey.ParseDuration(strings.TrimSpace(period))
		if err != nil || d <= 0 {
			return nil, usagef("--ratelimit %q: the duration must be such as 1s, 1m, 1h or 1d", s)
		}
		out = append(out, latchkey.NamedLimit{Name: name, Limit: n, Duration: d})
	}
	return out, nil
}
