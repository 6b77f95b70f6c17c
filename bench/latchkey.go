package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"
)

const (
	ownerEmail    = "bench@example.com"
	ownerPassword = "Bench-Harness-Password-1"
	benchScope    = "items:read"
)

// store is a latchkey store prepared by `latchkey init`: a SQLite data
// directory, or a PostgreSQL database when dbURL is set.
type store struct {
	dataDir     string
	dbURL       string
	WorkspaceID string
	UserID      string
}

// initStore runs `latchkey init` as a scripted deployment would.
func initStore(ctx context.Context, bin, work, name, dbURL string) (*store, error) {
	s := &store{dataDir: filepath.Join(work, name), dbURL: dbURL}
	pw := filepath.Join(work, "owner-password")
	if err := os.WriteFile(pw, []byte(ownerPassword+"\n"), 0o600); err != nil {
		return nil, err
	}
	args := append([]string{"init", "--workspace", "Bench", "--email", ownerEmail, "--password-file", pw, "--json"}, s.flags()...)
	out, err := exec.CommandContext(ctx, bin, args...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			err = fmt.Errorf("%v: %s", err, ee.Stderr)
		}
		return nil, fmt.Errorf("latchkey init: %w", err)
	}
	var ids struct {
		WorkspaceID string `json:"workspace_id"`
		UserID      string `json:"user_id"`
	}
	if err := json.Unmarshal(out, &ids); err != nil || ids.WorkspaceID == "" {
		return nil, fmt.Errorf("latchkey init --json printed %q: %v", out, err)
	}
	s.WorkspaceID, s.UserID = ids.WorkspaceID, ids.UserID
	return s, nil
}

// flags select the store on a latchkey command line.
func (s *store) flags() []string {
	if s.dbURL != "" {
		return []string{"--database-url", s.dbURL}
	}
	return []string{"--data-dir", s.dataDir}
}

// dbPath is the SQLite file of the store.
func (s *store) dbPath() string { return filepath.Join(s.dataDir, "latchkey.db") }

// serve starts `latchkey serve` on the store with extra flags.
func (s *store) serve(ctx context.Context, bin, work, name string, extra ...string) (*child, error) {
	args := append([]string{"serve", "--addr", "127.0.0.1:0", "--owner-email", ownerEmail}, s.flags()...)
	return start(ctx, work, name, bin, "/readyz", append(args, extra...)...)
}

// session is the owner logged in to one latchkey server.
type session struct {
	base string
	hc   *http.Client
	ws   string
}

func login(base, workspaceID string) (*session, error) {
	jar, err := cookiejar.New(nil)
	if err != nil {
		return nil, err
	}
	s := &session{base: base, ws: workspaceID, hc: &http.Client{Jar: jar, Timeout: 30 * time.Second}}
	if _, err := s.call("POST", "/v1/auth/login", map[string]string{"email": ownerEmail, "password": ownerPassword}, 200, nil); err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	return s, nil
}

// createKey creates a workspace-owned public_api key with benchScope and
// returns its id and secret.
func (s *session) createKey(name string) (id, secret string, err error) {
	return s.createKeyWith(name, nil)
}

// createKeyWith is createKey with more fields in the creation request
// (credits, ratelimits).
func (s *session) createKeyWith(name string, extra map[string]any) (id, secret string, err error) {
	var out struct {
		Key struct {
			ID string `json:"id"`
		} `json:"key"`
		Secret string `json:"secret"`
	}
	in := map[string]any{"name": name, "type": "public_api", "scopes": []string{benchScope}}
	for k, v := range extra {
		in[k] = v
	}
	if _, err := s.call("POST", "/v1/workspaces/"+s.ws+"/keys", in, 201, &out); err != nil {
		return "", "", fmt.Errorf("creating a key: %w", err)
	}
	if out.Secret == "" || out.Key.ID == "" {
		return "", "", fmt.Errorf("creating a key: no id or secret in the answer")
	}
	return out.Key.ID, out.Secret, nil
}

// revokeKey revokes a key through the management API.
func (s *session) revokeKey(id string) error {
	_, err := s.call("POST", "/v1/workspaces/"+s.ws+"/keys/"+id+"/revoke", map[string]any{}, 200, nil)
	return err
}

// call sends in as JSON, checks the status and decodes the answer into out.
func (s *session) call(method, path string, in any, want int, out any) ([]byte, error) {
	b, err := json.Marshal(in)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequest(method, s.base+path, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := s.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != want {
		return body, fmt.Errorf("%s %s: got status %d, want %d: %s", method, path, resp.StatusCode, want, bytes.TrimSpace(body))
	}
	if out != nil {
		return body, json.Unmarshal(body, out)
	}
	return body, nil
}

// supportsPostgres reports whether this latchkey build takes
// --database-url on serve and init (the PostgreSQL store).
func supportsPostgres(ctx context.Context, bin string) bool {
	for _, sub := range []string{"serve", "init"} {
		out, _ := exec.CommandContext(ctx, bin, sub, "--help").CombinedOutput()
		if !strings.Contains(string(out), "--database-url") {
			return false
		}
	}
	return true
}
