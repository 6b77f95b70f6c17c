package console

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// budgetField is the form's usage-based section as typed: credits (an
// empty number: unlimited) with an optional refill, and the named limits
// held across instances, one "name=LIMIT/DURATION" a line.
//
// The key page shows the stored values and posts them back with the
// *Was fields: credits are set again only when they differ, because
// setting them voids what instances leased (see latchkey.Credits).
type budgetField struct {
	Credits      string
	Refill       string // "", "daily" or "monthly"
	RefillAmount string
	Limits       string
	CreditsWas   string // Credits, Refill and RefillAmount as shown, joined by "|"
	LimitsWas    string
}

// budgetFieldOf shows a key's budgets in the form.
func budgetFieldOf(k *latchkey.Key) budgetField {
	var f budgetField
	if k != nil && k.Credits != nil {
		f.Credits = strconv.FormatInt(k.Credits.Remaining, 10)
		if r := k.Credits.Refill; r != nil {
			f.Refill, f.RefillAmount = string(r.Interval), strconv.FormatInt(r.Amount, 10)
		}
	}
	if k != nil {
		f.Limits = limitsText(k.RateLimits)
	}
	f.CreditsWas, f.LimitsWas = f.creditsKey(), f.Limits
	return f
}

func (f budgetField) creditsKey() string {
	return strings.Join([]string{strings.TrimSpace(f.Credits), f.Refill, strings.TrimSpace(f.RefillAmount)}, "|")
}

// limitsText writes limits one a line, as the form takes them.
func limitsText(ls []latchkey.NamedLimit) string {
	var lines []string
	for _, l := range ls {
		lines = append(lines, fmt.Sprintf("%s=%d/%s", l.Name, l.Limit, l.Duration))
	}
	return strings.Join(lines, "\n")
}

// parseBudgetField reads the section from a posted form; ok is false when
// the form has none.
func parseBudgetField(form url.Values) (budgetField, bool) {
	if _, ok := form["credits"]; !ok {
		return budgetField{}, false
	}
	return budgetField{Credits: form.Get("credits"), Refill: form.Get("refill"), RefillAmount: form.Get("refill_amount"),
		Limits: strings.ReplaceAll(form.Get("ratelimits"), "\r\n", "\n"), CreditsWas: form.Get("credits_was"), LimitsWas: form.Get("ratelimits_was")}, true
}

// LimitsInline is Limits on one line, for a hidden field.
func (f budgetField) LimitsInline() string {
	return strings.Join(strings.Fields(strings.ReplaceAll(f.Limits, "\n", ",")), "")
}

// creditsChanged reports whether the credits differ from what was shown.
func (f budgetField) creditsChanged() bool { return f.creditsKey() != f.CreditsWas }

// limitsChanged reports whether the limits differ from what was shown.
func (f budgetField) limitsChanged() bool {
	return strings.TrimSpace(f.Limits) != strings.TrimSpace(f.LimitsWas)
}

// credits turns the fields into credits to set; nil is unlimited. Its
// errors name the form's fields.
func (f budgetField) credits() (*latchkey.CreditsInput, error) {
	num := func(s, field, what string) (*int64, error) {
		s = strings.TrimSpace(strings.ReplaceAll(s, ",", ""))
		if s == "" {
			return nil, nil
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Enter %s as a whole number.", what).WithDetail("field", field)
		}
		return &n, nil
	}
	remaining, err := num(f.Credits, "credits.remaining", "the credits")
	if err != nil {
		return nil, err
	}
	in := &latchkey.CreditsInput{Remaining: remaining}
	switch f.Refill {
	case "":
	case string(latchkey.RefillDaily), string(latchkey.RefillMonthly):
		amount, err := num(f.RefillAmount, "credits.refill.amount", "the refill")
		if err != nil {
			return nil, err
		}
		if amount == nil {
			return nil, latchkey.Errorf(latchkey.EINVALID, "Enter how many credits each refill gives.").WithDetail("field", "credits.refill.amount")
		}
		in.Refill = &latchkey.Refill{Interval: latchkey.RefillInterval(f.Refill), Amount: *amount}
	default:
		return nil, latchkey.Errorf(latchkey.EINVALID, "Choose no refill, daily or monthly.").WithDetail("field", "credits.refill.interval")
	}
	if in.Remaining == nil && in.Refill == nil {
		return nil, nil
	}
	return in, nil
}

// limits turns the text into named limits: "name=LIMIT/DURATION" a line
// (or separated by commas), blank lines ignored.
func (f budgetField) limits() ([]latchkey.NamedLimit, error) {
	out := []latchkey.NamedLimit{}
	for _, line := range strings.FieldsFunc(f.Limits, func(r rune) bool { return r == '\n' || r == ',' }) {
		line = strings.TrimSpace(line)
		if line == "" {
			continue
		}
		bad := latchkey.Errorf(latchkey.EINVALID, "Write each limit as name=LIMIT/DURATION, such as burst=10/1s or daily=10000/1d.").WithDetail("field", "ratelimits")
		name, rest, ok := strings.Cut(line, "=")
		if !ok {
			return nil, bad
		}
		count, period, ok := strings.Cut(strings.TrimSpace(rest), "/")
		if !ok {
			return nil, bad
		}
		n, err := strconv.ParseInt(strings.TrimSpace(count), 10, 64)
		if err != nil {
			return nil, bad
		}
		d, err := latchkey.ParseDuration(period)
		if err != nil {
			return nil, bad
		}
		out = append(out, latchkey.NamedLimit{Name: strings.TrimSpace(name), Limit: n, Duration: d})
	}
	if err := latchkey.ValidateRateLimits(out); err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "%s", latchkey.ErrorMessage(err)).WithDetail("field", "ratelimits")
	}
	return out, nil
}

// creditsLabel says a key's credits as people do: "480 left, refilled to
// 500 every month".
func creditsLabel(c *latchkey.Credits) string {
	if c == nil {
		return ""
	}
	s := strconv.FormatInt(c.Remaining, 10) + " left"
	if r := c.Refill; r != nil {
		every := "day"
		if r.Interval == latchkey.RefillMonthly {
			every = "month"
		}
		s += fmt.Sprintf(", refilled to %d every %s", r.Amount, every)
	}
	return s
}

// limitLabel says a named limit: "burst: 10 per second".
func limitLabel(l latchkey.NamedLimit) string {
	return fmt.Sprintf("%s: %d per %s", l.Name, l.Limit, spellPeriod(l.Duration.String()))
}
