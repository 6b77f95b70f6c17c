package main

import (
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

// tcpProxy forwards TCP connections to a target, and can be frozen (bytes
// are held, new connections wait: a silent network partition) or closed
// (connections refused, as when the database is down), then resumed.
type tcpProxy struct {
	target string
	addr   string

	mu     sync.Mutex
	ln     net.Listener
	frozen bool
	thaw   chan struct{} // closed when the current freeze ends
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func startTCPProxy(t *testing.T, target string) *tcpProxy {
	t.Helper()
	p := &tcpProxy{target: target, conns: map[net.Conn]struct{}{}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p.addr = ln.Addr().String()
	p.serve(ln)
	t.Cleanup(func() {
		p.refuse()
		p.resume()
		p.refuse()
		p.wg.Wait()
	})
	return p
}

func (p *tcpProxy) serve(ln net.Listener) {
	p.mu.Lock()
	p.ln = ln
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() { defer p.wg.Done(); p.handle(c) }()
		}
	}()
}

// track registers c so refuse can cut it; false when the proxy is closed.
func (p *tcpProxy) track(c net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln == nil {
		return false
	}
	p.conns[c] = struct{}{}
	return true
}

func (p *tcpProxy) handle(client net.Conn) {
	defer client.Close()
	if !p.track(client) {
		return
	}
	p.wait()
	server, err := net.Dial("tcp", p.target)
	if err != nil {
		return
	}
	defer server.Close()
	if !p.track(server) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { p.pipe(server, client); done <- struct{}{} }()
	go func() { p.pipe(client, server); done <- struct{}{} }()
	<-done
	client.Close()
	server.Close()
	<-done
}

// pipe copies src to dst, holding every chunk while the proxy is frozen.
func (p *tcpProxy) pipe(dst, src net.Conn) {
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.wait()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func (p *tcpProxy) wait() {
	p.mu.Lock()
	ch, frozen := p.thaw, p.frozen
	p.mu.Unlock()
	if frozen {
		<-ch
	}
}

func (p *tcpProxy) freeze() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.frozen {
		p.frozen, p.thaw = true, make(chan struct{})
	}
}

func (p *tcpProxy) resume() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.frozen {
		p.frozen = false
		close(p.thaw)
	}
}

// refuse closes the listener and every connection: the database is gone.
func (p *tcpProxy) refuse() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
}

// reopen listens on the same address again after refuse.
func (p *tcpProxy) reopen(t *testing.T) {
	t.Helper()
	var ln net.Listener
	var err error
	for range 50 {
		if ln, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(ln)
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("listening again on %s: %v", p.addr, err)
}

// viaProxy rewrites a PostgreSQL URL to go through the proxy; the rest of
// the URL (database, user, sslmode) stays.
func (p *tcpProxy) viaProxy(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil || u.Host == "" {
		t.Skipf("the outage tests need a postgres:// URL with a host, got another form")
	}
	u.Host = p.addr
	return u.String()
}

func pgHost(t *testing.T, dbURL string) string {
	t.Helper()
	u, err := url.Parse(dbURL)
	if err != nil || u.Host == "" {
		t.Skipf("the outage tests need a postgres:// URL with a host")
	}
	if !strings.Contains(u.Host, ":") {
		return u.Host + ":5432"
	}
	return u.Host
}

// timed sends a request and reports how long the answer took.
func timed(t *testing.T, hc *http.Client, method, url string, body any, headers ...string) (exchange, time.Duration) {
	t.Helper()
	start := time.Now()
	got := send(t, hc, method, url, body, headers...)
	return got, time.Since(start)
}

// eventually polls f until it reports true, failing past limit.
func eventually(t *testing.T, what string, limit time.Duration, f func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !f() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %v", what, limit)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// metricValue reads one unlabelled sample from /metrics.
func scrapeMetric(t *testing.T, base, name string) string {
	t.Helper()
	return metricValue(string(send(t, http.DefaultClient, "GET", base+"/metrics", nil).raw), name)
}

// Deadlines of the outage tests: short, so the suite stays quick, and the
// margin covers a loaded two-core machine.
const (
	outageStoreTimeout  = 2 * time.Second
	outageVerifyTimeout = 500 * time.Millisecond
	outageMargin        = 750 * time.Millisecond
)

// startBehindProxy starts an instance whose store connection runs through
// a proxy the test controls.
func startBehindProxy(t *testing.T, c *pgCluster, fc FailureConfig) (*Main, *tcpProxy) {
	t.Helper()
	proxy := startTCPProxy(t, pgHost(t, c.url))
	viaProxy := proxy.viaProxy(t, c.url)
	m := c.start(t, func(cfg *Config) { cfg.DatabaseURL, cfg.Failures = viaProxy, fc })
	// Runs before the instance's own cleanup: a test that fails mid-freeze
	// must not leave the shutdown waiting on a frozen connection.
	t.Cleanup(proxy.resume)
	return m, proxy
}

// TestFrozenDatabaseAnswers503WithinDeadline is the silent partition: the
// proxy between latchkey and PostgreSQL stops forwarding. Verify and the
// management API must answer 503 unavailable within their deadlines
// rather than wait for the freeze, and work again when it ends.
func TestFrozenDatabaseAnswers503WithinDeadline(t *testing.T) {
	c := startCluster(t, 0, nil)
	m, proxy := startBehindProxy(t, c, FailureConfig{StoreTimeout: outageStoreTimeout, VerifyStoreTimeout: outageVerifyTimeout})
	hc := c.login(t, m)
	_, secret := c.createKey(t, hc, m)
	if code := verifyOn(t, m, secret); code != "" {
		t.Fatalf("verify before the freeze: got %q, want valid", code)
	}
	list := m.URL() + "/v1/workspaces/" + c.ws + "/keys"

	proxy.freeze()
	time.Sleep(cacheMaxAge + 100*time.Millisecond) // the cached entry is due for a store read
	for _, tc := range []struct {
		name   string
		do     func() (exchange, time.Duration)
		budget time.Duration
	}{
		{"GET /v1/verify", func() (exchange, time.Duration) {
			return timed(t, http.DefaultClient, "GET", m.URL()+"/v1/verify", nil, "X-API-Key: "+secret)
		}, outageVerifyTimeout},
		{"POST /v1/keys/verify", func() (exchange, time.Duration) {
			return timed(t, http.DefaultClient, "POST", m.URL()+"/v1/keys/verify", map[string]string{"key": secret})
		}, outageVerifyTimeout},
		{"GET keys (session)", func() (exchange, time.Duration) { return timed(t, hc, "GET", list, nil) }, outageStoreTimeout},
		{"POST keys (session)", func() (exchange, time.Duration) {
			return timed(t, hc, "POST", list, map[string]any{"name": "during the freeze"})
		}, outageStoreTimeout},
	} {
		got, took := tc.do()
		expect(t, tc.name+" during the freeze", got, http.StatusServiceUnavailable, "unavailable")
		if took > tc.budget+outageMargin {
			t.Errorf("%s took %v during the freeze, want at most %v + %v", tc.name, took, tc.budget, outageMargin)
		}
		if got.header.Get("X-Latchkey-Stale") != "" {
			t.Errorf("%s: X-Latchkey-Stale set without --serve-stale-on-outage", tc.name)
		}
	}
	if got := send(t, http.DefaultClient, "GET", m.URL()+"/readyz", nil); got.status != http.StatusServiceUnavailable {
		t.Errorf("/readyz during the freeze: got %d, want 503", got.status)
	}

	proxy.resume()
	eventually(t, "verify works again after the freeze", 15*time.Second, func() bool { return verifyOn(t, m, secret) == "" })
	eventually(t, "the management API works again after the freeze", 15*time.Second, func() bool {
		return send(t, hc, "GET", list, nil).status == http.StatusOK
	})
}

// TestServeStaleOnOutage cuts an instance off PostgreSQL (frozen, then
// refusing connections) with --serve-stale-on-outage: keys it verified
// just before are still accepted, marked stale; a key it never verified
// gets 503; a revocation made meanwhile through another instance is
// honoured by the cut-off one at most the stale duration after it lost
// the store, and at once when the store is back.
func TestServeStaleOnOutage(t *testing.T) {
	const stale = 4 * time.Second
	for _, mode := range []string{"frozen", "refused"} {
		t.Run(mode, func(t *testing.T) {
			c := startCluster(t, 1, nil)
			direct := c.mains[0]
			m, proxy := startBehindProxy(t, c, FailureConfig{StoreTimeout: outageStoreTimeout,
				VerifyStoreTimeout: outageVerifyTimeout, ServeStaleOnOutage: stale})
			hc := c.login(t, direct)
			idA, secretA := c.createKey(t, hc, direct)
			_, secretB := c.createKey(t, hc, direct)
			if code := verifyOn(t, m, secretA); code != "" {
				t.Fatalf("verify before the outage: got %q, want valid", code)
			}
			lastRead := time.Now()
			if mode == "frozen" {
				proxy.freeze()
			} else {
				proxy.refuse()
			}
			time.Sleep(cacheMaxAge + 100*time.Millisecond)

			got, took := timed(t, http.DefaultClient, "GET", m.URL()+"/v1/verify", nil, "X-API-Key: "+secretA)
			if got.status != http.StatusOK || got.header.Get("X-Latchkey-Stale") != "1" {
				t.Fatalf("GET verify of a recently verified key during the outage: got %d stale=%q (%s), want 200 stale=1",
					got.status, got.header.Get("X-Latchkey-Stale"), got.raw)
			}
			if took > outageVerifyTimeout+outageMargin {
				t.Errorf("stale answer took %v, want at most %v + %v", took, outageVerifyTimeout, outageMargin)
			}
			got = send(t, http.DefaultClient, "POST", m.URL()+"/v1/keys/verify", map[string]string{"key": secretA})
			if got.status != http.StatusOK || got.body["stale"] != true || got.body["valid"] != true || got.header.Get("X-Latchkey-Stale") != "1" {
				t.Errorf("POST verify during the outage: got %d %s stale header %q, want 200 with \"stale\": true",
					got.status, got.raw, got.header.Get("X-Latchkey-Stale"))
			}
			// A key this instance never read is not vouched for.
			got = send(t, http.DefaultClient, "GET", m.URL()+"/v1/verify", nil, "X-API-Key: "+secretB)
			expect(t, "a key never verified here, during the outage", got, http.StatusServiceUnavailable, "unavailable")
			if got.header.Get("X-Latchkey-Stale") != "" {
				t.Errorf("a refused key is marked stale")
			}
			// Nor a scope the key never had: the checks still run on the
			// stale answer.
			got = send(t, http.DefaultClient, "GET", m.URL()+"/v1/verify?scope=admin:everything", nil, "X-API-Key: "+secretA)
			expect(t, "a stale key asked for a scope it lacks", got, http.StatusForbidden, "insufficient_scope")
			if v := scrapeMetric(t, m.URL(), "latchkey_verify_stale_total"); v == "" || v == "0" {
				t.Errorf("latchkey_verify_stale_total = %q, want > 0", v)
			}

			// Revoked in the store through the instance that reaches it.
			if got := send(t, hc, "POST", direct.URL()+"/v1/workspaces/"+c.ws+"/keys/"+idA+"/revoke", nil); got.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", got.status, got.raw)
			}
			if code := verifyOn(t, direct, secretA); code != "key_revoked" {
				t.Errorf("the connected instance after the revocation: got %q, want key_revoked", code)
			}
			// The cut-off instance cannot know; it stops vouching once the
			// last store answer is older than the stale bound.
			for {
				got := send(t, http.DefaultClient, "GET", m.URL()+"/v1/verify", nil, "X-API-Key: "+secretA)
				if got.status == http.StatusServiceUnavailable {
					if since := time.Since(lastRead); since < stale-outageMargin {
						t.Errorf("stale answers stopped %v after the last store read, before the %v bound", since, stale)
					}
					break
				}
				if got.status != http.StatusOK || got.header.Get("X-Latchkey-Stale") != "1" {
					t.Fatalf("during the outage: got %d %s, want a stale 200 or 503", got.status, got.raw)
				}
				if since := time.Since(lastRead); since > stale+outageVerifyTimeout+outageMargin {
					t.Fatalf("still accepted %v after the last store read, bound %v", since, stale)
				}
				time.Sleep(100 * time.Millisecond)
			}

			if mode == "frozen" {
				proxy.resume()
			} else {
				proxy.reopen(t)
			}
			eventually(t, "the revocation is honoured once the store is back", 15*time.Second, func() bool {
				return verifyOn(t, m, secretA) == "key_revoked"
			})
			eventually(t, "a live key verifies (not stale) once the store is back", 15*time.Second, func() bool {
				got := send(t, http.DefaultClient, "GET", m.URL()+"/v1/verify", nil, "X-API-Key: "+secretB)
				return got.status == http.StatusOK && got.header.Get("X-Latchkey-Stale") == ""
			})
		})
	}
}
