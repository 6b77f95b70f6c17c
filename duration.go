package latchkey

import (
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strconv"
	"strings"
	"time"
)

// Day and Year are the calendar-free units of expiration policies: a day is
// 24 hours and a year 365 days, so lifetimes never depend on time zones.
const (
	Day  = 24 * time.Hour
	Year = 365 * Day
)

// Duration is a time.Duration written as people write lifetimes: "1h",
// "12h", "30d", "1y", "2w", or any Go duration ("90m", "1h30m").
type Duration time.Duration

// ParseDuration parses a Duration. It accepts a whole number followed by
// d, w or y, or anything time.ParseDuration accepts; it refuses negatives
// and anything longer than a time.Duration holds (about 292 years), which
// would otherwise wrap around ("585y" became 21 days).
func ParseDuration(s string) (Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, Errorf(EINVALID, "empty duration")
	}
	unit := map[byte]time.Duration{'d': Day, 'w': 7 * Day, 'y': Year}[s[len(s)-1]]
	if unit != 0 {
		n, err := strconv.ParseInt(s[:len(s)-1], 10, 64)
		if err != nil || n < 0 || n > 1000 {
			return 0, Errorf(EINVALID, "invalid duration %q: use a whole number of d, w or y up to 1000, or a duration like 12h", s)
		}
		if n > int64(math.MaxInt64/unit) {
			return 0, Errorf(EINVALID, "duration %q is too long: at most %d%c", s, int64(math.MaxInt64/unit), s[len(s)-1])
		}
		return Duration(time.Duration(n) * unit), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		return 0, Errorf(EINVALID, "invalid duration %q: use 1h, 12h, 1d, 30d, 1y or a Go duration", s)
	}
	return Duration(d), nil
}

// String writes d in the largest exact unit: "1y", "30d", "12h", or Go's form.
func (d Duration) String() string {
	td := time.Duration(d)
	switch {
	case td == 0:
		return "0s"
	case td%Year == 0:
		return fmt.Sprintf("%dy", td/Year)
	case td%Day == 0:
		return fmt.Sprintf("%dd", td/Day)
	case td%time.Hour == 0:
		return fmt.Sprintf("%dh", td/time.Hour)
	case td%time.Minute == 0:
		return fmt.Sprintf("%dm", td/time.Minute)
	case td%time.Second == 0:
		return fmt.Sprintf("%ds", td/time.Second)
	}
	return td.String()
}

// MarshalJSON writes d as a string such as "30d".
func (d Duration) MarshalJSON() ([]byte, error) { return json.Marshal(d.String()) }

// UnmarshalJSON reads a string such as "30d". Its errors are
// *json.UnmarshalTypeError so that encoding/json fills in the field's path,
// which decoders then name to the caller.
func (d *Duration) UnmarshalJSON(b []byte) error {
	bad := &json.UnmarshalTypeError{Value: string(b), Type: reflect.TypeFor[Duration]()}
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return bad
	}
	v, err := ParseDuration(s)
	if err != nil {
		return bad
	}
	*d = v
	return nil
}

// Spell writes d as people say it: "1 hour", "29 days", "2 hours 30
// minutes", "1 day 4 hours", "less than a minute"; never Go's "1h0m0s".
// From two days on it counts whole days, rounded to the nearest; below,
// hours and minutes, rounded to the nearest minute.
func Spell(d time.Duration) string {
	unit := func(n int64, one, many string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + many
	}
	d = d.Abs()
	if d >= 2*Day {
		return unit(int64((d+Day/2)/Day), "day", "days")
	}
	m := int64((d + time.Minute/2) / time.Minute)
	if m == 0 {
		return "less than a minute"
	}
	days, hours, mins := m/(24*60), m/60%24, m%60
	var parts []string
	if days > 0 {
		parts = append(parts, unit(days, "day", "days"))
	}
	if hours > 0 {
		parts = append(parts, unit(hours, "hour", "hours"))
	}
	if mins > 0 && days == 0 {
		parts = append(parts, unit(mins, "minute", "minutes"))
	}
	return strings.Join(parts, " ")
}
