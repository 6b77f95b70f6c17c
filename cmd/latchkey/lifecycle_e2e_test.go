package main

import (
	"context"
	"io"
	"log/slog"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/token"
)

// smtpSink is an in-process SMTP server that keeps what it receives.
type smtpSink struct {
	mu   sync.Mutex
	msgs []string
}

func (s *smtpSink) NewSession(*smtp.Conn) (smtp.Session, error) { return s, nil }
func (s *smtpSink) Reset()                                      {}
func (s *smtpSink) Logout() error                               { return nil }
func (s *smtpSink) Mail(string, *smtp.MailOptions) error        { return nil }
func (s *smtpSink) Rcpt(string, *smtp.RcptOptions) error        { return nil }
func (s *smtpSink) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.mu.Lock()
	defer s.mu.Unlock()
	s.msgs = append(s.msgs, string(b))
	return err
}

func (s *smtpSink) received() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.msgs...)
}

// The server's jobs notice a key that expires soon and its sender delivers
// the notice over SMTP, with the real wiring.
func TestLifecycleJobsAndMailWiring(t *testing.T) {
	sink := &smtpSink{}
	srv := smtp.NewServer(sink)
	srv.Domain = "localhost"
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })

	ctx, cancel := context.WithCancel(context.Background())
	m, err := NewMain(ctx, Config{
		DataDir: t.TempDir(), Addr: "127.0.0.1:0", TokenPrefix: token.DefaultPrefix, OwnerEmail: "owner@example.com",
		Logger: slog.New(slog.DiscardHandler), Stdout: io.Discard, ShutdownGrace: 5 * time.Second,
		JobsInterval: 20 * time.Millisecond, MailInterval: 20 * time.Millisecond, SMTPURL: "smtp://" + l.Addr().String(),
	})
	if err != nil {
		cancel()
		t.Fatalf("NewMain: %v", err)
	}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		m.Close()
	}()

	wss, err := m.store.Workspaces(ctx)
	if err != nil || len(wss) != 1 {
		t.Fatalf("Workspaces: %v, %v", wss, err)
	}
	members, _ := m.store.Members(ctx, wss[0].ID)
	u, _ := m.store.User(ctx, members[0].UserID)
	p, err := m.service.Principal(ctx, manage.Caller{User: u}, wss[0].ID)
	if err != nil {
		t.Fatal(err)
	}
	// A key is not noticed for a window it was created inside, so the
	// window is a second shorter than the key's minute of life.
	windows := []latchkey.Duration{latchkey.Duration(59 * time.Second)}
	if _, err := m.service.UpdateSettings(ctx, p, wss[0].ID, manage.SettingsPatch{Expiration: &manage.ExpirationPatch{NoticeBefore: &windows}}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := m.service.CreateKey(ctx, p, wss[0].ID, manage.CreateKey{Name: "soon", Owner: latchkey.OwnerWorkspace, ExpiresIn: "1m"}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for len(sink.received()) == 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond) // waiting on real goroutines, not on the clock under test
	}
	if got := sink.received(); len(got) != 1 || !strings.Contains(got[0], "Subject: latchkey: an API key expires soon\r\n") ||
		!strings.Contains(got[0], `named "soon"`) {
		t.Fatalf("delivered: got %q, want one notice about the key", got)
	}
	mails, _, err := m.store.Mails(ctx, wss[0].ID, 10, "")
	if err != nil || len(mails) != 1 || mails[0].To != "owner@example.com" {
		t.Fatalf("outbox: got %v (%v), want one mail to the owner", mails, err)
	}
}

func TestBadSMTPURLIsRefusedAtStart(t *testing.T) {
	_, err := NewMain(context.Background(), Config{
		DataDir: t.TempDir(), Addr: "127.0.0.1:0", TokenPrefix: token.DefaultPrefix, Logger: slog.New(slog.DiscardHandler),
		SMTPURL: "ftp://mailer:s3cret@mail.example",
	})
	if err == nil || strings.Contains(err.Error(), "s3cret") || !strings.Contains(err.Error(), "SMTP URL") {
		t.Fatalf("NewMain: got %v, want an error that does not show the password", err)
	}
}
