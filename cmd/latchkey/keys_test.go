package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// secretPattern matches a whole token (the secret scanners' regex).
var secretPattern = regexp.MustCompile(`\blk_(?:prod|demo)_[0-9A-Za-z]{38}\b`)

// latchkeyCmd runs the command line and returns its exit code and output.
// Its standard input is empty, as a script's: never the terminal the
// tests may run in.
func latchkeyCmd(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	return latchkeyInput(t, strings.NewReader(""), args...)
}

// latchkeyInput is latchkeyCmd with stdin as standard input.
func latchkeyInput(t *testing.T, stdin io.Reader, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = runWithInput(args, stdin, &out, &errb)
	return code, out.String(), errb.String()
}

// useServer points the keys commands at s with a fresh management key.
func useServer(t *testing.T, s *testServer) string {
	t.Helper()
	tok := s.managementKey(t)
	t.Setenv("LATCHKEY_URL", s.URL)
	t.Setenv("LATCHKEY_TOKEN", tok)
	return tok
}

// onlySecret returns the one secret in out, failing unless there is
// exactly one occurrence of exactly one secret.
func onlySecret(t *testing.T, out string) string {
	t.Helper()
	found := secretPattern.FindAllString(out, -1)
	if len(found) != 1 {
		t.Fatalf("got %d secrets in the output, want exactly 1:\n%s", len(found), out)
	}
	return found[0]
}

func closedPort(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestKeysUsageMistakes(t *testing.T) {
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte("lk_prod_x\n"), 0o600)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string // in stderr
	}{
		{"no url", map[string]string{"LATCHKEY_URL": ""}, []string{"keys", "list"}, "LATCHKEY_URL"},
		{"bad url", nil, []string{"keys", "list", "--url", "localhost:8080"}, "not a server URL"},
		{"no token", map[string]string{"LATCHKEY_TOKEN": ""}, []string{"keys", "list"}, "LATCHKEY_TOKEN"},
		{"two tokens", nil, []string{"keys", "list", "--token-file", tokFile}, "once"},
		{"missing token file", map[string]string{"LATCHKEY_TOKEN": ""}, []string{"keys", "list", "--token-file", tokFile + ".nope"}, "reading"},
		{"no name", nil, []string{"keys", "create"}, "--name"},
		{"bad setting", nil, []string{"keys", "create", "--name", "x", "--setting", "retrieve_signatures"}, "name=value"},
		{"bad environment", nil, []string{"keys", "create", "--name", "x", "--environment", "staging"}, "production"},
		{"bad expiry", nil, []string{"keys", "create", "--name", "x", "--expires-at", "tomorrow"}, "RFC 3339"},
		{"two expiries", nil, []string{"keys", "create", "--name", "x", "--expires-in", "1d", "--expires-at", "2030-01-01T00:00:00Z"}, "not both"},
		{"bad status", nil, []string{"keys", "list", "--status", "green"}, "--status"},
		{"bad grace", nil, []string{"keys", "reset", "key_1", "--grace-period", "soon"}, "--grace-period"},
		{"no id", nil, []string{"keys", "get"}, "accepts 1 arg"},
		{"unknown flag", nil, []string{"keys", "list", "--colour"}, "unknown flag"},
		{"revoke unconfirmed", nil, []string{"keys", "revoke", "key_1"}, "add --yes"},
		{"delete unconfirmed", nil, []string{"keys", "delete", "key_1"}, "add --yes"},
		{"update nothing", nil, []string{"keys", "update", "key_1"}, "nothing to change"},
		{"update empty name", nil, []string{"keys", "update", "key_1", "--name", " "}, "--name"},
		{"update bad rate limit", nil, []string{"keys", "update", "key_1", "--rate-limit", "lots"}, "COUNT/PERIOD"},
		{"update zero rate limit", nil, []string{"keys", "update", "key_1", "--rate-limit", "0/1m"}, "COUNT/PERIOD"},
		{"update bad rate period", nil, []string{"keys", "update", "key_1", "--rate-limit", "5/soon"}, "period"},
		{"update meta not an object", nil, []string{"keys", "update", "key_1", "--meta", "[1]"}, "--meta"},
		{"update meta not JSON", nil, []string{"keys", "update", "key_1", "--meta", "plan=pro"}, "--meta"},
		{"update bad setting", nil, []string{"keys", "update", "key_1", "--setting", "x"}, "name=value"},
		{"verify no key", nil, []string{"keys", "verify"}, "no key to verify"},
		{"verify bad environment", nil, []string{"keys", "verify", "lk_prod_x", "--environment", "staging"}, "production"},
		{"verify two keys", nil, []string{"keys", "verify", "a", "b"}, "accepts at most 1 arg"},
		{"verify no url", map[string]string{"LATCHKEY_URL": ""}, []string{"keys", "verify", "lk_prod_x"}, "LATCHKEY_URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Nothing listens here: a usage mistake must be caught before
			// anything is sent, or the exit code would be 1.
			t.Setenv("LATCHKEY_URL", closedPort(t))
			t.Setenv("LATCHKEY_TOKEN", "lk_prod_x")
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, _, stderr := latchkeyCmd(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("got exit code %d and stderr %q, want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestKeysUnreachable(t *testing.T) {
	const tok = "lk_prod_secretTokenThatMustNotBePrinted0000"
	t.Setenv("LATCHKEY_URL", closedPort(t))
	t.Setenv("LATCHKEY_TOKEN", tok)
	code, stdout, stderr := latchkeyCmd(t, "keys", "list")
	if code != 1 || !strings.Contains(stderr, "cannot reach") {
		t.Errorf("got exit code %d and stderr %q, want 1 and \"cannot reach\"", code, stderr)
	}
	if strings.Contains(stdout+stderr, tok) {
		t.Errorf("the output repeats the token: %q %q", stdout, stderr)
	}
}

func TestKeysRefusedByServer(t *testing.T) {
	s := startServer(t)
	useServer(t, s)
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"unknown key", nil, []string{"keys", "get", "key_01J00000000000000000000000"}, "not_found"},
		{"bad token", map[string]string{"LATCHKEY_TOKEN": "lk_prod_x"}, []string{"keys", "list"}, "unauthenticated"},
		{"other workspace", map[string]string{"LATCHKEY_WORKSPACE": "ws_01J00000000000000000000000"}, []string{"keys", "list"}, "not_found"},
		{"unknown scope", nil, []string{"keys", "create", "--name", "x", "--scope", "nope:read"}, "invalid_request"},
		{"unknown setting", nil, []string{"keys", "create", "--name", "x", "--type", "on_premise", "--setting", "colour=red"}, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			code, _, stderr := latchkeyCmd(t, tt.args...)
			if code != 2 || !strings.Contains(stderr, tt.want) {
				t.Errorf("got exit code %d and stderr %q, want 2 and %q", code, stderr, tt.want)
			}
		})
	}
}

func TestKeysCreateAndList(t *testing.T) {
	s := startServer(t)
	tok := useServer(t, s)
	verifier := newGoClient(t, s.URL)

	code, out, stderr := latchkeyCmd(t, "keys", "create", "--name", "CI deploys", "--description", "from the pipeline",
		"--scope", "items:read", "--scope", "users:read", "--expires-in", "90d")
	if code != 0 {
		t.Fatalf("create: exit code %d, stderr %q", code, stderr)
	}
	if !strings.Contains(out, "store it now: it cannot be shown again") || !strings.Contains(out, "CI deploys") {
		t.Errorf("create printed %q, want the key's name and the warning", out)
	}
	secret := onlySecret(t, out)
	if strings.Count(out, secret) != 1 {
		t.Errorf("create printed the secret %d times, want once", strings.Count(out, secret))
	}
	if c := verifyCode(t, verifier, secret, "items:read", "users:read"); c != "" {
		t.Errorf("the printed secret: got %q, want valid", c)
	}
	if strings.Contains(out+stderr, tok) {
		t.Error("create printed the management key")
	}

	expiresAt := time.Now().Add(200 * latchkey.Day).UTC().Truncate(time.Second)
	code, out, _ = latchkeyCmd(t, "keys", "create", "--json", "--name", "agent", "--type", "on_premise", "--environment", "demo",
		"--setting", "retrieve_signatures=true", "--setting", "send_directory_data=false", "--expires-at", expiresAt.Format(time.RFC3339))
	var created client.KeyWithSecret
	if err := json.Unmarshal([]byte(out), &created); code != 0 || err != nil {
		t.Fatalf("create --json: exit code %d, output %q: %v", code, out, err)
	}
	if created.Secret == "" || created.Key.Environment != latchkey.Demo ||
		created.Key.Settings["retrieve_signatures"] != true || created.Key.Settings["send_directory_data"] != false {
		t.Errorf("create --json: got %+v, want a demo key with boolean settings", created)
	}
	if c := verifyCode(t, verifier, created.Secret); c != "" {
		t.Errorf("the JSON secret: got %q, want valid", c)
	}
	if created.Key.ExpiresAt == nil || !created.Key.ExpiresAt.Equal(expiresAt) {
		t.Errorf("create --expires-at: got expiry %v, want %v", created.Key.ExpiresAt, expiresAt)
	}

	code, out, _ = latchkeyCmd(t, "keys", "list")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if code != 0 || len(lines) != 4 { // header, CI deploys, agent, the management key
		t.Fatalf("list: exit code %d, got %d lines, want 4:\n%s", code, len(lines), out)
	}
	if hdr := strings.Fields(lines[0]); strings.Join(hdr, " ") != "ID NAME TYPE ENV OWNER START STATUS EXPIRES LAST USED" {
		t.Errorf("list header: got %q", lines[0])
	}
	if !strings.Contains(out, created.Key.ID) || !strings.Contains(out, "on_premise") || !strings.Contains(out, "CI deploys") {
		t.Errorf("list: got\n%s\nwant both keys", out)
	}

	var page client.KeyPage
	code, out, _ = latchkeyCmd(t, "keys", "list", "--json", "--type", "on_premise")
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil || len(page.Data) != 1 || page.Data[0].ID != created.Key.ID {
		t.Errorf("list --json --type on_premise: exit code %d, got %q (%v), want the agent key", code, out, err)
	}
	code, out, stderr = latchkeyCmd(t, "keys", "list", "--limit", "1")
	if code != 0 || !strings.Contains(stderr, "--cursor") || strings.Count(out, "\n") != 2 {
		t.Errorf("list --limit 1: got %q and stderr %q, want one key and a hint to page on", out, stderr)
	}
	code, out, _ = latchkeyCmd(t, "keys", "list", "--all", "--limit", "1", "--json")
	page = client.KeyPage{}
	if err := json.Unmarshal([]byte(out), &page); code != 0 || err != nil || len(page.Data) != 3 || page.NextCursor != "" {
		t.Errorf("list --all --limit 1 --json: exit code %d, got %q (%v), want 3 keys and no cursor", code, out, err)
	}

	// The workspace may be given rather than found through /v1/me.
	t.Setenv("LATCHKEY_WORKSPACE", s.WorkspaceID)
	code, out, _ = latchkeyCmd(t, "keys", "get", created.Key.ID)
	if code != 0 || !strings.Contains(out, "agent") || !strings.Contains(out, "retrieve_signatures=true") {
		t.Errorf("get: exit code %d, got\n%s", code, out)
	}

	// The token may come from a file.
	tokFile := filepath.Join(t.TempDir(), "token")
	os.WriteFile(tokFile, []byte(tok+"\n"), 0o600)
	t.Setenv("LATCHKEY_TOKEN", "")
	if code, _, stderr := latchkeyCmd(t, "keys", "get", created.Key.ID, "--token-file", tokFile); code != 0 {
		t.Errorf("get --token-file: exit code %d, stderr %q", code, stderr)
	}
}

func TestKeysRevokeResetDelete(t *testing.T) {
	s := startServer(t)
	useServer(t, s)
	verifier := newGoClient(t, s.URL)
	newKey := func(name string) (string, string) {
		t.Helper()
		code, out, stderr := latchkeyCmd(t, "keys", "create", "--json", "--name", name)
		var k client.KeyWithSecret
		if err := json.Unmarshal([]byte(out), &k); code != 0 || err != nil {
			t.Fatalf("create: exit code %d, stderr %q", code, stderr)
		}
		return k.Key.ID, k.Secret
	}

	id, secret := newKey("to revoke")
	code, out, _ := latchkeyCmd(t, "keys", "revoke", id, "--yes")
	if code != 0 || !strings.Contains(out, "revoked key "+id) {
		t.Errorf("revoke: exit code %d, got %q", code, out)
	}
	if c := verifyCode(t, verifier, secret); c != latchkey.KeyRevoked {
		t.Errorf("after revoke: got %q, want key_revoked", c)
	}
	if code, out, _ := latchkeyCmd(t, "keys", "list", "--status", "revoked"); code != 0 || !strings.Contains(out, id) {
		t.Errorf("list --status revoked: exit code %d, got %q", code, out)
	}
	if code, _, stderr := latchkeyCmd(t, "keys", "reset", id); code != 2 || !strings.Contains(stderr, "conflict") {
		t.Errorf("reset of a revoked key: got exit code %d and %q, want 2 and conflict", code, stderr)
	}

	id, old := newKey("to reset")
	code, out, _ = latchkeyCmd(t, "keys", "reset", id)
	if code != 0 || !strings.Contains(out, "store it now") {
		t.Fatalf("reset: exit code %d, got %q", code, out)
	}
	fresh := onlySecret(t, out)
	if a, b := verifyCode(t, verifier, old), verifyCode(t, verifier, fresh); a != latchkey.KeyInvalid || b != "" {
		t.Errorf("after reset: got old %q and new %q, want key_invalid and valid", a, b)
	}
	code, out, _ = latchkeyCmd(t, "keys", "reset", id, "--grace-period", "1h")
	graced := onlySecret(t, out)
	if a, b := verifyCode(t, verifier, fresh), verifyCode(t, verifier, graced); code != 0 || a != "" || b != "" {
		t.Errorf("reset --grace-period 1h: exit code %d, got old %q and new %q, want both valid", code, a, b)
	}

	code, out, _ = latchkeyCmd(t, "keys", "delete", id, "--yes")
	if code != 0 || !strings.Contains(out, "deleted key "+id+` "to reset"`) {
		t.Errorf("delete: exit code %d, got %q", code, out)
	}
	if a, b := verifyCode(t, verifier, fresh), verifyCode(t, verifier, graced); a != latchkey.KeyInvalid || b != latchkey.KeyInvalid {
		t.Errorf("after delete: got %q and %q, want key_invalid", a, b)
	}
	if code, _, stderr := latchkeyCmd(t, "keys", "delete", id, "-y"); code != 2 || !strings.Contains(stderr, "not_found") {
		t.Errorf("deleting twice: got exit code %d and %q, want 2 and not_found", code, stderr)
	}
}
