package id

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

func TestNewAndValid(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	g := NewGenerator(func() time.Time { return now }, bytes.NewReader(bytes.Repeat([]byte{7}, 1000)))
	a, b := g.New(Key), g.New(Key)
	if a == b || a > b {
		t.Errorf("ids are not increasing within one millisecond: %s then %s", a, b)
	}
	if !strings.HasPrefix(a, "key_") || len(a) != 4+26 || !Valid(Key, a) {
		t.Errorf("id %q", a)
	}
	for _, bad := range []string{"", "key_", "ws_" + a[4:], a + "0", "key_" + strings.Repeat("!", 26), "key_" + strings.ToLower(a[4:]) + "x"} {
		if Valid(Key, bad) {
			t.Errorf("Valid(%q) = true", bad)
		}
	}
}
