package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// childArgs, when set, makes the test binary act as the latchkey command:
// the crash test runs real server processes it can SIGKILL.
const childArgs = "LATCHKEY_TEST_CHILD_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(childArgs); args != "" {
		os.Exit(run(strings.Split(args, "\x1f"), os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// child is a latchkey server running in its own process.
type child struct {
	cmd *exec.Cmd
	url string
}

func startChild(t *testing.T, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childArgs+"="+strings.Join(args, "\x1f"))
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &child{cmd: cmd}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if u, ok := strings.CutPrefix(sc.Text(), "latchkey is listening on "); ok {
				found <- u
			}
		}
		close(found)
	}()
	select {
	case u, ok := <-found:
		if !ok {
			t.Fatalf("server exited before listening: %s", stderr.String())
		}
		c.url = u
	case <-time.After(30 * time.Second):
		t.Fatalf("server did not start: %s", stderr.String())
	}
	return c
}

func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = c.cmd.Wait()
}

// call sends a JSON request and decodes the JSON answer.
func call(t *testing.T, hc *http.Client, method, url string, body any) (int, map[string]any) {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	b, _ := io.ReadAll(resp.Body)
	if len(b) > 0 {
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("%s %s: answer is not JSON: %s", method, url, b)
		}
	}
	return resp.StatusCode, out
}

// TestCrashKeepsAcknowledgedWrites kills the server with SIGKILL right after
// a create and after a revoke were acknowledged, and finds both on restart.
func TestCrashKeepsAcknowledgedWrites(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	dir := t.TempDir()
	pwFile := filepath.Join(dir, "pw")
	const pw = "crash-test-password-1"
	if err := os.WriteFile(pwFile, []byte(pw+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	var out, errb bytes.Buffer
	if code := run([]string{"init", "--data-dir", data, "--workspace", "Acme", "--email", "owner@acme.test", "--password-file", pwFile, "--json"}, &out, &errb); code != 0 {
		t.Fatalf("init exit %d: %s", code, errb.String())
	}
	var ids struct {
		WorkspaceID string `json:"workspace_id"`
	}
	if err := json.Unmarshal(out.Bytes(), &ids); err != nil {
		t.Fatal(err)
	}
	serve := []string{"serve", "--data-dir", data, "--addr", "127.0.0.1:0"}

	login := func(c *child) *http.Client {
		jar, _ := cookiejar.New(nil)
		hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
		if st, body := call(t, hc, "POST", c.url+"/v1/auth/login", map[string]string{"email": "owner@acme.test", "password": pw}); st != 200 {
			t.Fatalf("login: %d %v", st, body)
		}
		return hc
	}
	verify := func(c *child, secret string) (int, string) {
		st, body := call(t, http.DefaultClient, "POST", c.url+"/v1/keys/verify", map[string]string{"key": secret})
		code := ""
		if e, ok := body["error"].(map[string]any); ok {
			code, _ = e["code"].(string)
		}
		return st, code
	}

	for i := range 3 {
		c := startChild(t, serve...)
		hc := login(c)
		st, body := call(t, hc, "POST", fmt.Sprintf("%s/v1/workspaces/%s/keys", c.url, ids.WorkspaceID), map[string]any{"name": fmt.Sprintf("crash %d", i), "scopes": []string{"items:read"}})
		if st != 201 {
			t.Fatalf("create: %d %v", st, body)
		}
		secret := body["secret"].(string)
		keyID := body["key"].(map[string]any)["id"].(string)
		c.kill(t)

		c = startChild(t, serve...)
		if st, code := verify(c, secret); st != 200 {
			t.Fatalf("round %d: the acknowledged key is gone after SIGKILL: %d %s", i, st, code)
		}
		hc = login(c)
		if st, body := call(t, hc, "POST", fmt.Sprintf("%s/v1/workspaces/%s/keys/%s/revoke", c.url, ids.WorkspaceID, keyID), nil); st != 200 {
			t.Fatalf("revoke: %d %v", st, body)
		}
		c.kill(t)

		c = startChild(t, serve...)
		if st, code := verify(c, secret); st != 401 || code != "key_revoked" {
			t.Fatalf("round %d: after SIGKILL the revoked key answers %d %s, want 401 key_revoked", i, st, code)
		}
		c.kill(t)
	}
}

// TestInitRefusesAnInitialisedStore: scripted setups must not create a
// second first workspace by running init twice.
func TestInitRefusesAnInitialisedStore(t *testing.T) {
	dir := t.TempDir()
	pw := filepath.Join(dir, "pw")
	if err := os.WriteFile(pw, []byte("init twice password\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	args := []string{"init", "--data-dir", filepath.Join(dir, "data"), "--workspace", "Acme", "--email", "a@example.com", "--password-file", pw}
	var out, errb bytes.Buffer
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("first init: exit %d: %s", code, errb.String())
	}
	errb.Reset()
	if code := run(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "already initialised") {
		t.Fatalf("second init: exit %d, stderr %q; want 2 and a clear message", code, errb.String())
	}
	for name, bad := range map[string][]string{
		"weak password":            {"init", "--data-dir", filepath.Join(dir, "other"), "--workspace", "Acme", "--email", "a@example.com", "--password-file", "/nonexistent"},
		"missing email":            {"init", "--data-dir", filepath.Join(dir, "other"), "--workspace", "Acme", "--password-file", pw},
		"unknown flag":             {"init", "--colour", "red"},
		"unknown command":          {"frobnicate"},
		"unknown keys subcommand":  {"keys", "lst"},
		"unknown vault subcommand": {"vault", "rotat"},
	} {
		errb.Reset()
		if code := run(bad, &out, &errb); code != 2 || errb.Len() == 0 {
			t.Errorf("%s: exit %d, stderr %q; want 2 and a message", name, code, errb.String())
		}
		if strings.Contains(name, "subcommand") && !strings.Contains(errb.String(), "Did you mean this?") {
			t.Errorf("%s: stderr %q; want a suggestion", name, errb.String())
		}
	}
}
