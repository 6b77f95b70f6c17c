package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/latchkey/latchkey/client"
)

func TestKeysVerify(t *testing.T) {
	s := startServer(t)
	useServer(t, s)
	code, out, stderr := latchkeyCmd(t, "keys", "create", "--json", "--name", "reader", "--scope", "items:read", "--environment", "demo")
	var k client.KeyWithSecret
	if err := json.Unmarshal([]byte(out), &k); code != 0 || err != nil {
		t.Fatalf("create: exit code %d, stderr %q", code, stderr)
	}
	// Verification needs the server's URL only: no management key.
	t.Setenv("LATCHKEY_TOKEN", "")

	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		want  string
	}{
		{"valid from stdin", k.Secret + "\n", nil, 0, "valid: key " + k.Key.ID + ` "reader" (public_api, demo)`},
		{"valid from stdin, dash", k.Secret, []string{"-", "--scope", "items:read", "--environment", "demo"}, 0, "scopes:    items:read"},
		{"valid as the argument", "", []string{k.Secret, "--type", "public_api"}, 0, "valid: key " + k.Key.ID},
		{"valid with its key id", k.Secret, []string{"--key-id", k.Key.ID}, 0, "valid"},
		{"another key id", k.Secret, []string{"--key-id", "key_01J00000000000000000000000"}, 1, "invalid: key_invalid"},
		{"a missing scope", k.Secret, []string{"--scope", "items:read", "--scope", "users:read"}, 1, "missing scopes: users:read"},
		{"the wrong environment", k.Secret, []string{"--environment", "production"}, 1, "invalid: wrong_environment"},
		{"the wrong type", k.Secret, []string{"--type", "on_premise"}, 1, "invalid: wrong_type"},
		{"not a key", "hello\n", nil, 1, "invalid: key_malformed"},
		{"an unknown key", "lk_prod_" + strings.Repeat("A", 38) + "\n", nil, 1, "invalid: key_"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, stderr := latchkeyInput(t, strings.NewReader(tt.stdin), append([]string{"keys", "verify"}, tt.args...)...)
			if code != tt.code || !strings.Contains(out, tt.want) {
				t.Errorf("got exit code %d, output %q and stderr %q; want %d and %q", code, out, stderr, tt.code, tt.want)
			}
			if strings.Contains(out+stderr, k.Secret) {
				t.Errorf("the output repeats the secret: %q %q", out, stderr)
			}
		})
	}

	// --json: the decision as data.
	code, out, _ = latchkeyInput(t, strings.NewReader(k.Secret), "keys", "verify", "--json", "--scope", "users:read")
	var a verifyAnswer
	if err := json.Unmarshal([]byte(out), &a); code != 1 || err != nil || a.Valid || a.Code != "insufficient_scope" ||
		len(a.Missing) != 1 || a.Missing[0] != "users:read" || a.Key != nil {
		t.Errorf("verify --json of a narrow key: exit code %d, got %q", code, out)
	}
	code, out, _ = latchkeyInput(t, strings.NewReader(k.Secret), "keys", "verify", "--json")
	a = verifyAnswer{}
	if err := json.Unmarshal([]byte(out), &a); code != 0 || err != nil || !a.Valid || a.Key == nil || a.Key.ID != k.Key.ID {
		t.Errorf("verify --json: exit code %d, got %q", code, out)
	}

	// A revoked key is refused, with its reason.
	t.Setenv("LATCHKEY_TOKEN", s.managementKey(t))
	if code, _, stderr := latchkeyCmd(t, "keys", "revoke", k.Key.ID, "--yes"); code != 0 {
		t.Fatalf("revoke: %d %q", code, stderr)
	}
	code, out, _ = latchkeyInput(t, strings.NewReader(k.Secret), "keys", "verify")
	if code != 1 || !strings.Contains(out, "invalid: key_revoked") {
		t.Errorf("verify of a revoked key: exit code %d, got %q", code, out)
	}

	// No server: exit 1 and the reason, not a decision.
	t.Setenv("LATCHKEY_URL", closedPort(t))
	code, out, stderr = latchkeyInput(t, strings.NewReader(k.Secret), "keys", "verify")
	if code != 1 || out != "" || !strings.Contains(stderr, "cannot reach") {
		t.Errorf("verify without a server: exit code %d, output %q and stderr %q", code, out, stderr)
	}
}
