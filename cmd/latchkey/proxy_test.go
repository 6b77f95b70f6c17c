package main

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The forward-auth tests run Debian's nginx and Caddy, as the current
// user on 127.0.0.1, in front of a real latchkey and a real upstream, with
// the configuration files of docs/proxies changed only in their addresses.

// upstream is the product API behind the proxy: it records what reaches it.
type upstream struct {
	URL string
	mu  sync.Mutex
	got []http.Header
}

func startUpstream(t *testing.T) *upstream {
	t.Helper()
	u := &upstream{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u.mu.Lock()
		u.got = append(u.got, r.Header.Clone())
		u.mu.Unlock()
		w.Header().Set("Content-Type", "text/plain")
		fmt.Fprint(w, "upstream answered")
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	u.URL = ln.Addr().String()
	return u
}

// requests returns how many requests reached the upstream and the headers
// of the last one.
func (u *upstream) requests() (int, http.Header) {
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(u.got) == 0 {
		return 0, nil
	}
	return len(u.got), u.got[len(u.got)-1]
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// proxyBinary finds a proxy from Debian, or skips (fails under
// LATCHKEY_REQUIRE_ALL=1; .ci/run installs them).
func proxyBinary(t *testing.T, name string, paths ...string) string {
	t.Helper()
	for _, p := range paths {
		if _, err := os.Stat(p); err == nil {
			return p
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p
	}
	requireOrSkip(t, name+" is not installed: apt-get install -y "+name)
	return ""
}

// docConfig reads a file of docs/proxies and replaces addresses in it.
func docConfig(t *testing.T, name string, replace ...string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "docs", "proxies", name))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for i := 0; i < len(replace); i += 2 {
		if !strings.Contains(s, replace[i]) {
			t.Fatalf("docs/proxies/%s no longer contains %q", name, replace[i])
		}
		s = strings.ReplaceAll(s, replace[i], replace[i+1])
	}
	return s
}

// runProxy starts cmd and waits until addr accepts connections; the
// process is killed when the test ends.
func runProxy(t *testing.T, cmd *exec.Cmd, addr, logPath string) {
	t.Helper()
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); logf.Close(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(15 * time.Second)
	for {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(logPath)
			t.Fatalf("%s exited: %s", cmd.Path, b)
		default:
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logPath)
			t.Fatalf("%s does not listen on %s: %s", cmd.Path, addr, b)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func startNginx(t *testing.T, latchkeyAddr, upstreamAddr string) string {
	t.Helper()
	bin := proxyBinary(t, "nginx", "/usr/sbin/nginx")
	dir := t.TempDir()
	addr := freePort(t)
	site := docConfig(t, "nginx.conf",
		"server 127.0.0.1:8080;", "server "+latchkeyAddr+";",
		"server 127.0.0.1:9000;", "server "+upstreamAddr+";",
		"listen 80;", "listen "+addr+";")
	if err := os.WriteFile(filepath.Join(dir, "site.conf"), []byte(site), 0o600); err != nil {
		t.Fatal(err)
	}
	// One process, no user switch: it runs as whoever runs the test.
	main := fmt.Sprintf(`daemon off;
master_process off;
pid %[1]s/nginx.pid;
error_log %[1]s/error.log info;
events { worker_connections 64; }
http {
    access_log off;
    client_body_temp_path %[1]s/body;
    proxy_temp_path %[1]s/proxy;
    fastcgi_temp_path %[1]s/fastcgi;
    uwsgi_temp_path %[1]s/uwsgi;
    scgi_temp_path %[1]s/scgi;
    include %[1]s/site.conf;
}
`, dir)
	if err := os.WriteFile(filepath.Join(dir, "nginx.conf"), []byte(main), 0o600); err != nil {
		t.Fatal(err)
	}
	runProxy(t, exec.Command(bin, "-p", dir, "-e", filepath.Join(dir, "error.log"), "-c", filepath.Join(dir, "nginx.conf")), addr, filepath.Join(dir, "out.log"))
	return "http://" + addr
}

func startCaddy(t *testing.T, latchkeyAddr, upstreamAddr string) string {
	t.Helper()
	bin := proxyBinary(t, "caddy", "/usr/bin/caddy")
	dir := t.TempDir()
	addr := freePort(t)
	site := docConfig(t, "Caddyfile",
		"api.example.com {", "http://"+addr+" {",
		"forward_auth 127.0.0.1:8080 {", "forward_auth "+latchkeyAddr+" {",
		"reverse_proxy 127.0.0.1:9000", "reverse_proxy "+upstreamAddr)
	// Global options for a test: no admin endpoint, no certificates.
	conf := "{\n\tadmin off\n\tauto_https off\n}\n\n" + site
	path := filepath.Join(dir, "Caddyfile")
	if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "run", "--adapter", "caddyfile", "--config", path)
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir, "XDG_CONFIG_HOME="+dir)
	runProxy(t, cmd, addr, filepath.Join(dir, "out.log"))
	return "http://" + addr
}

// TestForwardAuthBehindProxies attacks latchkey through nginx and Caddy as
// configured by docs/proxies: anonymous callers, revoked and narrow keys,
// a rate-limited key and forged X-Latchkey-* headers. The real status,
// body, Retry-After and WWW-Authenticate must reach the client; neither a
// forged header nor the key may reach the upstream.
func TestForwardAuthBehindProxies(t *testing.T) {
	s := startServer(t)
	hc := s.login(t)
	keys := s.URL + "/v1/workspaces/" + s.WorkspaceID + "/keys"
	create := func(body map[string]any) (string, string) {
		t.Helper()
		got := send(t, hc, "POST", keys, body)
		if got.status != http.StatusCreated {
			t.Fatalf("create %v: %d %s", body, got.status, got.raw)
		}
		return got.body["key"].(map[string]any)["id"].(string), got.body["secret"].(string)
	}
	latchkeyAddr := strings.TrimPrefix(s.URL, "http://")

	for _, p := range []struct {
		name  string
		start func(t *testing.T, latchkeyAddr, upstreamAddr string) string
	}{{"nginx", startNginx}, {"caddy", startCaddy}} {
		t.Run(p.name, func(t *testing.T) {
			up := startUpstream(t)
			base := p.start(t, latchkeyAddr, up.URL)
			goodID, good := create(map[string]any{"name": p.name + " good", "scopes": []string{"items:read"}})
			_, narrow := create(map[string]any{"name": p.name + " narrow", "scopes": []string{"users:read"}})
			revokedID, revoked := create(map[string]any{"name": p.name + " revoked", "scopes": []string{"items:read"}})
			if got := send(t, hc, "POST", keys+"/"+revokedID+"/revoke", nil); got.status != http.StatusOK {
				t.Fatalf("revoke: %d %s", got.status, got.raw)
			}
			_, limited := create(map[string]any{"name": p.name + " limited", "scopes": []string{"items:read"},
				"rate_limit": map[string]any{"limit": 1, "period": "1m"}})

			forged := []string{"X-Latchkey-Key-Id: forged", "X-Latchkey-Workspace-Id: forged", "X-Latchkey-Owner: forged",
				"X-Latchkey-Scopes: admin", "X-Latchkey-Environment: production", "X-Latchkey-Stale: 1",
				"X-Latchkey-Status: 200", "X-Latchkey-Code: forged", "X-Latchkey-External-Id: forged"}
			checkUpstream := func(what string, wantID string) {
				t.Helper()
				_, h := up.requests()
				if h == nil {
					t.Fatalf("%s: nothing reached the upstream", what)
				}
				if got := h.Get("X-Latchkey-Key-Id"); got != wantID {
					t.Errorf("%s: upstream got X-Latchkey-Key-Id %q, want %q", what, got, wantID)
				}
				if got := h.Get("X-Latchkey-Workspace-Id"); got != s.WorkspaceID {
					t.Errorf("%s: upstream got X-Latchkey-Workspace-Id %q, want %q", what, got, s.WorkspaceID)
				}
				if got := h.Get("X-Latchkey-External-Id"); got != "" {
					t.Errorf("%s: upstream got X-Latchkey-External-Id %q, want none (the key has no external id)", what, got)
				}
				if got := h.Get("X-Latchkey-Scopes"); got != "items:read" {
					t.Errorf("%s: upstream got X-Latchkey-Scopes %q, want items:read", what, got)
				}
				for _, name := range []string{"X-Latchkey-Stale", "X-Latchkey-Status", "X-Latchkey-Code", "X-Api-Key", "Authorization"} {
					if v := h.Values(name); len(v) > 0 {
						t.Errorf("%s: upstream got %s %q, want none", what, name, v)
					}
				}
				for name, vs := range h {
					for _, v := range vs {
						if strings.Contains(v, good) || v == "forged" {
							t.Errorf("%s: upstream got %s: %q (the key or a forged value)", what, name, v)
						}
					}
				}
			}

			// A valid key, in each header form, with forged identity headers.
			for _, auth := range []string{"X-API-Key: " + good, "Authorization: Bearer " + good} {
				got := send(t, http.DefaultClient, "GET", base+"/items", nil, append([]string{auth}, forged...)...)
				if got.status != http.StatusOK || string(got.raw) != "upstream answered" {
					t.Fatalf("valid key (%s): got %d %s, want 200 from the upstream", strings.SplitN(auth, ":", 2)[0], got.status, got.raw)
				}
				checkUpstream("valid key", goodID)
			}
			before, _ := up.requests()

			for _, tc := range []struct {
				name      string
				headers   []string
				status    int
				code      string
				challenge string // a substring of WWW-Authenticate; "" for none
			}{
				{"no key, forged identity", forged, 401, "key_missing", `Bearer realm="latchkey"`},
				{"unknown-format key", []string{"X-API-Key: not-a-key"}, 401, "key_malformed", `error="invalid_token"`},
				{"revoked key", append([]string{"X-API-Key: " + revoked}, forged...), 401, "key_revoked", `error="invalid_token"`},
				{"narrower key", []string{"Authorization: Bearer " + narrow}, 403, "insufficient_scope", `error="insufficient_scope"`},
			} {
				got := send(t, http.DefaultClient, "GET", base+"/items", nil, tc.headers...)
				expect(t, tc.name, got, tc.status, tc.code)
				if ct := got.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
					t.Errorf("%s: Content-Type %q, want JSON", tc.name, ct)
				}
				if ch := got.header.Values("Www-Authenticate"); len(ch) != 1 || !strings.Contains(ch[0], tc.challenge) {
					t.Errorf("%s: WWW-Authenticate %q, want one containing %q", tc.name, ch, tc.challenge)
				}
			}

			// Rate limit: one request a minute.
			if got := send(t, http.DefaultClient, "GET", base+"/items", nil, "X-API-Key: "+limited); got.status != 200 {
				t.Fatalf("first request of a rate-limited key: got %d %s", got.status, got.raw)
			}
			before++
			got := send(t, http.DefaultClient, "GET", base+"/items", nil, "X-API-Key: "+limited)
			expect(t, "second request of a rate-limited key", got, http.StatusTooManyRequests, "rate_limited")
			if secs, err := strconv.Atoi(got.header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
				t.Errorf("rate-limited: Retry-After %q, want 1..60 seconds", got.header.Get("Retry-After"))
			}
			if after, _ := up.requests(); after != before {
				t.Errorf("refused requests reached the upstream: %d requests, want %d", after, before)
			}
		})
	}
}
