package server

import (
	"bufio"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func startWith(t *testing.T, cfg Config) string {
	t.Helper()
	cfg.Addr = "127.0.0.1:0"
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(io.Discard, nil))
	}
	cfg.Surfaces = append(cfg.Surfaces, panicky{})
	s, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		s.Shutdown(ctx)
	})
	return "http://" + s.Addr()
}

// rawRequest sends a request line by hand: net/http's client refuses
// most of the methods an attacker would send.
func rawRequest(t *testing.T, addr, method, path string) (int, http.Header) {
	t.Helper()
	conn, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(conn, method+" "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufioReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode, resp.Header
}

// TestAttackRandomMethodsBlowUpMetrics: the HTTP metrics labelled the raw
// request method, so every random method made a series forever (3,000
// requests with 60 KB methods: RSS +330 MB, /metrics 3.3 GB). Unknown
// methods are refused with 501 before they are counted; the series stay
// within the closed set.
func TestAttackRandomMethodsBlowUpMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	url := startWith(t, Config{Gatherer: reg, Metrics: NewMetrics(reg)})
	for i := range 200 {
		method := "M" + strings.ToUpper(rand.Text()) + strings.Repeat("X", 8<<10)
		if i%2 == 0 {
			method = "M" + rand.Text()[:8]
		}
		code, h := rawRequest(t, url, method, "/healthz")
		if code != http.StatusNotImplemented || h.Get("X-Content-Type-Options") != "nosniff" {
			t.Fatalf("method %.20s…: got %d, want 501 with nosniff", method, code)
		}
	}
	// Known methods on unknown and known paths are still counted, by pattern.
	for _, path := range []string{"/healthz", "/nope/" + rand.Text(), "/boom"} {
		rawRequest(t, url, "GET", path)
	}
	rawRequest(t, url, "DELETE", "/healthz")
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	series := 0
	for _, f := range families {
		for _, m := range f.GetMetric() {
			series++
			for _, l := range m.GetLabel() {
				if len(l.GetValue()) > 40 || strings.Contains(l.GetValue(), "nope") {
					t.Errorf("%s has label %s=%.60q: not from a closed set", f.GetName(), l.GetName(), l.GetValue())
				}
			}
		}
	}
	if series < 3 || series > 10 {
		t.Errorf("%d series after 200 random methods and 4 requests, want a handful (and the real requests counted)", series)
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if len(b) > 64<<10 || strings.Contains(string(b), "MX") {
		t.Errorf("/metrics is %d bytes and names attacker methods: %v", len(b), strings.Contains(string(b), "MX"))
	}
}

// TestNosniffOnEveryAnswer: every answer, whichever part of the server
// writes it (operational endpoints, unknown paths, panics, refusals,
// unknown methods, a surface's own handlers), carries nosniff; HSTS only
// when configured.
func TestNosniffOnEveryAnswer(t *testing.T) {
	for _, hsts := range []bool{false, true} {
		url := startWith(t, Config{HSTS: hsts, Ready: func(context.Context) error { return nil }})
		for _, c := range []struct{ method, path string }{
			{"GET", "/healthz"}, {"GET", "/readyz"}, {"GET", "/nope"}, {"GET", "/boom"},
			{"POST", "/state"}, {"PUT", "/healthz"}, {"BREW", "/healthz"},
		} {
			code, h := rawRequest(t, url, c.method, c.path)
			if h.Get("X-Content-Type-Options") != "nosniff" {
				t.Errorf("%s %s (%d): no nosniff", c.method, c.path, code)
			}
			if got := h.Get("Strict-Transport-Security") != ""; got != hsts {
				t.Errorf("%s %s: HSTS %v, want %v", c.method, c.path, got, hsts)
			}
		}
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }
