package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey/internal/notify"
)

// TestMailCarriesTheProductsName: with a product name, the mail comes from
// the product (display name), its subject's latchkey prefix is the
// product's and it is signed with it; the message itself is untouched.
func TestMailCarriesTheProductsName(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db, _ := outbox(t, c.Now())
	srv, url := startSMTP(t, 0)
	s, err := notify.New(notify.Config{Store: db, URL: url, From: "keys@acme.test", Now: c.Now, ProductName: "Acme Cloud"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendDue(context.Background()); err != nil {
		t.Fatalf("SendDue: got %v", err)
	}
	got := srv.messages()
	if len(got) != 1 {
		t.Fatalf("delivered: got %d messages, want 1", len(got))
	}
	for _, want := range []string{`From: "Acme Cloud" <keys@acme.test>`, "Rotate it.", "--=20\r\nAcme Cloud"} {
		if !strings.Contains(got[0], want) {
			t.Errorf("the branded mail lacks %q:\n%s", want, got[0])
		}
	}
}
