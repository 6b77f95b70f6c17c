package main

import (
	"encoding/json"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

// fakeTerminal is standard input that says it is a terminal, with the
// person's answers in it.
type fakeTerminal struct{ io.Reader }

func (fakeTerminal) IsTerminal() bool { return true }

func answering(s string) io.Reader { return fakeTerminal{strings.NewReader(s)} }

func TestTerminalDetection(t *testing.T) {
	if terminal(strings.NewReader("y\n")) {
		t.Error("a string reader taken for a terminal")
	}
	if !terminal(answering("")) {
		t.Error("a reader that says it is a terminal was not taken for one")
	}
	// /dev/null is a character device, like a terminal, but nobody types there.
	null, err := os.Open(os.DevNull)
	if err != nil {
		t.Skip(err)
	}
	defer null.Close()
	if terminal(null) {
		t.Error("/dev/null taken for a terminal")
	}
}

func TestKeysRevokeAndDeleteAskFirst(t *testing.T) {
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
	id, secret := newKey("kept")

	// A script without --yes: refused at once, exit 2, nothing done.
	for _, verb := range []string{"revoke", "delete"} {
		code, out, stderr := latchkeyCmd(t, "keys", verb, id)
		if code != 2 || !strings.Contains(stderr, "not a terminal") || !strings.Contains(stderr, "--yes") || out != "" {
			t.Errorf("%s without --yes and without a terminal: got exit code %d, %q, %q; want 2 and a hint to add --yes", verb, code, out, stderr)
		}
	}
	// A person who answers anything but yes: nothing done, exit 1.
	for _, answer := range []string{"n\n", "\n", "", "maybe\n", "yes please\n"} {
		for _, verb := range []string{"revoke", "delete"} {
			code, _, stderr := latchkeyInput(t, answering(answer), "keys", verb, id)
			if code != 1 || !strings.Contains(stderr, "kept") || !strings.Contains(stderr, "not confirmed") {
				t.Errorf("%s answered %q: got exit code %d and %q, want 1, the key's name in the question and not confirmed", verb, answer, code, stderr)
			}
		}
	}
	if c := verifyCode(t, verifier, secret); c != "" {
		t.Fatalf("after the refusals the key answers %q, want valid", c)
	}

	// A person who answers yes.
	code, out, stderr := latchkeyInput(t, answering("y\n"), "keys", "revoke", id)
	if code != 0 || !strings.Contains(stderr, "[y/N]") || !strings.Contains(out, "revoked key "+id) {
		t.Errorf("revoke answered y: got exit code %d, %q, %q", code, out, stderr)
	}
	if c := verifyCode(t, verifier, secret); c != latchkey.KeyRevoked {
		t.Errorf("after revoke: got %q, want key_revoked", c)
	}
	code, out, _ = latchkeyInput(t, answering("YES\n"), "keys", "delete", id)
	if code != 0 || !strings.Contains(out, "deleted key "+id) {
		t.Errorf("delete answered YES: got exit code %d, %q", code, out)
	}

	// --yes asks nothing, even on a terminal (which then is not read).
	id, secret = newKey("scripted")
	code, out, stderr = latchkeyInput(t, answering("n\n"), "keys", "revoke", id, "--yes")
	if code != 0 || strings.Contains(stderr, "[y/N]") || !strings.Contains(out, "revoked") {
		t.Errorf("revoke --yes: got exit code %d, %q, %q", code, out, stderr)
	}
	if c := verifyCode(t, verifier, secret); c != latchkey.KeyRevoked {
		t.Errorf("after revoke --yes: got %q, want key_revoked", c)
	}
	if code, _, stderr := latchkeyCmd(t, "keys", "delete", id, "--yes", "--json"); code != 0 {
		t.Errorf("delete --yes --json: exit code %d, %q", code, stderr)
	}

	// Asking for a key of another workspace or none says not found before
	// any question.
	code, _, stderr = latchkeyInput(t, answering("y\n"), "keys", "revoke", "key_01J00000000000000000000000")
	if code != 2 || !strings.Contains(stderr, "not_found") || strings.Contains(stderr, "[y/N]") {
		t.Errorf("revoke of an unknown key: got exit code %d and %q, want 2 and not_found without a question", code, stderr)
	}
}
