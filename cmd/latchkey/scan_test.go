package main

import (
	"bytes"
	"crypto/rand"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/token"
)

// plant writes files under dir (paths relative, "/" separated).
func plant(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
}

func newToken(t *testing.T, env latchkey.Environment) string {
	t.Helper()
	f, _ := token.NewFormat(token.DefaultPrefix)
	tok, _, err := f.New(rand.Reader, env)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

func TestScanFindsPlantedTokensNotLookAlikes(t *testing.T) {
	dir := t.TempDir()
	a, b, c, gitOnly := newToken(t, latchkey.Production), newToken(t, latchkey.Demo), newToken(t, latchkey.Production), newToken(t, latchkey.Production)
	// c sits across the 64 KiB read buffer of a long line.
	long := strings.Repeat("x", 64<<10-20) + " " + c + " tail"
	plant(t, dir, map[string]string{
		"config/prod.env":    "# settings\nAPI_KEY=" + a + "\nOTHER=1\n",
		"src/app.go":         "package app\n\n// example: lk_prod_" + strings.Repeat("0", 38) + "\nconst k = \"" + lookAlike(a) + "\"\nvar demo = `" + b + "`\n",
		"src/min.js":         long,
		"docs/README.md":     "Keys look like lk_prod_Ab3dEf... (" + a[:20] + ")\n",
		".git/objects/ab/cd": gitOnly + "\n",
		"bin/blob":           "\x00\x01\x02" + strings.Repeat("\xff", 100) + "\n",
		"nested/deep/x.yaml": "token: mk_prod_" + a[8:] + "\n",
	})
	var out, errb bytes.Buffer
	code := run([]string{"scan", dir}, &out, &errb)
	if code != 1 {
		t.Fatalf("exit code: got %d, want 1 (stderr %q)", code, errb.String())
	}
	want := []string{
		filepath.Join(dir, "config", "prod.env") + ":2: " + a[:12] + "…",
		filepath.Join(dir, "src", "app.go") + ":5: " + b[:12] + "…",
		filepath.Join(dir, "src", "min.js") + ":1: " + c[:12] + "…",
	}
	got := strings.Split(strings.TrimSpace(out.String()), "\n")
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("output:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	for _, tok := range []string{a, b, c, gitOnly} {
		if strings.Contains(out.String()+errb.String(), tok[12:]) {
			t.Fatalf("the output shows more of a token than its start")
		}
	}
	if !strings.Contains(errb.String(), "3 latchkey tokens found") {
		t.Errorf("stderr: got %q, want the count", errb.String())
	}

	// One file given directly; the same answer for it.
	out.Reset()
	if code := run([]string{"scan", filepath.Join(dir, "config", "prod.env")}, &out, &errb); code != 1 || strings.Count(out.String(), "\n") != 1 {
		t.Fatalf("one file: exit %d, output %q", code, out.String())
	}
}

func TestScanCleanAndUsage(t *testing.T) {
	dir := t.TempDir()
	a := newToken(t, latchkey.Production)
	plant(t, dir, map[string]string{"a.txt": "nothing here\n" + lookAlike(a) + "\n", "b/c.txt": "lk_demo_short\n"})
	for _, c := range []struct {
		name string
		args []string
		env  map[string]string
		code int
		err  string
	}{
		{"clean tree", []string{"scan", dir}, nil, 0, ""},
		{"no paths", []string{"scan"}, nil, 2, "name the files"},
		{"missing path", []string{"scan", filepath.Join(dir, "nope")}, nil, 2, "cannot scan"},
		{"bad prefix", []string{"scan", "--token-prefix", "UPPER", dir}, nil, 2, "prefix"},
		{"report without key", []string{"scan", "--report", "http://127.0.0.1:1", dir}, map[string]string{"LATCHKEY_KEY": ""}, 2, "LATCHKEY_KEY"},
		{"report to a non-URL", []string{"scan", "--report", "ftp://x", dir}, nil, 2, "not a server URL"},
		{"unknown flag", []string{"scan", "--nope", dir}, nil, 2, "unknown flag"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for k, v := range c.env {
				t.Setenv(k, v)
			}
			var out, errb bytes.Buffer
			if code := run(c.args, &out, &errb); code != c.code || !strings.Contains(errb.String(), c.err) {
				t.Fatalf("got exit %d, stderr %q; want %d and %q", code, errb.String(), c.code, c.err)
			}
			if c.code == 0 && out.Len() != 0 {
				t.Fatalf("a clean tree printed %q", out.String())
			}
		})
	}
}

// TestScanReportRevokes: a company's scanner finds a key in a tree and
// reports it with a leaks:report key; the server revokes it.
func TestScanReportRevokes(t *testing.T) {
	s := startServer(t)
	owner := s.login(t)
	wsURL := s.URL + "/v1/workspaces/" + s.WorkspaceID
	_, secret := acctCreateKey(t, owner, wsURL, map[string]any{"name": "deploy"})
	scanner := s.managementKey(t, "leaks:report")
	dir := t.TempDir()
	plant(t, dir, map[string]string{"deploy.sh": "curl -H 'X-API-Key: " + secret + "' https://api.example.com\n"})
	keyFile := filepath.Join(t.TempDir(), "key")
	os.WriteFile(keyFile, []byte(scanner+"\n"), 0o600)
	t.Setenv("LATCHKEY_KEY", "")
	var out, errb bytes.Buffer
	code := run([]string{"scan", "--report", s.URL, "--key-file", keyFile, dir}, &out, &errb)
	if code != 1 || !strings.Contains(out.String(), "1 are keys of the workspace") {
		t.Fatalf("scan --report: exit %d, stdout %q, stderr %q", code, out.String(), errb.String())
	}
	if status, c := acctVerify(t, s.URL, secret); status != 401 || c != "key_revoked" {
		t.Fatalf("the reported key: got %d %s, want revoked", status, c)
	}
	// A key without leaks:report: the server refuses, exit 2, nothing sent twice.
	reader := s.managementKey(t, "keys:read")
	t.Setenv("LATCHKEY_KEY", reader)
	out.Reset()
	errb.Reset()
	if code := run([]string{"scan", "--report", s.URL, dir}, &out, &errb); code != 2 || !strings.Contains(errb.String(), "403") {
		t.Fatalf("without the scope: exit %d, stderr %q", code, errb.String())
	}
	if strings.Contains(errb.String(), reader) || strings.Contains(errb.String(), secret) {
		t.Fatal("stderr shows a secret")
	}
}
