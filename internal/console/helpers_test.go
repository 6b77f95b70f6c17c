package console_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/console"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
	"github.com/latchkey/latchkey/internal/sqlite"
)

const testPassword = "Tabby-Lantern-Orbit-42"

// env is the console over a real SQLite store in a temporary directory,
// with one workspace "Acme" and its owner.
type env struct {
	svc   *manage.Service
	store *sqlite.DB
	srv   *httptest.Server
	ws    string
	owner latchkey.Principal
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	store, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	svc := manage.New(manage.Config{Store: store})
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	console.New(console.Config{Service: svc, Logger: slog.New(slog.NewTextHandler(testLog{t}, nil))}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	p, err := svc.Principal(ctx, manage.Caller{User: first.Owner}, first.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &env{svc: svc, store: store, srv: srv, ws: first.Workspace.ID, owner: p}
}

// addMember adds a member with role and the test password, returning their principal.
func (e *env) addMember(t *testing.T, email string, role latchkey.Role) latchkey.Principal {
	t.Helper()
	ctx := context.Background()
	m := managetest.Join(t, e.svc, e.owner, e.ws, manage.AddMember{Email: email, Role: role}, testPassword)
	u, err := e.store.User(ctx, m.UserID)
	if err != nil {
		t.Fatal(err)
	}
	p, err := e.svc.Principal(ctx, manage.Caller{User: u}, e.ws)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// createKey creates a key as p.
func (e *env) createKey(t *testing.T, p latchkey.Principal, in manage.CreateKey) (*latchkey.Key, string) {
	t.Helper()
	k, secret, err := e.svc.CreateKey(context.Background(), p, e.ws, in)
	if err != nil {
		t.Fatalf("CreateKey(%+v): %v", in, err)
	}
	return k, secret
}

// client is a browser-like client that does not follow redirects, so
// tests see them.
func (e *env) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// login returns a client holding email's console session.
func (e *env) login(t *testing.T, email string) *http.Client {
	t.Helper()
	hc := e.client(t)
	resp := e.post(t, hc, "/login", url.Values{"email": {email}, "password": {testPassword}})
	if resp.status != http.StatusSeeOther {
		t.Fatalf("login as %s: got status %d, want 303; body %s", email, resp.status, resp.body)
	}
	if loc := resp.header.Get("Location"); strings.HasPrefix(loc, "/login/enrol") {
		e.finishEnrolment(t, hc, loc)
	}
	return hc
}

// answer is one response of the console.
type answer struct {
	status int
	header http.Header
	body   string
}

func (e *env) get(t *testing.T, hc *http.Client, path string) answer {
	t.Helper()
	resp, err := hc.Get(e.srv.URL + path)
	if err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return read(t, resp)
}

func (e *env) post(t *testing.T, hc *http.Client, path string, form url.Values) answer {
	t.Helper()
	resp, err := hc.PostForm(e.srv.URL+path, form)
	if err != nil {
		t.Fatalf("POST %s: %v", path, err)
	}
	return read(t, resp)
}

func read(t *testing.T, resp *http.Response) answer {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{status: resp.StatusCode, header: resp.Header, body: string(b)}
}

func (a answer) has(s string) bool { return strings.Contains(a.body, s) }

// testLog sends the console's log to the test's log, shown on failure.
type testLog struct{ t *testing.T }

func (l testLog) Write(b []byte) (int, error) {
	l.t.Helper()
	l.t.Log(strings.TrimSpace(string(b)))
	return len(b), nil
}
