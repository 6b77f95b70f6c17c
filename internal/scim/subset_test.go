package scim

import "testing"

// TestSubset keeps the fixture matcher honest: a fixture that expects
// something else must fail.
func TestSubset(t *testing.T) {
	got := map[string]any{"a": "x", "n": float64(1), "l": []any{map[string]any{"v": "1", "w": "2"}}, "o": map[string]any{"k": true}}
	for _, c := range []struct {
		want map[string]any
		ok   bool
	}{
		{map[string]any{"a": "x", "l": []any{map[string]any{"v": "1"}}}, true},
		{map[string]any{"a": "*", "o": map[string]any{"k": true}, "n": 1}, true},
		{map[string]any{"a": "y"}, false},
		{map[string]any{"missing": "*"}, false},
		{map[string]any{"l": []any{}}, false},
		{map[string]any{"l": []any{map[string]any{"v": "2"}}}, false},
		{map[string]any{"o": map[string]any{"k": false}}, false},
	} {
		if d := subset(got, c.want, "answer"); (d == "") != c.ok {
			t.Errorf("subset(%v): got %q, want ok=%v", c.want, d, c.ok)
		}
	}
}
