package console

import (
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// ratePeriods are the periods the rate limit's select offers; a key
// given another period through the API shows it as an extra choice.
var ratePeriods = []struct{ Value, Label string }{
	{"1s", "per second"}, {"1m", "per minute"}, {"1h", "per hour"}, {"1d", "per day"},
}

// rateLimitField is the form's rate limit as typed: the number of
// requests ("" for no limit) and the period ("1m").
type rateLimitField struct {
	Limit, Period string
}

// rateFieldOf shows a key's limit in the form.
func rateFieldOf(r *latchkey.RateLimit) rateLimitField {
	if r == nil {
		return rateLimitField{Period: "1m"}
	}
	return rateLimitField{Limit: strconv.Itoa(r.Limit), Period: r.Period.String()}
}

// Options are the select's periods, with the current one added when it is
// not a preset.
func (f rateLimitField) Options() []struct{ Value, Label string } {
	for _, p := range ratePeriods {
		if p.Value == f.Period {
			return ratePeriods
		}
	}
	if f.Period == "" {
		return ratePeriods
	}
	return append([]struct{ Value, Label string }{{f.Period, "per " + spellPeriod(f.Period)}}, ratePeriods...)
}

// parse turns the fields into the key's limit; an empty number means no
// limit. Its errors name the form's fields.
func (f rateLimitField) parse() (*latchkey.RateLimit, error) {
	limit := strings.TrimSpace(strings.ReplaceAll(f.Limit, ",", ""))
	if limit == "" {
		return nil, nil
	}
	n, err := strconv.Atoi(limit)
	if err != nil || n < 1 || n > 1_000_000 {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Enter a whole number of requests from 1 to 1,000,000, or leave it empty for no limit.").WithDetail("field", "rate_limit.limit")
	}
	d, err := latchkey.ParseDuration(f.Period)
	if err != nil {
		return nil, latchkey.Errorf(latchkey.EINVALID, "Choose the period the limit counts over.").WithDetail("field", "rate_limit.period")
	}
	r := &latchkey.RateLimit{Limit: n, Period: d}
	return r, latchkey.ValidateRateLimit(r)
}

// rateLabel says a key's limit as people do: "100 requests per minute".
func rateLabel(r *latchkey.RateLimit) string {
	if r == nil {
		return ""
	}
	unit := "requests"
	if r.Limit == 1 {
		unit = "request"
	}
	return strconv.Itoa(r.Limit) + " " + unit + " per " + spellPeriod(r.Period.String())
}

// spellPeriod spells a period: "1m" is "minute", "10s" "10 seconds".
func spellPeriod(p string) string {
	switch p {
	case "1s":
		return "second"
	case "1m":
		return "minute"
	case "1h":
		return "hour"
	case "1d":
		return "day"
	}
	if l := presetLabel(p); l != "" && l != p {
		return l
	}
	return p
}
