package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/token"
)

// TestSIGTERMUnderLoadFailsNoRequest runs the real wiring under load from
// 16 keep-alive connections and stops it as SIGTERM does (the context
// serve's signal handler cancels). Half the clients sit behind a load
// balancer that polls /readyz and stops sending once it answers 503; the
// other half behind one too slow to notice, which keep sending until an
// answer says Connection: close. Not one request may fail.
func TestSIGTERMUnderLoadFailsNoRequest(t *testing.T) {
	s := &testServer{DataDir: t.TempDir(), OwnerEmail: "owner@example.com", OwnerPassword: "Tabby-Lantern-Orbit-42"}
	pw := filepath.Join(t.TempDir(), "pw")
	if err := os.WriteFile(pw, []byte(s.OwnerPassword), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run([]string{"init", "--data-dir", s.DataDir, "--workspace", "Acme", "--email", s.OwnerEmail, "--password-file", pw, "--json"}, &out, &errb); code != 0 {
		t.Fatalf("init: %d %s", code, errb.String())
	}
	const drainDelay = time.Second
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	m, err := NewMain(ctx, Config{
		DataDir: s.DataDir, Addr: "127.0.0.1:0", TokenPrefix: token.DefaultPrefix,
		Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard,
		FlushEvery: 50 * time.Millisecond, ShutdownGrace: 10 * time.Second, DrainDelay: drainDelay,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	runDone := make(chan error, 1)
	go func() { runDone <- m.Run(ctx) }()
	s.URL = m.URL()
	session := s.login(t)
	var me struct {
		Workspaces []struct {
			ID string `json:"id"`
		} `json:"workspaces"`
	}
	s.call(t, session, http.MethodGet, "/v1/me", nil, &me)
	s.WorkspaceID = me.Workspaces[0].ID
	var created struct {
		Secret string `json:"secret"`
	}
	if st := s.call(t, session, http.MethodPost, "/v1/workspaces/"+s.WorkspaceID+"/keys",
		map[string]any{"name": "load", "type": "public_api", "scopes": []string{"items:read"}, "expires_in": "30d"}, &created); st != 201 {
		t.Fatalf("creating a key: %d", st)
	}
	body := []byte(fmt.Sprintf(`{"key":%q,"scopes":["items:read"]}`, created.Secret))

	// The prompt load balancer: polls /readyz every 100ms.
	var outOfRotation atomic.Bool
	lbStop := make(chan struct{})
	var lb sync.WaitGroup
	lb.Go(func() {
		hc := &http.Client{Timeout: 2 * time.Second}
		for {
			select {
			case <-lbStop:
				return
			case <-time.After(100 * time.Millisecond):
			}
			resp, err := hc.Get(s.URL + "/readyz")
			if err != nil {
				continue
			}
			resp.Body.Close()
			if resp.StatusCode == http.StatusServiceUnavailable {
				outOfRotation.Store(true)
			}
		}
	})

	tr := &http.Transport{MaxIdleConnsPerHost: 16, MaxConnsPerHost: 16}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 10 * time.Second, Jar: session.Jar}
	var ok, failed, closed atomic.Int64
	var firstErr atomic.Value
	var workers sync.WaitGroup
	for i := range 16 {
		slowLB := i%2 == 1
		workers.Go(func() {
			for n := 0; ; n++ {
				if !slowLB && outOfRotation.Load() {
					return
				}
				var req *http.Request
				if n%4 == 3 {
					req, _ = http.NewRequest(http.MethodGet, s.URL+"/v1/me", nil)
				} else {
					req, _ = http.NewRequest(http.MethodPost, s.URL+"/v1/keys/verify", bytes.NewReader(body))
					req.Header.Set("Content-Type", "application/json")
				}
				resp, err := hc.Do(req)
				if err != nil {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, err.Error())
					return
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					failed.Add(1)
					firstErr.CompareAndSwap(nil, fmt.Sprintf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode))
					return
				}
				ok.Add(1)
				if resp.Close {
					// The server closes this connection: a client behind
					// a slow balancer learns it is going away.
					closed.Add(1)
					if slowLB {
						return
					}
				}
			}
		})
	}
	time.Sleep(500 * time.Millisecond)
	before := ok.Load()
	stopped := time.Now()
	cancel() // what SIGTERM does to serve's context
	workers.Wait()
	close(lbStop)
	lb.Wait()
	if err := <-runDone; err != nil {
		t.Errorf("Run: %v", err)
	}
	took := time.Since(stopped)
	t.Logf("%d requests answered (%d before the stop), %d failed, %d answers with Connection: close; stopped in %v",
		ok.Load(), before, failed.Load(), closed.Load(), took)
	if failed.Load() != 0 {
		t.Errorf("%d requests failed during the shutdown, want 0; first: %v", failed.Load(), firstErr.Load())
	}
	if before < 100 {
		t.Errorf("only %d requests before the stop: the load did not run", before)
	}
	if closed.Load() < 8 {
		t.Errorf("%d answers carried Connection: close, want one for each of the 8 connections still in use after the drain delay", closed.Load())
	}
	if !outOfRotation.Load() {
		t.Errorf("the load balancer never saw /readyz answer 503")
	}
	if took < drainDelay {
		t.Errorf("the server stopped after %v, before the drain delay of %v", took, drainDelay)
	}
}
