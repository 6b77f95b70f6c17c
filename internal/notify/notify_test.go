package notify_test

import (
	"context"
	"github.com/prometheus/client_golang/prometheus"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/notify"
	"github.com/latchkey/latchkey/internal/sqlite"
)

// server is an in-process SMTP server on 127.0.0.1:0 that refuses the
// first failures recipients with a temporary error.
type server struct {
	mu       sync.Mutex
	failures int
	got      []string // "to\nmessage"
}

func (s *server) NewSession(*smtp.Conn) (smtp.Session, error) { return &session{s: s}, nil }

type session struct {
	s  *server
	to string
}

func (*session) Reset()                               {}
func (*session) Logout() error                        { return nil }
func (*session) Mail(string, *smtp.MailOptions) error { return nil }
func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	if ss.s.failures > 0 {
		ss.s.failures--
		return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
	}
	ss.to = to
	return nil
}
func (ss *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.s.mu.Lock()
	defer ss.s.mu.Unlock()
	ss.s.got = append(ss.s.got, ss.to+"\n"+string(b))
	return nil
}

func (s *server) messages() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.got...)
}

func startSMTP(t *testing.T, failures int) (*server, string) {
	t.Helper()
	b := &server{failures: failures}
	srv := smtp.NewServer(b)
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return b, "smtp://" + l.Addr().String()
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// outbox returns a store holding one unsent mail.
func outbox(t *testing.T, now time.Time) (*sqlite.DB, *latchkey.Mail) {
	t.Helper()
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	ws := &latchkey.Workspace{ID: "ws_01JD0000000000000000000001", Name: "Acme", Settings: latchkey.DefaultSettings(), CreatedAt: now}
	owner := &latchkey.User{ID: "usr_01JD0000000000000000000001", Email: "ann@acme.test", CreatedAt: now}
	if err := db.CreateWorkspace(ctx, ws, owner, latchkey.Event{ID: "evt_01JD0000000000000000000001", At: now, Action: latchkey.EventWorkspaceCreated}); err != nil {
		t.Fatal(err)
	}
	exp := now.Add(latchkey.Year)
	k := &latchkey.Key{ID: "key_01JD0000000000000000000001", WorkspaceID: ws.ID, Name: "Zapier", Type: "public_api",
		Environment: latchkey.Production, Owner: latchkey.OwnerWorkspace, CreatedAt: now, ExpiresAt: &exp}
	if err := db.CreateKey(ctx, k, latchkey.Event{ID: "evt_01JD0000000000000000000002", At: now, Action: latchkey.EventKeyCreated}); err != nil {
		t.Fatal(err)
	}
	m := &latchkey.Mail{ID: "mail_01JD0000000000000000000001", WorkspaceID: ws.ID, To: "ann@acme.test",
		Subject: `API key "Zapier" expires in 30 days`, Body: "Rotate it.", CreatedAt: now}
	n := latchkey.Notice{KeyID: k.ID, WorkspaceID: ws.ID, Window: latchkey.Duration(30 * latchkey.Day), ExpiresAt: exp, At: now}
	ev := latchkey.Event{ID: "evt_01JD0000000000000000000003", At: now, Action: latchkey.EventKeyExpiring, Target: k.ID}
	if err := db.RecordNotice(ctx, n, []*latchkey.Mail{m}, ev); err != nil {
		t.Fatal(err)
	}
	return db, m
}

func stored(t *testing.T, db *sqlite.DB, ws string) *latchkey.Mail {
	t.Helper()
	list, _, err := db.Mails(context.Background(), ws, 10, "")
	if err != nil || len(list) != 1 {
		t.Fatalf("Mails: got %d (%v), want 1", len(list), err)
	}
	return list[0]
}

func TestDelivery(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db, m := outbox(t, c.Now())
	srv, url := startSMTP(t, 0)
	s, err := notify.New(notify.Config{Store: db, URL: url, From: "latchkey@localhost", Now: c.Now})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendDue(context.Background()); err != nil {
		t.Fatalf("SendDue: got %v, want nil", err)
	}
	got := srv.messages()
	if len(got) != 1 || !strings.HasPrefix(got[0], "ann@acme.test\n") || !strings.Contains(got[0], "Subject: API key") ||
		!strings.Contains(got[0], "Rotate it.") || !strings.Contains(got[0], "From: <latchkey@localhost>") {
		t.Fatalf("delivered: got %q, want the mail to ann@acme.test", got)
	}
	if sm := stored(t, db, m.WorkspaceID); sm.SentAt == nil || sm.Attempts != 1 || sm.NextAttemptAt != nil {
		t.Fatalf("stored mail: got %+v, want sent after 1 attempt", sm)
	}
	// Nothing is due any more.
	if err := s.SendDue(context.Background()); err != nil || len(srv.messages()) != 1 {
		t.Fatalf("second pass: got %d messages (%v), want still 1", len(srv.messages()), err)
	}
}

func TestFailedDeliveryIsRetried(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db, m := outbox(t, c.Now())
	srv, url := startSMTP(t, 2)
	reg := prometheus.NewRegistry()
	s, err := notify.New(notify.Config{Store: db, URL: url, From: "latchkey@localhost", Now: c.Now, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for attempt, wait := range []time.Duration{latchkey.RetryBackoff(1), latchkey.RetryBackoff(2)} {
		if err := s.SendDue(ctx); err != nil {
			t.Fatalf("SendDue: got %v, want nil (failures are recorded)", err)
		}
		sm := stored(t, db, m.WorkspaceID)
		if sm.SentAt != nil || sm.Attempts != attempt+1 || !strings.Contains(sm.LastError, "try again later") ||
			sm.NextAttemptAt == nil || !sm.NextAttemptAt.Equal(c.Now().Add(wait)) {
			t.Fatalf("after failure %d: got %+v, want unsent, %d attempts, the error, retry in %v", attempt+1, sm, attempt+1, wait)
		}
		c.Add(wait - time.Second)
		if err := s.SendDue(ctx); err != nil || stored(t, db, m.WorkspaceID).Attempts != attempt+1 {
			t.Fatalf("before the retry is due: got another attempt (%v), want none", err)
		}
		c.Add(time.Second)
	}
	if err := s.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if sm := stored(t, db, m.WorkspaceID); sm.SentAt == nil || sm.Attempts != 3 || sm.LastError != "" || len(srv.messages()) != 1 {
		t.Fatalf("third attempt: got %+v and %d messages, want sent after 3 attempts", sm, len(srv.messages()))
	}
	if got := deliveries(t, reg); got["sent"] != 1 || got["retry"] != 2 || got["gave_up"] != 0 {
		t.Errorf("latchkey_mail_deliveries_total: got %v, want sent 1, retry 2, gave_up 0", got)
	}
}

// deliveries reads latchkey_mail_deliveries_total by outcome.
func deliveries(t *testing.T, reg *prometheus.Registry) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() == "latchkey_mail_deliveries_total" {
			for _, m := range mf.GetMetric() {
				out[m.GetLabel()[0].GetValue()] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

func TestGiveUpAfterMaxAttempts(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db, m := outbox(t, c.Now())
	_, url := startSMTP(t, 100)
	reg := prometheus.NewRegistry()
	s, err := notify.New(notify.Config{Store: db, URL: url, From: "latchkey@localhost", Now: c.Now, MaxAttempts: 2, Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := s.SendDue(context.Background()); err != nil {
			t.Fatal(err)
		}
		c.Add(time.Hour)
	}
	if sm := stored(t, db, m.WorkspaceID); sm.SentAt != nil || sm.Attempts != 2 || sm.NextAttemptAt != nil {
		t.Fatalf("after max attempts: got %+v, want given up (nothing due) after 2", sm)
	}
	if got := deliveries(t, reg); got["sent"] != 0 || got["retry"] != 1 || got["gave_up"] != 1 {
		t.Errorf("latchkey_mail_deliveries_total: got %v, want sent 0, retry 1, gave_up 1", got)
	}
}

func TestBadURLDoesNotLeakPassword(t *testing.T) {
	_, err := notify.New(notify.Config{URL: "ftp://user:s3cret@host", From: "a@b"})
	if err == nil || strings.Contains(err.Error(), "s3cret") {
		t.Fatalf("New with a bad URL: got %v, want an error without the password", err)
	}
}
