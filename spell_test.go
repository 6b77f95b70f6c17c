package latchkey_test

import (
	"testing"
	"time"

	"github.com/latchkey/latchkey"
)

func TestSpell(t *testing.T) {
	for _, c := range []struct {
		d    time.Duration
		want string
	}{
		{time.Hour, "1 hour"},
		{time.Hour + 30*time.Second, "1 hour 1 minute"},
		{59*time.Minute + 50*time.Second, "1 hour"},
		{2*time.Hour + 30*time.Minute, "2 hours 30 minutes"},
		{20 * time.Second, "less than a minute"},
		{45 * time.Minute, "45 minutes"},
		{latchkey.Day + 4*time.Hour + 10*time.Minute, "1 day 4 hours"},
		{29*latchkey.Day + 23*time.Hour + 59*time.Minute, "30 days"},
		{29 * latchkey.Day, "29 days"},
		{2 * latchkey.Day, "2 days"},
		{latchkey.Year, "365 days"},
	} {
		if got := latchkey.Spell(c.d); got != c.want {
			t.Errorf("Spell(%v) = %q, want %q", c.d, got, c.want)
		}
	}
}

func TestKeyCreatedInsideItsNoticeWindowIsNotExpiring(t *testing.T) {
	created := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	expires := created.Add(30 * latchkey.Day)
	k := &latchkey.Key{CreatedAt: created, ExpiresAt: &expires}
	windows := []latchkey.Duration{latchkey.Duration(30 * latchkey.Day), latchkey.Duration(7 * latchkey.Day)}
	if got := k.NoticeWindow(windows); got != 7*latchkey.Day {
		t.Fatalf("NoticeWindow: got %v, want 7 days (the 30-day window holds the key's whole life)", got)
	}
	for _, c := range []struct {
		at   time.Time
		want latchkey.Status
	}{
		{created, latchkey.StatusActive},
		{expires.Add(-8 * latchkey.Day), latchkey.StatusActive},
		{expires.Add(-7 * latchkey.Day), latchkey.StatusExpiring},
		{expires, latchkey.StatusExpired},
	} {
		if got := k.Status(c.at, k.NoticeWindow(windows)); got != c.want {
			t.Errorf("Status at expiry%v: got %s, want %s", c.at.Sub(expires), got, c.want)
		}
	}
	if got := k.Status(created, 30*latchkey.Day); got != latchkey.StatusActive {
		t.Errorf("Status under the widest window alone: got %s, want active", got)
	}
}
