package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func TestKeysCreditsAndRateLimitFlags(t *testing.T) {
	s := startServer(t)
	useServer(t, s)
	id, get := cliCreateKey(t, "--name", "metered", "--credits", "3",
		"--refill", "monthly:10", "--ratelimit", "api=100/1m", "--ratelimit", "burst=5/1s")
	limits := func(k client.Key) []string {
		var out []string
		for _, l := range k.RateLimits {
			out = append(out, fmt.Sprintf("%s=%d/%s", l.Name, l.Limit, l.Duration))
		}
		return out
	}
	k := get()
	if c := k.Credits; c == nil || c.Remaining != 3 || c.Refill == nil || c.Refill.Interval != latchkey.RefillMonthly || c.Refill.Amount != 10 {
		t.Errorf("credits after create: got %+v, want 3 remaining, refilled monthly to 10", k.Credits)
	}
	if got := limits(k); !slices.Equal(got, []string{"api=100/1m", "burst=5/1s"}) {
		t.Errorf("limits after create: got %v", got)
	}
	code, out, _ := latchkeyCmd(t, "keys", "get", id)
	if code != 0 || !strings.Contains(out, "3 remaining, refilled to 10 monthly") || !strings.Contains(out, "api=100/1m burst=5/1s") {
		t.Errorf("get shows credits and limits: got\n%s", out)
	}

	// --ratelimit replaces the limits; --refill alone starts from its amount.
	code, _, stderr := latchkeyCmd(t, "keys", "update", id, "--ratelimit", "api=50/1h", "--refill", "daily:7")
	k = get()
	if code != 0 || !slices.Equal(limits(k), []string{"api=50/1h"}) || k.Credits == nil || k.Credits.Remaining != 7 ||
		k.Credits.Refill.Interval != latchkey.RefillDaily {
		t.Errorf("update: exit code %d (%q), got credits %+v and limits %v", code, stderr, k.Credits, limits(k))
	}
	// --no-credits and --ratelimit none remove them.
	code, _, stderr = latchkeyCmd(t, "keys", "update", id, "--no-credits", "--ratelimit", "none")
	if k = get(); code != 0 || k.Credits != nil || len(k.RateLimits) != 0 {
		t.Errorf("update removing: exit code %d (%q), got credits %+v and limits %v", code, stderr, k.Credits, k.RateLimits)
	}

	tests := []struct {
		name     string
		args     []string
		want     string
		notField string
	}{
		// Refused before anything is sent.
		{"refill interval", []string{"keys", "update", id, "--refill", "weekly:5"}, "--refill", "credits"},
		{"negative credits", []string{"keys", "create", "--name", "x", "--credits", "-1"}, "--credits", "remaining"},
		{"limit without duration", []string{"keys", "update", id, "--ratelimit", "api=100"}, "--ratelimit", "ratelimits"},
		{"limit name", []string{"keys", "update", id, "--ratelimit", "API=1/1s"}, "--ratelimit \"API=1/1s\": the name", "ratelimits"},
		{"both", []string{"keys", "update", id, "--no-credits", "--credits", "5"}, "--no-credits", "credits."},
		// Refused by the server, named by flag.
		{"too many credits", []string{"keys", "update", id, "--credits", "2000000000000000000"}, "--credits must be between", "credits.remaining"},
		{"twice", []string{"keys", "update", id, "--ratelimit", "api=1/1s", "--ratelimit", "api=2/1s"}, "the name of --ratelimit #2", "ratelimits["},
		{"long window", []string{"keys", "create", "--name", "x", "--ratelimit", "api=1/31d"}, "the duration of --ratelimit #1 must be", "ratelimits["},
		{"too many", []string{"keys", "update", id, "--ratelimit", "a=1/1s", "--ratelimit", "b=1/1s", "--ratelimit", "c=1/1s",
			"--ratelimit", "d=1/1s", "--ratelimit", "e=1/1s", "--ratelimit", "f=1/1s", "--ratelimit", "g=1/1s", "--ratelimit", "h=1/1s",
			"--ratelimit", "i=1/1s"}, "--ratelimit: a key may have at most 8", "ratelimits"},
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

func TestKeysUsageCommand(t *testing.T) {
	s := startServer(t)
	useServer(t, s)
	code, out, stderr := latchkeyCmd(t, "keys", "create", "--json", "--name", "watched", "--scope", "items:read")
	var created client.KeyWithSecret
	if err := json.Unmarshal([]byte(out), &created); code != 0 || err != nil {
		t.Fatalf("create: exit code %d, stderr %q", code, stderr)
	}
	id := created.Key.ID
	if code, out, _ := latchkeyCmd(t, "keys", "usage", id); code != 0 || !strings.Contains(out, "no verifications of key "+id) {
		t.Errorf("usage of an unused key: exit code %d, got %q", code, out)
	}
	hc := &http.Client{Timeout: 10 * time.Second}
	for _, body := range []map[string]any{
		{"tags": []string{"path=/v1/items"}},
		{"tags": []string{"path=/v1/items", "version=2"}},
		{"scopes": []string{"items:write"}, "tags": []string{"path=/v1/items"}},
	} {
		body["key"] = created.Secret
		send(t, hc, "POST", s.URL+"/v1/keys/verify", body)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		code, out, stderr := latchkeyCmd(t, "keys", "usage", id, "--json")
		var got struct{ Data []client.UsageDay }
		if err := json.Unmarshal([]byte(out), &got); code != 0 || err != nil {
			t.Fatalf("usage --json: exit code %d, stderr %q", code, stderr)
		}
		if len(got.Data) == 1 && got.Data[0].Valid == 2 && got.Data[0].Refused(latchkey.InsufficientScope) == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("usage never showed the verifications: %s", out)
		}
		time.Sleep(20 * time.Millisecond)
	}
	today := time.Now().UTC().Format(time.DateOnly)
	code, out, _ = latchkeyCmd(t, "keys", "usage", id)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !strings.HasPrefix(lines[0], "DAY") ||
		!slices.Equal(strings.Fields(lines[1]), []string{today, "production", "valid", "2"}) ||
		!slices.Equal(strings.Fields(lines[2]), []string{today, "production", "insufficient_scope", "1"}) {
		t.Errorf("usage table: exit code %d, got\n%s", code, out)
	}
	code, out, _ = latchkeyCmd(t, "keys", "usage", id, "--tags")
	lines = strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 3 || !slices.Equal(strings.Fields(lines[1]), []string{today, "path=/v1/items", "3", "2"}) ||
		!slices.Equal(strings.Fields(lines[2]), []string{today, "version=2", "1", "1"}) {
		t.Errorf("usage --tags table: exit code %d, got\n%s", code, out)
	}

	tests := []struct {
		name     string
		args     []string
		want     string
		notField string
	}{
		{"bad day", []string{"--from", "last week"}, `--from "last week"`, "field"},
		{"backwards", []string{"--from", "2030-01-02", "--to", "2030-01-01"}, "--from must be before", "invalid_request\n\n"},
		{"too long", []string{"--tags", "--from", "2020-01-01", "--to", "2030-01-01"}, "--from must be before", "field"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := latchkeyCmd(t, append([]string{"keys", "usage", id}, tt.args...)...)
			if code != 2 || !strings.Contains(stderr, tt.want) || strings.Contains(stderr, tt.notField) {
				t.Errorf("got exit code %d and %q, want 2, %q and not %q", code, stderr, tt.want, tt.notField)
			}
		})
	}
	if code, _, stderr := latchkeyCmd(t, "keys", "usage", "key_01J00000000000000000000000"); code != 2 || !strings.Contains(stderr, "not_found") {
		t.Errorf("usage of an unknown key: got exit code %d and %q, want 2 and not_found", code, stderr)
	}
}
