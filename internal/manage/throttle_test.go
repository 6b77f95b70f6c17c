package manage

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestThrottleTokenUse(t *testing.T) {
	now := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	s := &Service{throttle: newThrottle(func() time.Time { return now })}
	// Attempts that were not made do not count.
	for range 50 {
		r, err := s.reserveTokenUse("invite", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		r.release()
	}
	// In flight counts: 20 reserved at once, the 21st is refused.
	var rs []*reservation
	for range 20 {
		r, err := s.reserveTokenUse("invite", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		rs = append(rs, r)
	}
	if _, err := s.reserveTokenUse("invite", "192.0.2.1"); latchkey.ErrorCode(err) != latchkey.ERATELIMITED {
		t.Fatalf("21st attempt in flight: got %v, want rate_limited", err)
	}
	for _, r := range rs {
		r.fail()
		r.fail() // settles once
	}
	_, err := s.reserveTokenUse("invite", "192.0.2.1")
	if secs, _ := err.(*latchkey.Error).Details["retry_after_seconds"].(int); latchkey.ErrorCode(err) != latchkey.ERATELIMITED || secs < 14*60 {
		t.Fatalf("after 20 failures: got %v, want rate_limited for 15 minutes", err)
	}
	// Other sources, and the same /64 for IPv6, are separate or shared as they should be.
	if _, err := s.reserveTokenUse("invite", "192.0.2.2"); err != nil {
		t.Errorf("another address: %v", err)
	}
	for range 20 {
		r, _ := s.reserveTokenUse("invite", "2001:db8::1")
		r.fail()
	}
	if _, err := s.reserveTokenUse("invite", "2001:db8::ffff"); latchkey.ErrorCode(err) != latchkey.ERATELIMITED {
		t.Errorf("another address of the same /64: got %v, want rate_limited", err)
	}
	now = now.Add(16 * time.Minute)
	if _, err := s.reserveTokenUse("invite", "192.0.2.1"); err != nil {
		t.Errorf("after the lockout: %v", err)
	}
}
