package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/token"
)

// testServer is a latchkey server running the real wiring (NewMain) on
// 127.0.0.1:0 over SQLite in a temporary directory, with one workspace
// "Acme" whose owner can log in. It stops when the test ends.
type testServer struct {
	URL           string
	Main          *Main
	DataDir       string
	WorkspaceID   string
	OwnerID       string
	OwnerEmail    string
	OwnerPassword string

	keys atomic.Int64 // names management keys apart
}

// startServer initialises a store with `latchkey init`, as a scripted
// deployment would, then serves it until the test ends.
func startServer(t *testing.T) *testServer { return startServerWith(t, nil) }

// startServerWith is startServer with mod applied to the configuration.
func startServerWith(t *testing.T, mod func(*Config)) *testServer {
	t.Helper()
	s := initStore(t)
	m := serveDataDirWith(t, s, mod)
	s.Main, s.URL = m, m.URL()
	return s
}

// initStore runs `latchkey init` in a new data directory: one workspace
// "Acme" whose owner can log in.
func initStore(t *testing.T) *testServer {
	t.Helper()
	s := &testServer{
		DataDir:       t.TempDir(),
		OwnerEmail:    "owner@example.com",
		OwnerPassword: "Tabby-Lantern-Orbit-42",
	}
	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(s.OwnerPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := []string{"init", "--data-dir", s.DataDir, "--workspace", "Acme", "--email", s.OwnerEmail, "--password-file", pwFile, "--json"}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("latchkey init: exit code %d, stderr %q", code, errb.String())
	}
	var ids struct {
		WorkspaceID string `json:"workspace_id"`
		UserID      string `json:"user_id"`
	}
	if err := json.Unmarshal(out.Bytes(), &ids); err != nil || ids.WorkspaceID == "" {
		t.Fatalf("latchkey init --json printed %q: %v", out.String(), err)
	}
	s.WorkspaceID, s.OwnerID = ids.WorkspaceID, ids.UserID
	return s
}

// serveDataDir runs an instance on s's store until the test ends; a
// second call gives another instance with an empty cache, as a restart.
func serveDataDir(t *testing.T, s *testServer) *Main { return serveDataDirWith(t, s, nil) }

// serveDataDirWith is serveDataDir with mod applied to the configuration.
func serveDataDirWith(t *testing.T, s *testServer, mod func(*Config)) *Main {
	t.Helper()
	cfg := Config{
		DataDir: s.DataDir, Addr: "127.0.0.1:0", OwnerEmail: s.OwnerEmail, TokenPrefix: token.DefaultPrefix,
		Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard,
		FlushEvery: 50 * time.Millisecond, FoldEvery: 50 * time.Millisecond, ShutdownGrace: 5 * time.Second,
	}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMain(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatalf("NewMain: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Main.Run: %v", err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("Main.Close: %v", err)
		}
	})
	return m
}

// login returns an HTTP client holding the owner's session cookie.
func (s *testServer) login(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	in := map[string]string{"email": s.OwnerEmail, "password": s.OwnerPassword}
	var out struct {
		Pending string `json:"pending"`
	}
	status := s.call(t, hc, http.MethodPost, "/v1/auth/login", in, &out)
	if status == http.StatusAccepted && out.Pending == "enrolment" {
		// Operators must enrol a second factor before anything else.
		enrolTOTP(t, hc, s.URL)
		return hc
	}
	if status != http.StatusOK {
		t.Fatalf("login: got status %d, want 200", status)
	}
	return hc
}

// managementKey creates a management key as the owner and returns its
// secret. Without scopes it gets keys:read, keys:write and events:read.
func (s *testServer) managementKey(t *testing.T, scopes ...string) string {
	t.Helper()
	if len(scopes) == 0 {
		scopes = []string{"keys:read", "keys:write", "events:read"}
	}
	in := map[string]any{
		"name": fmt.Sprintf("ci %d", s.keys.Add(1)), "type": "management", "scopes": scopes,
	}
	var out struct {
		Secret string `json:"secret"`
	}
	path := "/v1/workspaces/" + s.WorkspaceID + "/keys"
	if status := s.call(t, s.login(t), http.MethodPost, path, in, &out); status != http.StatusCreated || out.Secret == "" {
		t.Fatalf("creating a management key: got status %d and secret %q, want 201 and a secret", status, out.Secret)
	}
	return out.Secret
}

// call sends in as JSON (unless nil) to path with hc, such as a session
// from login, decodes a 2xx answer into out (unless nil) and returns the
// status.
func (s *testServer) call(t *testing.T, hc *http.Client, method, path string, in, out any) int {
	t.Helper()
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			t.Fatal(err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, s.URL+path, body)
	if err != nil {
		t.Fatal(err)
	}
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := hc.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading the answer: %v", method, path, err)
	}
	if out != nil && resp.StatusCode < 300 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decoding %q: %v", method, path, strings.TrimSpace(string(b)), err)
		}
	}
	return resp.StatusCode
}
