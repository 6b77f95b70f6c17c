package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/password"
	"github.com/latchkey/latchkey/internal/token"
)

var printedPassword = regexp.MustCompile(`password:\s+(\S+)\s+\(shown once`)

// startBare runs the real wiring on dataDir with an empty or existing store
// and returns it with what it printed; stop ends it.
func startBare(t *testing.T, dataDir, addr string) (m *Main, printed string, stop func(), err error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var out bytes.Buffer
	m, err = NewMain(ctx, Config{
		DataDir: dataDir, Addr: addr, OwnerEmail: "admin@localhost", TokenPrefix: token.DefaultPrefix,
		Logger: slog.New(slog.DiscardHandler), Stdout: &out, ShutdownGrace: 5 * time.Second,
	})
	if err != nil {
		cancel()
		return nil, out.String(), func() {}, err
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	return m, out.String(), func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Main.Run: %v", err)
		}
		_ = m.Close()
	}, nil
}

func loginStatus(t *testing.T, base, email, pw string) int {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"email": email, "password": pw})
	resp, err := http.Post(base+"/v1/auth/login", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestFirstStartOnBusyPortDoesNotLockTheOwnerOut: a first start that cannot
// bind creates no owner, so the next start on a free port creates it and
// prints its password; a later start, while the owner has never logged in,
// prints the recovery command, which works.
func TestFirstStartOnBusyPortDoesNotLockTheOwnerOut(t *testing.T) {
	dir := t.TempDir()
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	_, printed, _, err := startBare(t, dir, busy.Addr().String())
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("first start on a busy port: got error %v, want address already in use", err)
	}
	if strings.Contains(printed, "password") {
		t.Fatalf("the failed start printed %q: no owner should exist yet", printed)
	}

	m, printed, stop, err := startBare(t, dir, "127.0.0.1:0")
	if err != nil {
		t.Fatalf("second start: %v", err)
	}
	match := printedPassword.FindStringSubmatch(printed)
	if match == nil {
		t.Fatalf("second start printed %q: want the owner's one-time password", printed)
	}
	first := match[1]
	// The printed password is the owner's (checked against the store: a
	// login would count as the owner having logged in).
	u, err := m.store.UserByEmail(context.Background(), "admin@localhost")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := password.Verify(context.Background(), first, u.PasswordHash); !ok || err != nil {
		t.Fatalf("the printed password is not the owner's: %v", err)
	}
	stop()

	// The password was lost: the next start says how to get in.
	m, printed, stop, err = startBare(t, dir, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if printedPassword.MatchString(printed) {
		t.Fatalf("a restart printed a new password: %q", printed)
	}
	want := "latchkey owner reset-password --email admin@localhost --data-dir " + dir
	if !strings.Contains(printed, want) {
		t.Fatalf("restart while the owner never logged in printed %q, want it to contain %q", printed, want)
	}
	// The host's administrator runs it while the server serves.
	var out, errb bytes.Buffer
	if code := run([]string{"owner", "reset-password", "--email", "admin@localhost", "--data-dir", dir}, &out, &errb); code != 0 {
		t.Fatalf("reset-password: exit %d, stderr %q", code, errb.String())
	}
	match = printedPassword.FindStringSubmatch(out.String())
	if match == nil {
		t.Fatalf("reset-password printed %q, want a generated password", out.String())
	}
	if got := loginStatus(t, m.URL(), "admin@localhost", first); got != http.StatusUnauthorized {
		t.Errorf("login with the replaced one-time password: got %d, want 401", got)
	}
	if got := loginStatus(t, m.URL(), "admin@localhost", match[1]); got != http.StatusOK {
		t.Fatalf("login with the reset password: got %d, want 200", got)
	}
	stop()

	// Once the owner has logged in, a start prints neither.
	_, printed, stop, err = startBare(t, dir, "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	if strings.Contains(printed, "reset-password") || printedPassword.MatchString(printed) {
		t.Errorf("a start after the owner logged in printed %q, want only the address", printed)
	}
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestResetPasswordEndsTheOldPasswordAndStolenSessions: whoever held the
// old password or a session cookie of the account is out after a reset;
// the reset is in the workspace's audit log, and the password is not.
func TestResetPasswordEndsTheOldPasswordAndStolenSessions(t *testing.T) {
	s := startServer(t)
	stolen := s.login(t)
	var me map[string]any
	if got := s.call(t, stolen, http.MethodGet, "/v1/me", nil, &me); got != http.StatusOK {
		t.Fatalf("GET /v1/me with a session: got %d, want 200", got)
	}
	newPW := "Quartz-Harbor-Meadow-77"
	var out, errb bytes.Buffer
	args := []string{"owner", "reset-password", "--email", "OWNER@example.com", "--data-dir", s.DataDir, "--password-file", writeFile(t, newPW+"\n"), "--json"}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("reset-password: exit %d, stderr %q", code, errb.String())
	}
	if strings.Contains(out.String(), newPW) {
		t.Errorf("reset-password echoed a password it was given: %q", out.String())
	}
	if got := s.call(t, stolen, http.MethodGet, "/v1/me", nil, nil); got != http.StatusUnauthorized {
		t.Errorf("GET /v1/me with a session opened before the reset: got %d, want 401", got)
	}
	if got := loginStatus(t, s.URL, s.OwnerEmail, s.OwnerPassword); got != http.StatusUnauthorized {
		t.Errorf("login with the old password: got %d, want 401", got)
	}
	s.OwnerPassword = newPW
	hc := s.login(t)
	var evs struct {
		Data []struct {
			Action string         `json:"action"`
			Target string         `json:"target"`
			Actor  map[string]any `json:"actor"`
			Data   map[string]any `json:"data"`
		} `json:"data"`
	}
	if got := s.call(t, hc, http.MethodGet, "/v1/workspaces/"+s.WorkspaceID+"/events?action=auth.password_reset", nil, &evs); got != http.StatusOK {
		t.Fatalf("events: got %d", got)
	}
	if len(evs.Data) != 1 || evs.Data[0].Target != s.OwnerID || evs.Data[0].Actor["type"] != "system" ||
		!strings.Contains(evs.Data[0].Actor["label"].(string), "host administrator") {
		t.Fatalf("audit log: got %+v, want one auth.password_reset of the owner by the host administrator", evs.Data)
	}
	raw, _ := json.Marshal(evs)
	if strings.Contains(string(raw), newPW) {
		t.Errorf("the audit log holds the password")
	}
}

// TestResetPasswordRefusals: unknown emails, unusable password files and
// a missing --email are refused with exit code 2 and change nothing.
func TestResetPasswordRefusals(t *testing.T) {
	s := startServer(t)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown email", []string{"--email", "nobody@example.com"}, "no account has the email"},
		{"not an email", []string{"--email", "not an email"}, "not an email address"},
		{"no email", nil, "needs --email"},
		{"empty password file", []string{"--email", s.OwnerEmail, "--password-file", writeFile(t, "")}, "is empty"},
		{"short password", []string{"--email", s.OwnerEmail, "--password-file", writeFile(t, "short\n")}, "12 to"},
		{"missing password file", []string{"--email", s.OwnerEmail, "--password-file", filepath.Join(t.TempDir(), "none")}, "reading"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			args := append([]string{"owner", "reset-password", "--data-dir", s.DataDir}, tc.args...)
			if code := run(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), tc.want) {
				t.Errorf("got exit %d, stderr %q; want 2 and %q", code, errb.String(), tc.want)
			}
		})
	}
	if got := loginStatus(t, s.URL, s.OwnerEmail, s.OwnerPassword); got != http.StatusOK {
		t.Errorf("the owner's password after refused resets: login got %d, want 200", got)
	}
}

// TestInitRefusesEmptyOrShortPasswordFile: `init --password-file /dev/null`
// used to initialise the store with a generated password nobody saw.
func TestInitRefusesEmptyOrShortPasswordFile(t *testing.T) {
	for name, content := range map[string]string{"empty": "", "newline only": "\n", "short": "hunter2\n", "common": "password1234\n"} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			var out, errb bytes.Buffer
			args := []string{"init", "--data-dir", dir, "--workspace", "Acme", "--email", "a@example.com", "--password-file", writeFile(t, content)}
			if code := run(args, &out, &errb); code != 2 || !strings.Contains(errb.String(), "password") {
				t.Fatalf("got exit %d, stderr %q; want 2 and a message about the password", code, errb.String())
			}
			// Nothing was initialised: a correct init still works.
			args[len(args)-1] = writeFile(t, "Tabby-Lantern-Orbit-42\n")
			if code := run(args, &out, &errb); code != 0 {
				t.Fatalf("init after a refused one: exit %d, stderr %q", code, errb.String())
			}
		})
	}
	var out, errb bytes.Buffer
	if code := run([]string{"init", "--data-dir", t.TempDir(), "--workspace", "Acme", "--email", "a@example.com", "--password-file", "/dev/null"}, &out, &errb); code != 2 {
		t.Errorf("init --password-file /dev/null: exit %d, want 2", code)
	}
}

// TestDatabaseURLFromFile: LATCHKEY_DATABASE_URL_FILE names a file holding
// the URL (a mounted secret); a missing file is a clear usage error that
// does not echo the variable's neighbours.
func TestDatabaseURLFromFile(t *testing.T) {
	t.Setenv("LATCHKEY_DATABASE_URL_FILE", filepath.Join(t.TempDir(), "missing"))
	var out, errb bytes.Buffer
	if code := run([]string{"migrate"}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "LATCHKEY_DATABASE_URL_FILE") {
		t.Errorf("a missing LATCHKEY_DATABASE_URL_FILE: exit %d, stderr %q; want 2 naming the variable", code, errb.String())
	}
	// The file's content is used: an unreachable PostgreSQL proves it was
	// read (SQLite would have succeeded).
	t.Setenv("LATCHKEY_DATABASE_URL_FILE", writeFile(t, "postgres://latchkey:s3cret@127.0.0.1:1/latchkey?connect_timeout=1\n"))
	out.Reset()
	errb.Reset()
	code := run([]string{"migrate", "--data-dir", t.TempDir()}, &out, &errb)
	if code == 0 || strings.Contains(errb.String(), "s3cret") {
		t.Errorf("migrate with the URL from a file: exit %d, stderr %q; want a failure to connect that hides the password", code, errb.String())
	}
}
