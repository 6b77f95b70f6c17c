package server

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"testing"
	"time"
)

type slowSurface struct{}

func (slowSurface) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /slow", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(700 * time.Millisecond)
		writePlain(w, http.StatusOK, "done\n")
	})
}

func newDrainServer(t *testing.T, delay time.Duration) *Server {
	t.Helper()
	s, err := New(Config{Addr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler), Surfaces: []Mounter{slowSurface{}},
		Ready: func(context.Context) error { return nil }, DrainDelay: delay})
	if err != nil {
		t.Fatal(err)
	}
	go s.Serve()
	return s
}

func get(t *testing.T, hc *http.Client, url string) *http.Response {
	t.Helper()
	resp, err := hc.Get(url)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

// TestShutdownTurnsNotReadyThenServesThenClosesKeepAlives follows one
// keep-alive connection through a shutdown: /readyz says 503 at once,
// requests are served as usual during the drain delay, then the answer
// carries Connection: close, and a request in flight is answered.
func TestShutdownTurnsNotReadyThenServesThenClosesKeepAlives(t *testing.T) {
	s := newDrainServer(t, 600*time.Millisecond)
	base := "http://" + s.Addr()
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}}
	if r := get(t, hc, base+"/readyz"); r.StatusCode != 200 {
		t.Fatalf("/readyz before shutdown: got %d, want 200", r.StatusCode)
	}
	slow := make(chan int, 1)
	go func() {
		resp, err := http.Get(base + "/slow")
		if err != nil {
			slow <- 0
			return
		}
		resp.Body.Close()
		slow <- resp.StatusCode
	}()
	time.Sleep(100 * time.Millisecond) // the slow request is in flight
	done := make(chan error, 1)
	start := time.Now()
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- s.Shutdown(ctx)
	}()
	time.Sleep(50 * time.Millisecond)
	if r := get(t, hc, base+"/readyz"); r.StatusCode != http.StatusServiceUnavailable || r.Close {
		t.Errorf("/readyz during the drain delay: got %d (close %v), want 503 on a connection kept alive", r.StatusCode, r.Close)
	}
	if r := get(t, hc, base+"/healthz"); r.StatusCode != 200 || r.Close {
		t.Errorf("a request during the drain delay: got %d (close %v), want 200 on a connection kept alive", r.StatusCode, r.Close)
	}
	// A client that keeps using its connection gets answers as usual until
	// the delay has passed, then one with Connection: close.
	for {
		r := get(t, hc, base+"/healthz")
		if r.StatusCode != 200 {
			t.Fatalf("a request during the shutdown: got %d, want 200", r.StatusCode)
		}
		if r.Close {
			if d := time.Since(start); d < 600*time.Millisecond {
				t.Errorf("Connection: close after %v, want after the drain delay of 600ms", d)
			}
			break
		}
		if time.Since(start) > 3*time.Second {
			t.Fatal("no answer carried Connection: close 3s into the shutdown")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
	if got := <-slow; got != 200 {
		t.Errorf("the request in flight at shutdown: got %d, want 200", got)
	}
}

// TestShutdownDoesNotWaitForSilentConnections: a client that connects and
// sends nothing (a port scanner, a load balancer's TCP check) must not hold
// the shutdown; net/http alone waits 5 seconds for such a connection.
func TestShutdownDoesNotWaitForSilentConnections(t *testing.T) {
	s := newDrainServer(t, 0)
	var silent []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", s.Addr())
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		silent = append(silent, c)
	}
	time.Sleep(50 * time.Millisecond) // accepted: StateNew
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	start := time.Now()
	if err := s.Shutdown(ctx); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Shutdown with silent connections took %v, want under 2s", d)
	}
	// The silent connections were closed, not left open.
	for _, c := range silent {
		_ = c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := bufio.NewReader(c).ReadByte(); err == nil {
			t.Errorf("a silent connection got data after shutdown, want it closed")
		}
	}
}
