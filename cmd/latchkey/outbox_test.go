package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/api/apitest"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/webhook"
)

// gate holds what reaches a slow sink until it is opened: entered gets a
// value when a message arrives, open lets every message through.
type gate struct {
	entered chan struct{}
	open    chan struct{}
	once    sync.Once
}

func newGate() *gate { return &gate{entered: make(chan struct{}, 16), open: make(chan struct{})} }

func (g *gate) pass()    { g.entered <- struct{}{}; <-g.open }
func (g *gate) release() { g.once.Do(func() { close(g.open) }) }

// slowSMTP is a real SMTP server on 127.0.0.1 that keeps every message it
// accepts, and answers DATA only once its gate opens: a slow mail server
// in the middle of a delivery.
type slowSMTP struct {
	g    *gate
	mu   sync.Mutex
	msgs []string
}

func (s *slowSMTP) NewSession(*smtp.Conn) (smtp.Session, error) { return s, nil }
func (s *slowSMTP) Reset()                                      {}
func (s *slowSMTP) Logout() error                               { return nil }
func (s *slowSMTP) Mail(string, *smtp.MailOptions) error        { return nil }
func (s *slowSMTP) Rcpt(string, *smtp.RcptOptions) error        { return nil }
func (s *slowSMTP) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.g.pass()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, string(b))
	return nil
}

func (s *slowSMTP) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// slowReceiver is a real webhook receiver on 127.0.0.1 that counts every
// request as it arrives (a receiver acts on what it gets) and answers 204
// once its gate opens.
type slowReceiver struct {
	g    *gate
	mu   sync.Mutex
	hits []hit
	srv  *httptest.Server
}

type hit struct {
	header http.Header
	body   []byte
}

func (r *slowReceiver) got() []hit {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.hits)
}

// lockedBuffer collects an instance's log.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type outboxClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *outboxClock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *outboxClock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// outboxWorld is one store served by successive instances (restarts),
// with a slow SMTP server and a slow webhook receiver.
type outboxWorld struct {
	ts    *testServer // the store's directory, workspace and owner
	mail  *slowSMTP
	smtp  string
	hooks *slowReceiver
	clock *outboxClock
	logs  *lockedBuffer
}

func newOutboxWorld(t *testing.T) *outboxWorld {
	t.Helper()
	w := &outboxWorld{
		ts:    &testServer{DataDir: t.TempDir(), OwnerEmail: "owner@example.com", OwnerPassword: "Tabby-Lantern-Orbit-42"},
		mail:  &slowSMTP{g: newGate()},
		hooks: &slowReceiver{g: newGate()},
		clock: &outboxClock{t: time.Now().UTC().Truncate(time.Second)},
		logs:  &lockedBuffer{},
	}
	srv := smtp.NewServer(w.mail)
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	w.smtp = l.Addr().String()
	w.hooks.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, req *http.Request) {
		b, _ := io.ReadAll(req.Body)
		w.hooks.mu.Lock()
		w.hooks.hits = append(w.hooks.hits, hit{req.Header.Clone(), b})
		w.hooks.mu.Unlock()
		w.hooks.g.pass()
		rw.WriteHeader(http.StatusNoContent)
	}))
	// Opened first so that nothing waits on a gate while the sinks stop.
	t.Cleanup(func() { w.hooks.srv.Close(); srv.Close() })
	t.Cleanup(func() { w.mail.g.release(); w.hooks.g.release() })

	pwFile := filepath.Join(t.TempDir(), "password")
	if err := os.WriteFile(pwFile, []byte(w.ts.OwnerPassword+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	args := []string{"init", "--data-dir", w.ts.DataDir, "--workspace", "Acme", "--email", w.ts.OwnerEmail, "--password-file", pwFile, "--json"}
	if code := run(args, &out, &errb); code != 0 {
		t.Fatalf("latchkey init: exit code %d, stderr %q", code, errb.String())
	}
	var ids struct {
		WorkspaceID string `json:"workspace_id"`
		UserID      string `json:"user_id"`
	}
	if err := json.Unmarshal(out.Bytes(), &ids); err != nil {
		t.Fatal(err)
	}
	w.ts.WorkspaceID, w.ts.OwnerID = ids.WorkspaceID, ids.UserID
	return w
}

// instance is one latchkey process on the world's store.
type instance struct {
	m      *Main
	cancel context.CancelFunc
	done   chan error
	once   sync.Once
	err    error
}

func (w *outboxWorld) start(t *testing.T) *instance {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMain(ctx, Config{
		DataDir: w.ts.DataDir, Addr: "127.0.0.1:0", OwnerEmail: w.ts.OwnerEmail, TokenPrefix: token.DefaultPrefix,
		Logger: slog.New(slog.NewJSONHandler(w.logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Stdout: io.Discard,
		ShutdownGrace: 5 * time.Second, Now: w.clock.Now,
		JobsInterval: 20 * time.Millisecond, MailInterval: 20 * time.Millisecond, WebhookInterval: 20 * time.Millisecond,
		SMTPURL: "smtp://" + w.smtp, MailFrom: "latchkey@example.com", WebhooksAllowPrivate: true,
	})
	if err != nil {
		cancel()
		t.Fatalf("NewMain: %v", err)
	}
	in := &instance{m: m, cancel: cancel, done: make(chan error, 1)}
	go func() { in.done <- m.Run(ctx) }()
	w.ts.Main, w.ts.URL = m, m.URL()
	t.Cleanup(func() { in.stop() })
	return in
}

// stop is SIGTERM: cancel, wait for Run, close the store.
func (in *instance) stop() error {
	in.once.Do(func() {
		in.cancel()
		in.err = <-in.done
		in.m.Close()
	})
	return in.err
}

// expiringKey sets the notice windows to 30d, 7d and 1d, creates, as
// the owner, a 40-day key with the receiver as callback URL, and moves the
// clock to an hour before its expiry, as if nothing had run meanwhile:
// inside every window, none of which it was created in, so the jobs enqueue
// one digest mail and one key.expiring webhook for the three at once.
func (w *outboxWorld) expiringKey(t *testing.T, in *instance) *latchkey.Key {
	t.Helper()
	ctx := context.Background()
	p, err := in.m.service.Principal(ctx, manage.Caller{User: &latchkey.User{ID: w.ts.OwnerID, Email: w.ts.OwnerEmail}}, w.ts.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	windows := []latchkey.Duration{latchkey.Duration(30 * latchkey.Day), latchkey.Duration(7 * latchkey.Day), latchkey.Duration(latchkey.Day)}
	if _, err := in.m.service.UpdateSettings(ctx, p, w.ts.WorkspaceID, manage.SettingsPatch{Expiration: &manage.ExpirationPatch{NoticeBefore: &windows}}); err != nil {
		t.Fatal(err)
	}
	k, _, err := in.m.service.CreateKey(ctx, p, w.ts.WorkspaceID, manage.CreateKey{Name: "soon", Owner: latchkey.OwnerWorkspace,
		ExpiresIn: "40d", CallbackURL: w.hooks.srv.URL + "/hook"})
	if err != nil {
		t.Fatal(err)
	}
	w.clock.Add(40*latchkey.Day - time.Hour)
	return k
}

// waitEntered waits until both the mail and the webhook are in the middle
// of their delivery.
func (w *outboxWorld) waitEntered(t *testing.T) {
	t.Helper()
	for _, g := range []*gate{w.mail.g, w.hooks.g} {
		select {
		case <-g.entered:
		case <-time.After(20 * time.Second):
			t.Fatal("no delivery began within 20 s")
		}
	}
}

// outbox reads the store's record of the one mail and the one delivery.
func (w *outboxWorld) outbox(t *testing.T, in *instance) (*latchkey.Mail, *latchkey.WebhookDelivery, []*latchkey.WebhookAttempt) {
	t.Helper()
	ctx := context.Background()
	mails, _, err := in.m.store.Mails(ctx, w.ts.WorkspaceID, 10, "")
	if err != nil || len(mails) != 1 {
		t.Fatalf("mails: got %d (%v), want 1", len(mails), err)
	}
	hooks, _, err := in.m.store.WebhookDeliveries(ctx, w.ts.WorkspaceID, 10, "")
	if err != nil || len(hooks) != 1 {
		t.Fatalf("webhook deliveries: got %d (%v), want 1", len(hooks), err)
	}
	attempts, err := in.m.store.WebhookAttempts(ctx, hooks[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	return mails[0], hooks[0], attempts
}

// settle runs one mail pass and one webhook pass of in, then waits for
// its own background passes to go by, so that whatever was due is sent.
func settle(t *testing.T, in *instance) {
	t.Helper()
	ctx := context.Background()
	if err := in.m.sender.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if err := in.m.webhooks.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // fifteen background passes of real goroutines; the clock under test stands still
}

var messageID = regexp.MustCompile(`(?mi)^Message-Id: (<[^>]+>)\r?$`)

// SIGTERM while a mail is in the SMTP server's DATA and a webhook is at
// its receiver: both finish, both are recorded, and the next start sends
// neither again, even once their leases are long over.
func TestOutboxExactlyOnceAcrossSIGTERM(t *testing.T) {
	w := newOutboxWorld(t)
	a := w.start(t)
	k := w.expiringKey(t, a)
	w.waitEntered(t)
	a.cancel()                         // SIGTERM, while both deliveries are under way
	time.Sleep(100 * time.Millisecond) // the cancellation reaches the senders, still in their delivery
	w.mail.g.release()
	w.hooks.g.release()
	if err := a.stop(); err != nil {
		t.Fatalf("Run after SIGTERM: %v", err)
	}

	w.clock.Add(10 * time.Minute) // past both leases (5 and 2 minutes), before the key's expiry
	b := w.start(t)
	m, d, attempts := w.outbox(t, b)
	if m.SentAt == nil || m.Attempts != 1 || m.NextAttemptAt != nil {
		t.Fatalf("mail after SIGTERM: got sent_at %v, %d attempts, next %v; want sent once, nothing due", m.SentAt, m.Attempts, m.NextAttemptAt)
	}
	if d.DeliveredAt == nil || d.Attempts != 1 || len(attempts) != 1 || attempts[0].StatusCode != http.StatusNoContent {
		t.Fatalf("webhook after SIGTERM: got delivered %v, %d attempts, log %v; want one recorded 204", d.DeliveredAt, d.Attempts, attempts)
	}
	settle(t, b)
	if got := w.mail.received(); len(got) != 1 {
		t.Fatalf("SMTP server: got %d messages, want exactly 1", len(got))
	}
	hits := w.hooks.got()
	if len(hits) != 1 {
		t.Fatalf("receiver: got %d requests, want exactly 1", len(hits))
	}
	var body struct {
		Type   string `json:"type"`
		Notice struct {
			Window  string   `json:"window"`
			Windows []string `json:"windows"`
		} `json:"notice"`
		Data struct {
			ID string `json:"id"`
		} `json:"data"`
	}
	if err := json.Unmarshal(hits[0].body, &body); err != nil || body.Type != "key.expiring" || body.Data.ID != k.ID ||
		body.Notice.Window != "1d" || !slices.Equal(body.Notice.Windows, []string{"1d", "7d", "30d"}) {
		t.Fatalf("webhook body: got %s (%v), want one key.expiring naming every window the key entered at once", hits[0].body, err)
	}
	wantPayloadDocumented(t, "key.expiring", hits[0].body)
	if strings.Contains(w.logs.String(), "could not be recorded") {
		t.Fatal("log: an outcome was not recorded across SIGTERM")
	}
}

// SIGKILL between the receivers' answers and latchkey's record (the store
// cut off under the running instance): the next start sends both again
// after their leases — at-least-once, as documented — with the same
// Message-ID and the same webhook-id, so receivers can drop the copy.
func TestOutboxAtLeastOnceAcrossSIGKILL(t *testing.T) {
	w := newOutboxWorld(t)
	a := w.start(t)
	w.expiringKey(t, a)
	w.waitEntered(t)
	a.m.Close() // the store goes away under the instance: nothing more is recorded
	a.cancel()
	w.mail.g.release()
	w.hooks.g.release()
	_ = a.stop() // errors expected: the store is gone

	w.clock.Add(10 * time.Minute)
	b := w.start(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		m, d, _ := w.outbox(t, b)
		if m.SentAt != nil && d.DeliveredAt != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the restart: mail sent %v, webhook delivered %v; want both", m.SentAt, d.DeliveredAt)
		}
		time.Sleep(20 * time.Millisecond) // waiting on real goroutines
	}
	settle(t, b)
	msgs := w.mail.received()
	if len(msgs) != 2 {
		t.Fatalf("SMTP server: got %d messages, want 2 (the copy after SIGKILL)", len(msgs))
	}
	first, second := messageID.FindStringSubmatch(msgs[0]), messageID.FindStringSubmatch(msgs[1])
	if first == nil || second == nil || first[1] != second[1] {
		t.Fatalf("Message-ID: got %v and %v, want the same on both copies", first, second)
	}
	hits := w.hooks.got()
	if len(hits) != 2 || hits[0].header.Get("webhook-id") == "" || hits[0].header.Get("webhook-id") != hits[1].header.Get("webhook-id") {
		t.Fatalf("receiver: got %d requests, want 2 with the same webhook-id", len(hits))
	}
	if !bytes.Equal(hits[0].body, hits[1].body) {
		t.Fatalf("bodies differ: %s vs %s", hits[0].body, hits[1].body)
	}
	secret, err := b.m.store.WebhookSecret(context.Background(), w.ts.WorkspaceID, "whsec_unused")
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hits {
		want, _ := webhook.Sign(secret, h.header.Get("webhook-id"), h.header.Get("webhook-timestamp"), h.body)
		if h.header.Get("webhook-signature") != want {
			t.Fatalf("request %d: signature does not verify with the workspace's secret", i)
		}
	}
	if _, d, attempts := w.outbox(t, b); d.Attempts != 1 || len(attempts) != 1 {
		t.Fatalf("webhook: got %d attempts recorded, want the 1 that the restart made (the killed one left no record)", len(attempts))
	}
	// Later passes send nothing more.
	w.clock.Add(time.Hour / 2)
	settle(t, b)
	if len(w.mail.received()) != 2 || len(w.hooks.got()) != 2 {
		t.Fatalf("later: got %d mails and %d webhooks, want no more", len(w.mail.received()), len(w.hooks.got()))
	}
	if strings.Contains(w.logs.String(), secret) {
		t.Fatal("log: the webhook secret appears in the log")
	}
}

// wantPayloadDocumented checks a webhook body against the schema that
// openapi.json's webhooks section gives for its event type.
func wantPayloadDocumented(t *testing.T, event string, body []byte) {
	t.Helper()
	doc, err := apitest.Load(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	item := doc.Webhooks[event]
	if item == nil || item.Post == nil || item.Post.RequestBody == nil {
		t.Fatalf("openapi.json documents no %s webhook", event)
	}
	schema := item.Post.RequestBody.Value.Content.Get("application/json").Schema.Value
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		t.Fatal(err)
	}
	if err := schema.VisitJSON(v); err != nil {
		t.Fatalf("%s body does not match openapi.json: %v\n%s", event, err, body)
	}
	for _, h := range []string{"webhook-id", "webhook-timestamp", "webhook-signature"} {
		found := false
		for _, p := range item.Post.Parameters {
			found = found || (p.Value.In == "header" && p.Value.Name == h)
		}
		if !found {
			t.Fatalf("openapi.json: the %s webhook does not document the %s header", event, h)
		}
	}
}
