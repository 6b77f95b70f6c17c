package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/webhook"
)

// clock is an injected clock: tests move time instead of sleeping.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// hit is one request the receiver got.
type hit struct {
	header http.Header
	body   []byte
}

// receiver is a real HTTP server on 127.0.0.1 answering status.
type receiver struct {
	mu     sync.Mutex
	status int
	hits   []hit
	srv    *httptest.Server
}

func newReceiver(t *testing.T, status int) *receiver {
	r := &receiver{status: status}
	r.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		r.mu.Lock()
		defer r.mu.Unlock()
		r.hits = append(r.hits, hit{req.Header.Clone(), b})
		w.WriteHeader(r.status)
		_, _ = io.WriteString(w, "receiver says "+strconv.Itoa(r.status))
	}))
	t.Cleanup(r.srv.Close)
	return r
}

func (r *receiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]hit(nil), r.hits...)
}

type env struct {
	store *sqlite.DB
	svc   *manage.Service
	clock *clock
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
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	format, _ := token.NewFormat("lk")
	svc := manage.New(manage.Config{Store: store, Format: format, Now: c.Now})
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Principal(ctx, manage.Caller{User: first.Owner, IP: "192.0.2.1"}, first.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	return &env{store: store, svc: svc, clock: c, ws: first.Workspace.ID, owner: p}
}

func (e *env) sender(maxAttempts int) *webhook.Sender {
	// The receivers of these tests listen on 127.0.0.1, which only an
	// operator's explicit permission lets webhooks reach.
	return webhook.New(webhook.Config{Store: e.store, Now: e.clock.Now, MaxAttempts: maxAttempts, AllowPrivate: true})
}

// wantSigned checks h as Standard Webhooks specify, computing the
// signature here rather than with webhook.Sign.
func wantSigned(t *testing.T, secret string, h hit, now time.Time) {
	t.Helper()
	id, ts := h.header.Get("webhook-id"), h.header.Get("webhook-timestamp")
	if id == "" || ts != strconv.FormatInt(now.Unix(), 10) {
		t.Fatalf("headers: got id %q timestamp %q, want an id and %d", id, ts, now.Unix())
	}
	if !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret: got %q..., want whsec_", secret[:min(6, len(secret))])
	}
	key, err := base64.StdEncoding.DecodeString(secret[len("whsec_"):])
	if err != nil || len(key) < 24 {
		t.Fatalf("secret: %d bytes, %v, want 24 or more", len(key), err)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(h.body)))
	want := "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
	if got := h.header.Get("webhook-signature"); got != want {
		t.Fatalf("webhook-signature: got %q, want %q", got, want)
	}
}

func TestRevokeResetDeleteAreSignedAndDelivered(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rcv := newReceiver(t, http.StatusNoContent)
	k, _, err := e.svc.CreateKey(ctx, e.owner, e.ws, manage.CreateKey{Name: "hooked", CallbackURL: rcv.srv.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	plain, _, err := e.svc.CreateKey(ctx, e.owner, e.ws, manage.CreateKey{Name: "plain"})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.ResetKey(ctx, e.owner, e.ws, k.ID, 0); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{k.ID, plain.ID} {
		if _, err := e.svc.RevokeKey(ctx, e.owner, e.ws, id); err != nil {
			t.Fatal(err)
		}
		// Idempotent: no second event, no second webhook.
		if _, err := e.svc.RevokeKey(ctx, e.owner, e.ws, id); err != nil {
			t.Fatal(err)
		}
		if err := e.svc.DeleteKey(ctx, e.owner, e.ws, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := e.sender(0).SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	secret, err := e.svc.WebhookSecret(ctx, e.owner, e.ws)
	if err != nil {
		t.Fatal(err)
	}
	hits := rcv.got()
	var types []string
	for _, h := range hits {
		wantSigned(t, secret, h, e.clock.Now())
		var body struct {
			Type      string         `json:"type"`
			Timestamp time.Time      `json:"timestamp"`
			Data      map[string]any `json:"data"`
		}
		if err := json.Unmarshal(h.body, &body); err != nil {
			t.Fatal(err)
		}
		if body.Data["id"] != k.ID || body.Data["workspace_id"] != e.ws || body.Data["name"] != "hooked" || body.Timestamp.IsZero() {
			t.Fatalf("body: got %s", h.body)
		}
		if strings.Contains(string(h.body), "hash") || strings.Contains(string(h.body), "start") {
			t.Fatalf("body shows secret material: %s", h.body)
		}
		types = append(types, body.Type)
	}
	if got, want := strings.Join(types, ","), "key.reset,key.revoked,key.deleted"; got != want {
		t.Fatalf("webhooks: got %s, want %s", got, want)
	}
	list, _, err := e.store.WebhookDeliveries(ctx, e.ws, 10, "")
	if err != nil || len(list) != 3 {
		t.Fatalf("deliveries: got %d, %v, want 3", len(list), err)
	}
	for _, d := range list {
		if d.DeliveredAt == nil || d.Attempts != 1 {
			t.Fatalf("delivery %s: got %+v, want delivered once", d.Type, d)
		}
		a, _ := e.store.WebhookAttempts(ctx, d.ID)
		if len(a) != 1 || a[0].StatusCode != http.StatusNoContent || a[0].Error != "" {
			t.Fatalf("attempts of %s: got %+v", d.Type, a)
		}
	}
	// A second pass sends nothing again.
	if err := e.sender(0).SendDue(ctx); err != nil || len(rcv.got()) != 3 {
		t.Fatalf("second pass: got %d requests, %v, want 3", len(rcv.got()), err)
	}
}

func TestFailuresRetryOnScheduleThenGiveUp(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rcv := newReceiver(t, http.StatusInternalServerError)
	k, _, err := e.svc.CreateKey(ctx, e.owner, e.ws, manage.CreateKey{Name: "hooked", CallbackURL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevokeKey(ctx, e.owner, e.ws, k.ID); err != nil {
		t.Fatal(err)
	}
	const maxAttempts = 3
	s := e.sender(maxAttempts)
	start := e.clock.Now()
	// Due at once, then after 1 and 2 more minutes (the backoff).
	due := []time.Time{start, start.Add(time.Minute), start.Add(3 * time.Minute)}
	for i, at := range due {
		e.clock.Set(at.Add(-time.Second))
		if err := s.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(rcv.got()); got != i {
			t.Fatalf("before attempt %d: got %d requests, want %d", i+1, got, i)
		}
		e.clock.Set(at)
		if err := s.SendDue(ctx); err != nil {
			t.Fatal(err)
		}
		if got := len(rcv.got()); got != i+1 {
			t.Fatalf("attempt %d: got %d requests, want %d", i+1, got, i+1)
		}
	}
	e.clock.Set(start.Add(30 * 24 * time.Hour))
	if err := s.SendDue(ctx); err != nil || len(rcv.got()) != maxAttempts {
		t.Fatalf("after giving up: got %d requests, %v, want %d", len(rcv.got()), err, maxAttempts)
	}
	list, _, _ := e.store.WebhookDeliveries(ctx, e.ws, 10, "")
	if len(list) != 1 {
		t.Fatalf("deliveries: got %d, want 1", len(list))
	}
	d := list[0]
	if d.Attempts != maxAttempts || d.DeliveredAt != nil || d.NextAttemptAt != nil || !strings.HasPrefix(d.LastError, "HTTP 500") {
		t.Fatalf("given up: got %+v", d)
	}
	attempts, _ := e.store.WebhookAttempts(ctx, d.ID)
	if len(attempts) != maxAttempts {
		t.Fatalf("attempts: got %d, want %d", len(attempts), maxAttempts)
	}
	for i, a := range attempts {
		if a.StatusCode != 500 || !a.At.Equal(due[i]) || a.Error != "HTTP 500" || a.Duration <= 0 {
			t.Fatalf("attempt %d: got %+v, want 500 at %v", i+1, a, due[i])
		}
	}
}

func TestRedirectIsNotFollowed(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	target := newReceiver(t, http.StatusOK)
	redirect := httptest.NewServer(http.RedirectHandler(target.srv.URL, http.StatusFound))
	t.Cleanup(redirect.Close)
	k, _, err := e.svc.CreateKey(ctx, e.owner, e.ws, manage.CreateKey{Name: "hooked", CallbackURL: redirect.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevokeKey(ctx, e.owner, e.ws, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := e.sender(0).SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if n := len(target.got()); n != 0 {
		t.Fatalf("redirect target: got %d requests, want 0", n)
	}
	list, _, _ := e.store.WebhookDeliveries(ctx, e.ws, 10, "")
	if d := list[0]; d.DeliveredAt != nil || d.NextAttemptAt == nil || !strings.HasPrefix(d.LastError, "HTTP 302") {
		t.Fatalf("delivery: got %+v, want a failed attempt to retry", d)
	}
}

func TestBackoff(t *testing.T) {
	for _, tc := range []struct {
		n    int
		want time.Duration
	}{{1, time.Minute}, {2, 2 * time.Minute}, {3, 4 * time.Minute}, {20, 6 * time.Hour}} {
		t.Run(strconv.Itoa(tc.n), func(t *testing.T) {
			if got := latchkey.RetryBackoff(tc.n); got != tc.want {
				t.Fatalf("Backoff(%d): got %v, want %v", tc.n, got, tc.want)
			}
		})
	}
}
