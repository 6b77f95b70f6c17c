package jobs_test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jobs"
	"github.com/latchkey/latchkey/internal/manage"
)

// A member names a personal key like a security alert and lets it expire in
// an hour, so that every owner gets mail that seems to come from latchkey
// with the attacker's words (and a header injection) as its Subject.
func TestAttackKeyNameAsMailSubject(t *testing.T) {
	e := newEnv(t)
	e.windows(30*latchkey.Day, 30*time.Minute)
	member := e.member("mallory@acme.test", latchkey.RoleMember)
	name := "ACTION REQUIRED: re-login at https://acme-login.example\r\nBcc: victim@elsewhere.test\u202e"
	k, _, err := e.svc.CreateKey(e.ctx, member, e.ws, manage.CreateKey{Name: name, Owner: "me", ExpiresIn: "1h"})
	if err != nil {
		// Names with control characters may be refused outright, which
		// defeats the attack as well; try the printable part.
		name = "ACTION REQUIRED: re-login at https://acme-login.example"
		if k, _, err = e.svc.CreateKey(e.ctx, member, e.ws, manage.CreateKey{Name: name, Owner: "me", ExpiresIn: "1h"}); err != nil {
			t.Fatal(err)
		}
	}
	e.tick(k.ExpiresAt.Add(-30 * time.Minute))
	mails, _, err := e.store.Mails(e.ctx, e.ws, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 2 {
		t.Fatalf("mails: got %d, want 2 (the owner and the key's creator)", len(mails))
	}
	for _, m := range mails {
		if m.Subject != jobs.Subject(1) {
			t.Errorf("subject to %s: got %q, want the fixed %q", m.To, m.Subject, jobs.Subject(1))
		}
		if strings.Contains(m.Subject, "ACTION") || strings.Contains(m.Subject, "Acme") {
			t.Errorf("subject to %s carries tenant text: %q", m.To, m.Subject)
		}
		if !strings.Contains(m.Body, strconv.Quote(name)) || !strings.Contains(m.Body, k.ID) {
			t.Errorf("body to %s: want the name quoted and escaped, and the key id:\n%s", m.To, m.Body)
		}
		if strings.Contains(m.Body, "\r") || strings.Contains(m.Body, "\nBcc:") || strings.Contains(m.Body, "\u202e") {
			t.Errorf("body to %s carries the name's raw control characters:\n%q", m.To, m.Body)
		}
	}
	// The victim loses nothing: the notice is recorded as before.
	if evs := e.events(k.ID, latchkey.EventKeyExpiring); len(evs) != 1 {
		t.Fatalf("key.expiring events: got %d, want 1", len(evs))
	}
}

// A member makes a burst of one-hour personal keys so that every owner and
// super admin gets one expiry mail per key.
func TestAttackExpiryMailFlood(t *testing.T) {
	e := newEnv(t)
	e.windows(30*latchkey.Day, 30*time.Minute)
	e.member("super@acme.test", latchkey.RoleSuperAdmin)
	member := e.member("mallory@acme.test", latchkey.RoleMember)
	var keys []*latchkey.Key
	for i := range 200 {
		k, _, err := e.svc.CreateKey(e.ctx, member, e.ws, manage.CreateKey{Name: "flood " + strconv.Itoa(i), Owner: "me", ExpiresIn: "1h"})
		if err != nil {
			// A key quota may stop the burst earlier; enough got through.
			if i < 20 {
				t.Fatalf("CreateKey %d: %v", i, err)
			}
			break
		}
		keys = append(keys, k)
	}
	e.clock.Set(e.clock.Now().Add(30 * time.Minute))
	for range 3 {
		e.tick(e.clock.Now().Add(time.Minute))
	}
	want := []string{"mallory@acme.test", "owner@acme.test", "super@acme.test"}
	got := e.recipients()
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Fatalf("mails to %v, want one digest each to %v", got, want)
	}
	mails, _, _ := e.store.Mails(e.ctx, e.ws, 50, "")
	for _, m := range mails {
		if m.Subject != jobs.Subject(len(keys)) {
			t.Errorf("subject: got %q, want %q", m.Subject, jobs.Subject(len(keys)))
		}
		for _, k := range keys {
			if !strings.Contains(m.Body, k.ID) {
				t.Fatalf("the digest to %s does not list %s", m.To, k.ID)
			}
		}
	}
	// Nobody loses a notice: each key has its key.expiring.
	for _, k := range keys {
		if evs := e.events(k.ID, latchkey.EventKeyExpiring); len(evs) != 1 {
			t.Fatalf("key.expiring events of %s: got %d, want 1", k.Name, len(evs))
		}
	}
}
