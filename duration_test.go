package latchkey

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestAttackDurationOverflowWrapsToShortLifetime: "585y" used to wrap
// around int64 and come out as about 21 days, slipping past max_lifetime
// checks with a lifetime nobody asked for.
func TestAttackDurationOverflowWrapsToShortLifetime(t *testing.T) {
	for _, in := range []string{"585y", "293y", "1000y", "15250w", "106752d"} {
		d, err := ParseDuration(in)
		if ErrorCode(err) != EINVALID {
			t.Errorf("ParseDuration(%q) = %v, %v; want invalid_request", in, time.Duration(d), err)
		}
	}
	for in, want := range map[string]time.Duration{"292y": 292 * Year, "1000w": 7000 * Day, "1000d": 1000 * Day} {
		if d, err := ParseDuration(in); err != nil || time.Duration(d) != want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", in, time.Duration(d), err, want)
		}
	}
	// Through the expiry policy the refusal names the field.
	p := DefaultSettings().Expiration
	p.AllowNeverExpire = true
	_, err := p.ResolveExpiry(time.Now(), "585y", nil)
	if ErrorCode(err) != EINVALID || err.(*Error).Details["field"] != "expires_in" {
		t.Errorf("ResolveExpiry(585y) = %v, want invalid_request on expires_in", err)
	}
	// And through JSON (max_lifetime in settings).
	var s struct {
		D Duration `json:"max_lifetime"`
	}
	if err := json.Unmarshal([]byte(`{"max_lifetime":"585y"}`), &s); err == nil {
		t.Errorf("max_lifetime 585y decoded as %v, want an error", time.Duration(s.D))
	}
}

// FuzzParseDuration checks that whatever ParseDuration accepts is a
// non-negative duration that String writes back to the same value.
func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"1h", "30d", "1y", "2w", "90m", "585y", "292y", "1000d", "-1d", "9223372036854775807ns", "1h30m", " 5d ", "+3d", "1e3d", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ParseDuration(s)
		if err != nil {
			if ErrorCode(err) != EINVALID {
				t.Fatalf("ParseDuration(%q): error %v is not invalid_request", s, err)
			}
			return
		}
		if d < 0 {
			t.Fatalf("ParseDuration(%q) = %v, negative", s, time.Duration(d))
		}
		if u := strings.TrimSpace(s); len(u) > 1 && strings.ContainsRune("dwy", rune(u[len(u)-1])) && time.Duration(d) > 292*Year {
			t.Fatalf("ParseDuration(%q) = %v, beyond 292 years", s, time.Duration(d))
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDuration(%q) = %v; String %q parses back to %v, %v", s, time.Duration(d), d.String(), time.Duration(back), err)
		}
	})
}
