package main

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/client"
)

func TestKeysUpdate(t *testing.T) {
	s := startServer(t)
	useServer(t, s)
	id, get := cliCreateKey(t, "--name", "CI", "--description", "first",
		"--scope", "items:read", "--callback-url", "https://hooks.example.com/latchkey")

	// Everything at once.
	code, out, stderr := latchkeyCmd(t, "keys", "update", id, "--name", "CI (prod)", "--scope", "items:read,users:read",
		"--rate-limit", "100/1m", "--allowed-ip", "203.0.113.0/24", "--allowed-ip", "2001:db8::/32",
		"--external-id", "cus_123", "--meta", `{"plan":"pro"}`)
	if code != 0 || !strings.Contains(out, `updated key `+id+` "CI (prod)"`) || !strings.Contains(out, "100 per 1m") ||
		!strings.Contains(out, "203.0.113.0/24") || !strings.Contains(out, "cus_123") {
		t.Fatalf("update: exit code %d, stderr %q, got\n%s", code, stderr, out)
	}
	k := get()
	if k.Name != "CI (prod)" || !slices.Equal(k.Scopes, []string{"items:read", "users:read"}) ||
		k.RateLimit == nil || k.RateLimit.Limit != 100 || time.Duration(k.RateLimit.Period) != time.Minute ||
		!slices.Equal(k.AllowedIPs, []string{"203.0.113.0/24", "2001:db8::/32"}) || k.ExternalID != "cus_123" ||
		compactJSON(t, k.Meta) != `{"plan":"pro"}` {
		t.Errorf("after update: got %+v", k)
	}
	// Only the flags given are sent: the rest stays.
	if k.Description != "first" || k.CallbackURL != "https://hooks.example.com/latchkey" {
		t.Errorf("update changed what it was not asked to: description %q, callback URL %q", k.Description, k.CallbackURL)
	}

	code, _, stderr = latchkeyCmd(t, "keys", "update", id, "--description", "second")
	if k := get(); code != 0 || k.Description != "second" || k.Name != "CI (prod)" || len(k.Scopes) != 2 || k.RateLimit == nil || len(k.AllowedIPs) != 2 {
		t.Errorf("update --description: exit code %d (%q), got %+v, want only the description changed", code, stderr, k)
	}

	// Removing: "" and none and {}.
	code, _, stderr = latchkeyCmd(t, "keys", "update", id, "--scope", "", "--rate-limit", "none", "--allowed-ip", "",
		"--callback-url", "", "--external-id", "", "--meta", "{}")
	if k := get(); code != 0 || len(k.Scopes) != 0 || k.RateLimit != nil || len(k.AllowedIPs) != 0 || k.CallbackURL != "" ||
		k.ExternalID != "" || len(k.Meta) != 0 || k.Description != "second" {
		t.Errorf("update removing: exit code %d (%q), got %+v", code, stderr, k)
	}

	// --json prints the API's answer.
	code, out, _ = latchkeyCmd(t, "keys", "update", id, "--name", "renamed", "--json")
	var answer struct{ Key client.Key }
	if err := json.Unmarshal([]byte(out), &answer); code != 0 || err != nil || answer.Key.Name != "renamed" {
		t.Errorf("update --json: exit code %d, got %q", code, out)
	}

	// The server's refusals name the flags.
	tests := []struct {
		name     string
		args     []string
		want     string
		notField string
	}{
		{"rate period", []string{"--rate-limit", "5/2d"}, "the period of --rate-limit", "rate_limit"},
		{"rate count", []string{"--rate-limit", "2000000/1m"}, "the count of --rate-limit", "rate_limit"},
		{"networks", []string{"--allowed-ip", "not-a-network"}, "--allowed-ip", "allowed_ips"},
		{"callback", []string{"--callback-url", "http://example.com/hook"}, "--callback-url", "callback_url"},
		{"scope", []string{"--scope", "nope:read"}, "--scope: unknown scopes", "field"},
		{"setting", []string{"--setting", "colour=red"}, "--setting colour", "settings."},
		{"meta", []string{"--meta", `{"a":"` + strings.Repeat("x", 5000) + `"}`}, "--meta may be at most", "latchkey: meta"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := latchkeyCmd(t, append([]string{"keys", "update", id}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, tt.notField) {
				t.Errorf("got exit code %d and %q, want 2, %q and not %q", code, stderr, tt.want, tt.notField)
			}
		})
	}

	// A revoked key cannot change.
	if code, _, stderr := latchkeyCmd(t, "keys", "revoke", id, "--yes"); code != 0 {
		t.Fatalf("revoke: %d %q", code, stderr)
	}
	if code, _, stderr := latchkeyCmd(t, "keys", "update", id, "--name", "again"); code != 2 || !strings.Contains(stderr, "conflict") {
		t.Errorf("update of a revoked key: got exit code %d and %q, want 2 and conflict", code, stderr)
	}
	// Nor can another workspace's key, or none.
	if code, _, stderr := latchkeyCmd(t, "keys", "update", "key_01J00000000000000000000000", "--name", "x"); code != 2 || !strings.Contains(stderr, "not_found") {
		t.Errorf("update of an unknown key: got exit code %d and %q, want 2 and not_found", code, stderr)
	}
}

// TestKeysErrorsNameFlags: what the user typed is what the error names.
func TestKeysErrorsNameFlags(t *testing.T) {
	s := startServer(t)
	useServer(t, s)
	code, out, _ := latchkeyCmd(t, "keys", "create", "--json", "--name", "x")
	var k client.KeyWithSecret
	if err := json.Unmarshal([]byte(out), &k); code != 0 || err != nil {
		t.Fatalf("create: %d %q", code, out)
	}
	tests := []struct {
		name     string
		args     []string
		want     string
		notField string
	}{
		{"grace", []string{"keys", "reset", k.Key.ID, "--grace-period", "8d"}, "--grace-period must be between 0s and 7d", "grace_period"},
		{"lifetime", []string{"keys", "create", "--name", "x", "--expires-in", "2y"}, "--expires-in", "expires_in"},
		{"past expiry", []string{"keys", "create", "--name", "x", "--expires-at", "2001-01-01T00:00:00Z"}, "--expires-at must be in the future", "expires_at"},
		{"type", []string{"keys", "create", "--name", "x", "--type", "nope"}, "--type", "field"},
		{"callback", []string{"keys", "create", "--name", "x", "--callback-url", "ftp://x"}, "--callback-url must be", "callback_url"},
		{"cursor", []string{"keys", "list", "--cursor", "garbage"}, "--cursor", "field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := latchkeyCmd(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, tt.notField) {
				t.Errorf("got exit code %d and %q, want 2, %q and not %q", code, stderr, tt.want, tt.notField)
			}
		})
	}
}

func TestFlagNamesRewrite(t *testing.T) {
	tests := []struct {
		flags      flagNames
		msg, field string
		want       string
	}{
		{resetFlags, "grace_period must be between 0s and 7d", "grace_period", "--grace-period must be between 0s and 7d"},
		{createFlags, "give expires_in or expires_at, not both", "expires_in", "give --expires-in or --expires-at, not both"},
		{updateFlags, "rate_limit.limit must be between 1 and 1000000", "rate_limit.limit", "the count of --rate-limit must be between 1 and 1000000"},
		{updateFlags, "setting retrieve_signatures must be true or false", "settings.retrieve_signatures", "--setting retrieve_signatures: setting retrieve_signatures must be true or false"},
		{updateFlags, "the key is revoked", "", "the key is revoked"},
		{createFlags, "unknown key type \"nope\"", "type", "--type: unknown key type \"nope\""},
		// Only whole field names: not inside other words or fields.
		{resetFlags, "old_grace_period and grace_periods stay", "x", "old_grace_period and grace_periods stay"},
		{resetFlags, "ends with grace_period.", "grace_period", "ends with --grace-period."},
		{updateFlags, "meta must be a JSON object", "meta", "--meta must be a JSON object"},
		{updateFlags, "the metadata is too big", "meta", "--meta: the metadata is too big"},
		{nil, "grace_period must be positive", "grace_period", "grace_period must be positive"},
		{updateFlags, "credits.remaining must be between 0 and 9", "credits.remaining", "--credits must be between 0 and 9"},
		{createFlags, "credits.refill.amount must be between 1 and 9", "credits.refill.amount", "the amount of --refill must be between 1 and 9"},
		{updateFlags, "ratelimits[1].limit must be between 1 and 9", "ratelimits[1].limit", "the limit of --ratelimit #2 must be between 1 and 9"},
		{createFlags, "ratelimits[0].duration must be whole seconds", "ratelimits[0].duration", "the duration of --ratelimit #1 must be whole seconds"},
		{updateFlags, `rate limit "api" appears twice`, "ratelimits[2].name", `the name of --ratelimit #3: rate limit "api" appears twice`},
		{updateFlags, "a key may have at most 8 rate limits", "ratelimits", "--ratelimit: a key may have at most 8 rate limits"},
		{usageFlags, "from must be before to, at most 366 days apart", "from", "--from must be before to, at most 366 days apart"},
	}
	for _, tt := range tests {
		if got := tt.flags.rewrite(tt.msg, tt.field); got != tt.want {
			t.Errorf("rewrite(%q, %q): got %q, want %q", tt.msg, tt.field, got, tt.want)
		}
	}
}

func compactJSON(t *testing.T, b []byte) string {
	t.Helper()
	var out bytes.Buffer
	if err := json.Compact(&out, b); err != nil {
		t.Fatalf("%q: %v", b, err)
	}
	return out.String()
}

// cliCreateKey runs `keys create --json` with args and returns the key's
// id and a function that reads the key back through `keys get --json`.
func cliCreateKey(t *testing.T, args ...string) (string, func() client.Key) {
	t.Helper()
	code, out, stderr := latchkeyCmd(t, append([]string{"keys", "create", "--json"}, args...)...)
	var created client.KeyWithSecret
	if err := json.Unmarshal([]byte(out), &created); code != 0 || err != nil {
		t.Fatalf("create: exit code %d, stderr %q", code, stderr)
	}
	id := created.Key.ID
	return id, func() client.Key {
		t.Helper()
		code, out, stderr := latchkeyCmd(t, "keys", "get", id, "--json")
		var k struct{ Key client.Key }
		if err := json.Unmarshal([]byte(out), &k); code != 0 || err != nil {
			t.Fatalf("get: exit code %d, stderr %q", code, stderr)
		}
		return k.Key
	}
}
