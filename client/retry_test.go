package client_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey/client"
)

// flaky answers the first failures requests with status (and Retry-After
// when given), then 200 with body; it counts the requests.
type flaky struct {
	failures   int32
	status     int
	retryAfter string
	body       string
	calls      atomic.Int32
}

func (f *flaky) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := f.calls.Add(1)
	if n <= f.failures {
		if f.status == 0 {
			// No answer at all: the connection is dropped.
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
			return
		}
		if f.retryAfter != "" {
			w.Header().Set("Retry-After", f.retryAfter)
		}
		answer(w, f.status, `{"error":{"code":"unavailable","message":"busy","details":{}}}`)
		return
	}
	answer(w, 200, f.body)
}

const keyBody = `{"key":{"id":"key_1","name":"n"}}`

func TestRetries(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name      string
		srv       *flaky
		call      func(*client.Client) error
		wantCalls int32
		wantErr   bool
	}{
		{"a read retried after 503s", &flaky{failures: 2, status: 503, retryAfter: "0", body: keyBody},
			func(c *client.Client) error { _, err := c.GetKey(ctx, "ws_1", "key_1"); return err }, 3, false},
		{"a read retried after 502 and 504 without Retry-After", &flaky{failures: 2, status: 502, body: keyBody},
			func(c *client.Client) error { _, err := c.GetKey(ctx, "ws_1", "key_1"); return err }, 3, false},
		{"a read retried after a dropped connection", &flaky{failures: 1, body: keyBody},
			func(c *client.Client) error { _, err := c.GetKey(ctx, "ws_1", "key_1"); return err }, 2, false},
		{"revoke is idempotent: retried", &flaky{failures: 1, status: 503, retryAfter: "0", body: keyBody},
			func(c *client.Client) error { _, err := c.RevokeKey(ctx, "ws_1", "key_1"); return err }, 2, false},
		{"gives up after the retries", &flaky{failures: 10, status: 503, retryAfter: "0", body: keyBody},
			func(c *client.Client) error { _, err := c.GetKey(ctx, "ws_1", "key_1"); return err }, 3, true},
		{"create is never sent twice", &flaky{failures: 1, status: 503, retryAfter: "0", body: `{"key":{},"secret":"s"}`},
			func(c *client.Client) error {
				_, err := c.CreateKey(ctx, "ws_1", client.CreateKeyRequest{Name: "n"})
				return err
			}, 1, true},
		{"reset is never sent twice", &flaky{failures: 1, body: `{"key":{},"secret":"s"}`},
			func(c *client.Client) error { _, err := c.ResetKey(ctx, "ws_1", "key_1", 0); return err }, 1, true},
		{"a 4xx is an answer, not retried", &flaky{failures: 1, status: 409, body: keyBody},
			func(c *client.Client) error { _, err := c.GetKey(ctx, "ws_1", "key_1"); return err }, 1, true},
		{"a Retry-After beyond the bound is not waited for", &flaky{failures: 1, status: 503, retryAfter: "3600", body: keyBody},
			func(c *client.Client) error { _, err := c.GetKey(ctx, "ws_1", "key_1"); return err }, 1, true},
		{"a read retried after a 429 with Retry-After", &flaky{failures: 1, status: 429, retryAfter: "0", body: keyBody},
			func(c *client.Client) error { _, err := c.GetKey(ctx, "ws_1", "key_1"); return err }, 2, false},
		{"a 429 without Retry-After is not guessed at", &flaky{failures: 1, status: 429, body: keyBody},
			func(c *client.Client) error { _, err := c.GetKey(ctx, "ws_1", "key_1"); return err }, 1, true},
		{"verify retried after a 503", &flaky{failures: 1, status: 503, retryAfter: "0", body: `{"valid":true,"key":{"id":"key_1"}}`},
			func(c *client.Client) error { _, err := c.Verify(ctx, client.VerifyRequest{Key: "k"}); return err }, 2, false},
		// A verification may spend the key's credits: once the request
		// may have reached latchkey, it is not sent again.
		{"verify not retried after a dropped connection", &flaky{failures: 1, body: `{"valid":true,"key":{"id":"key_1"}}`},
			func(c *client.Client) error { _, err := c.Verify(ctx, client.VerifyRequest{Key: "k"}); return err }, 1, true},
		{"verify not retried after a proxy's 502", &flaky{failures: 1, status: 502, body: `{"valid":true,"key":{"id":"key_1"}}`},
			func(c *client.Client) error { _, err := c.Verify(ctx, client.VerifyRequest{Key: "k"}); return err }, 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(tt.srv)
			defer srv.Close()
			c := newClient(t, srv.URL, client.WithToken(testToken))
			start := time.Now()
			err := tt.call(c)
			if (err != nil) != tt.wantErr {
				t.Errorf("got error %v, want an error: %v", err, tt.wantErr)
			}
			if got := tt.srv.calls.Load(); got != tt.wantCalls {
				t.Errorf("got %d requests, want %d", got, tt.wantCalls)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %s", d)
			}
		})
	}
}

func TestRetryHonoursRetryAfter(t *testing.T) {
	f := &flaky{failures: 1, status: 503, retryAfter: "1", body: keyBody}
	srv := httptest.NewServer(f)
	defer srv.Close()
	start := time.Now()
	if _, err := newClient(t, srv.URL, client.WithToken(testToken)).GetKey(context.Background(), "ws_1", "key_1"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d < time.Second {
		t.Errorf("retried after %s, want the 1s of Retry-After", d)
	}
}

func TestRetryStopsWithTheContext(t *testing.T) {
	f := &flaky{failures: 10, status: 503, retryAfter: "5", body: keyBody}
	srv := httptest.NewServer(f)
	defer srv.Close()
	c := newClient(t, srv.URL, client.WithToken(testToken))

	// A deadline too close for the wait: the 503 is returned at once.
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := c.GetKey(ctx, "ws_1", "key_1")
	if !errors.Is(err, client.ErrUnavailable) || time.Since(start) > 400*time.Millisecond || f.calls.Load() != 1 {
		t.Errorf("got %v after %s and %d requests, want the 503 at once", err, time.Since(start), f.calls.Load())
	}

	// Cancelled while waiting.
	f.calls.Store(0)
	ctx, cancel = context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	start = time.Now()
	_, err = c.GetKey(ctx, "ws_1", "key_1")
	if err == nil || time.Since(start) > 2*time.Second || f.calls.Load() != 1 {
		t.Errorf("got %v after %s and %d requests, want an error soon after the cancellation", err, time.Since(start), f.calls.Load())
	}
}

func TestWithMaxRetriesZero(t *testing.T) {
	f := &flaky{failures: 1, status: 503, retryAfter: "0", body: keyBody}
	srv := httptest.NewServer(f)
	defer srv.Close()
	_, err := newClient(t, srv.URL, client.WithToken(testToken), client.WithMaxRetries(0)).GetKey(context.Background(), "ws_1", "key_1")
	if err == nil || f.calls.Load() != 1 {
		t.Errorf("got %v and %d requests, want the 503 and 1 request", err, f.calls.Load())
	}
}

func TestVerifyRateLimitIsNotRetried(t *testing.T) {
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Retry-After", "0")
		answer(w, 429, `{"valid":false,"error":{"code":"rate_limited","message":"m","details":{"retry_after_seconds":1}}}`)
	}))
	defer srv.Close()
	res, err := newClient(t, srv.URL).Verify(context.Background(), client.VerifyRequest{Key: "k"})
	if err != nil || res.Valid || res.Code != "rate_limited" || calls.Load() != 1 {
		t.Errorf("got %+v, %v after %d requests; want one rate_limited decision", res, err, calls.Load())
	}
}

// slow answers after delay, or when the caller gives up.
func slow(delay time.Duration, body string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(delay):
			answer(w, 200, body)
		case <-r.Context().Done():
		}
	})
}

func TestVerifyTimeout(t *testing.T) {
	srv := httptest.NewServer(slow(5*time.Second, `{"valid":true,"key":{"id":"key_1"}}`))
	defer srv.Close()

	// The default: a verification gives up after DefaultVerifyTimeout.
	start := time.Now()
	_, err := newClient(t, srv.URL).Verify(context.Background(), client.VerifyRequest{Key: "k"})
	if d := time.Since(start); !errors.Is(err, context.DeadlineExceeded) || d < client.DefaultVerifyTimeout || d > client.DefaultVerifyTimeout+time.Second {
		t.Errorf("got %v after %s, want a deadline after %s", err, d, client.DefaultVerifyTimeout)
	}

	// The verify timeout does not bound management calls.
	slowKey := httptest.NewServer(slow(400*time.Millisecond, keyBody))
	defer slowKey.Close()
	c := newClient(t, slowKey.URL, client.WithToken(testToken), client.WithVerifyTimeout(100*time.Millisecond))
	if _, err := c.GetKey(context.Background(), "ws_1", "key_1"); err != nil {
		t.Errorf("GetKey under a 100ms verify timeout: %v", err)
	}
	if _, err := c.Verify(context.Background(), client.VerifyRequest{Key: "k"}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Verify under a 100ms verify timeout: got %v, want a deadline", err)
	}
	// And the management timeout bounds management calls.
	c = newClient(t, slowKey.URL, client.WithToken(testToken), client.WithTimeout(100*time.Millisecond), client.WithMaxRetries(0))
	if _, err := c.GetKey(context.Background(), "ws_1", "key_1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetKey under a 100ms timeout: got %v, want a deadline", err)
	}
}
