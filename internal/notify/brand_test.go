package notify_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/notify"
)

// TestMailCarriesTheProductsName: with a product name, the mail comes from
// the product (display name), its subject's latchkey prefix is the
// product's and it is signed with it; the message itself is untouched.
func TestMailCarriesTheProductsName(t *testing.T) {
	c := &clock{t: time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)}
	db, m := outbox(t, c.Now())
	// A second notice of the same key, whose mail has latchkey's subject.
	n := latchkey.Notice{KeyID: "key_01JD0000000000000000000001", WorkspaceID: m.WorkspaceID, Window: latchkey.Duration(7 * latchkey.Day),
		ExpiresAt: c.Now().Add(latchkey.Year), At: c.Now()}
	m2 := &latchkey.Mail{ID: "mail_01JD0000000000000000000002", WorkspaceID: m.WorkspaceID, To: "ann@acme.test",
		Subject: "latchkey: an API key expires soon", Body: "Soon.", CreatedAt: c.Now()}
	ev := latchkey.Event{ID: "evt_01JD0000000000000000000009", At: c.Now(), Action: latchkey.EventKeyExpiring, Target: n.KeyID}
	if err := db.RecordNotice(context.Background(), n, []*latchkey.Mail{m2}, ev); err != nil {
		t.Fatal(err)
	}
	srv, url := startSMTP(t, 0)
	s, err := notify.New(notify.Config{Store: db, URL: url, From: "keys@acme.test", Now: c.Now, ProductName: "Acme Cloud"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendDue(context.Background()); err != nil {
		t.Fatalf("SendDue: got %v", err)
	}
	got := srv.messages()
	if len(got) != 2 {
		t.Fatalf("delivered: got %d messages, want 2", len(got))
	}
	all := strings.Join(got, "\n")
	for _, want := range []string{`From: "Acme Cloud" <keys@acme.test>`, "Rotate it.", "--=20\r\nAcme Cloud", "Subject: Acme Cloud: an API key expires soon"} {
		if !strings.Contains(all, want) {
			t.Errorf("the branded mail lacks %q:\n%s", want, all)
		}
	}
	if strings.Contains(all, "Subject: latchkey") {
		t.Errorf("a branded mail still names latchkey in its subject:\n%s", all)
	}
}
