package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/postgres"
	"github.com/latchkey/latchkey/internal/postgres/pgtest"
)

// pgCluster is several latchkey instances on one PostgreSQL database, as
// behind a load balancer.
type pgCluster struct {
	db        *pgtest.Database
	url       string
	ws        string
	email, pw string
	mains     []*Main
	stops     []func()
	// keyring is the master keyring file every instance shares.
	keyring string
}

func startCluster(t *testing.T, n int, cfg func(*Config)) *pgCluster {
	t.Helper()
	c := &pgCluster{db: pgtest.New(t), email: "owner@example.com", pw: "cluster owner password"}
	c.url = c.db.URL(nil)
	c.keyring = filepath.Join(t.TempDir(), "master.key")
	pwFile := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pwFile, []byte(c.pw), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"init", "--database-url", c.url, "--workspace", "Acme", "--email", c.email, "--password-file", pwFile, "--json"}, &out, &errb); code != 0 {
		t.Fatalf("init: exit %d: %s", code, errb.String())
	}
	var ids struct {
		WorkspaceID string `json:"workspace_id"`
	}
	if err := json.Unmarshal(out.Bytes(), &ids); err != nil {
		t.Fatal(err)
	}
	c.ws = ids.WorkspaceID
	for range n {
		c.start(t, cfg)
	}
	return c
}

func (c *pgCluster) start(t *testing.T, mod func(*Config)) *Main {
	t.Helper()
	cfg := Config{DatabaseURL: c.url, Addr: "127.0.0.1:0", TokenPrefix: "lk", Logger: slog.New(slog.DiscardHandler),
		Stdout: io.Discard, FlushEvery: 50 * time.Millisecond, SignIn: SignInConfig{MasterKeyFile: c.keyring}}
	if mod != nil {
		mod(&cfg)
	}
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMain(ctx, cfg)
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	stop := sync.OnceFunc(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		m.Close()
	})
	t.Cleanup(stop)
	c.mains = append(c.mains, m)
	c.stops = append(c.stops, stop)
	return m
}

// stopAll shuts every instance down as SIGTERM does (draining, flushing,
// settling leases) and waits for them.
func (c *pgCluster) stopAll() {
	for _, stop := range c.stops {
		stop()
	}
	c.mains, c.stops = nil, nil
}

func (c *pgCluster) login(t *testing.T, m *Main) *http.Client {
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, Timeout: 10 * time.Second}
	if got := send(t, hc, "POST", m.URL()+"/v1/auth/login", map[string]string{"email": c.email, "password": c.pw}); got.status != 200 {
		t.Fatalf("login: %d %s", got.status, got.raw)
	}
	return hc
}

// verifyOn answers the verify code of secret on one instance ("" = valid).
func verifyOn(t *testing.T, m *Main, secret string) string {
	got := send(t, http.DefaultClient, "GET", m.URL()+"/v1/verify", nil, "X-API-Key: "+secret)
	if got.status == 200 {
		return ""
	}
	return got.errCode()
}

// waitRejected polls instances until they all reject secret with code and
// returns how long that took; it fails the test past limit.
func waitRejected(t *testing.T, ms []*Main, secret, code string, limit time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for _, m := range ms {
		for {
			got := verifyOn(t, m, secret)
			if got == code {
				break
			}
			if got != "" {
				t.Fatalf("%s answers %q, want %q", m.URL(), got, code)
			}
			if time.Since(start) > limit {
				t.Fatalf("%s still accepts the key %v after the change", m.URL(), limit)
			}
			time.Sleep(2 * time.Millisecond)
		}
	}
	return time.Since(start)
}

func (c *pgCluster) createKey(t *testing.T, hc *http.Client, m *Main) (id, secret string) {
	got := send(t, hc, "POST", m.URL()+"/v1/workspaces/"+c.ws+"/keys", map[string]any{"name": "shared"})
	if got.status != 201 {
		t.Fatalf("create: %d %s", got.status, got.raw)
	}
	return got.body["key"].(map[string]any)["id"].(string), got.body["secret"].(string)
}

// TestRevocationReachesEveryInstance revokes through one instance and sees
// the others refuse the key, through LISTEN/NOTIFY, well within a second.
func TestRevocationReachesEveryInstance(t *testing.T) {
	c := startCluster(t, 3, nil)
	a, others := c.mains[0], c.mains[1:]
	hc := c.login(t, a)
	for i := range 5 {
		id, secret := c.createKey(t, hc, a)
		for _, m := range c.mains {
			if got := verifyOn(t, m, secret); got != "" {
				t.Fatalf("round %d: a fresh key answers %q on %s", i, got, m.URL())
			}
		}
		if got := send(t, hc, "POST", a.URL()+"/v1/workspaces/"+c.ws+"/keys/"+id+"/revoke", nil); got.status != 200 {
			t.Fatalf("revoke: %d %s", got.status, got.raw)
		}
		if got := verifyOn(t, a, secret); got != "key_revoked" {
			t.Fatalf("the instance that revoked answers %q at once, want key_revoked", got)
		}
		d := waitRejected(t, others, secret, "key_revoked", time.Second)
		t.Logf("round %d: every instance refused the key %v after the revoke returned", i, d)
	}
}

// TestLostListenConnection cuts every instance's LISTEN connection right
// before a revocation: no instance may accept the key a second later.
func TestLostListenConnection(t *testing.T) {
	c := startCluster(t, 2, nil)
	a, b := c.mains[0], c.mains[1]
	hc := c.login(t, a)
	for i := range 3 {
		id, secret := c.createKey(t, hc, a)
		if got := verifyOn(t, b, secret); got != "" {
			t.Fatalf("warm-up on b: %q", got)
		}
		// Wait for both listeners (back from the previous round), then cut them.
		deadline := time.Now().Add(10 * time.Second)
		for {
			var n int
			if err := c.db.Admin.QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
				WHERE datname = $1 AND application_name = 'latchkey listen'`, c.db.Name).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n == 2 {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d listeners, want 2", n)
			}
			time.Sleep(10 * time.Millisecond)
		}
		var n int
		if err := c.db.Admin.QueryRow(context.Background(), `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
			WHERE datname = $1 AND application_name = 'latchkey listen'`, c.db.Name).Scan(&n); err != nil || n != 2 {
			t.Fatalf("terminating the listeners: %d, %v", n, err)
		}
		if got := send(t, hc, "POST", a.URL()+"/v1/workspaces/"+c.ws+"/keys/"+id+"/revoke", nil); got.status != 200 {
			t.Fatalf("revoke: %d %s", got.status, got.raw)
		}
		d := waitRejected(t, []*Main{b}, secret, "key_revoked", time.Second)
		t.Logf("round %d: with the listener cut, b refused the key after %v", i, d)
	}
}

// TestShutdownFlushesUsage stops an instance whose flush interval has not
// come: SIGTERM's path must write its counts before exiting.
func TestShutdownFlushesUsage(t *testing.T) {
	c := startCluster(t, 0, nil)
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMain(ctx, Config{DatabaseURL: c.url, Addr: "127.0.0.1:0", TokenPrefix: "lk", Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard, FlushEvery: time.Hour, SignIn: SignInConfig{MasterKeyFile: c.keyring}})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	hc := c.login(t, m)
	id, secret := c.createKey(t, hc, m)
	for range 7 {
		verifyOn(t, m, secret)
	}
	send(t, http.DefaultClient, "GET", m.URL()+"/v1/verify?scope=users:read", nil, "X-API-Key: "+secret)
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	m.Close()

	db, err := postgres.Open(context.Background(), c.url)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	now := time.Now().UTC()
	days, err := db.Usage(context.Background(), c.ws, id, now.Add(-24*time.Hour), now.Add(24*time.Hour))
	if err != nil || len(days) != 1 || days[0].Valid != 7 || days[0].Denied != 1 {
		t.Fatalf("usage after shutdown = %+v, %v; want 7 valid and 1 denied", days, err)
	}
	k, err := db.Key(context.Background(), c.ws, id)
	if err != nil || k.LastUsedAt == nil {
		t.Fatalf("last_used_at after shutdown = %v, %v", k, err)
	}
}
