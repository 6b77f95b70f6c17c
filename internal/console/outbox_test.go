package console_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// The outbox shows who was told what: workspace owners, super admins and
// admins read it (ActOutboxRead); members neither see it nor its link.
func TestOutboxAuthorization(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k, _ := e.createKey(t, e.owner, manage.CreateKey{Name: "CRM"})
	now := time.Now().UTC().Truncate(time.Microsecond)
	m := &latchkey.Mail{ID: "mail_01JD0000000000000000000001", WorkspaceID: e.ws, To: "owner@acme.test",
		Subject: `API key "CRM" expires in 30 days`, Body: "Rotate it.", CreatedAt: now}
	n := latchkey.Notice{KeyID: k.ID, WorkspaceID: e.ws, Window: latchkey.Duration(30 * latchkey.Day), ExpiresAt: *k.ExpiresAt, At: now}
	ev := latchkey.Event{ID: "evt_01JD0000000000000000000009", At: now, Actor: latchkey.Actor{Type: latchkey.ActorSystem},
		Action: latchkey.EventKeyExpiring, Target: k.ID}
	if err := e.store.RecordNotice(ctx, n, []*latchkey.Mail{m}, ev); err != nil {
		t.Fatal(err)
	}
	e.addMember(t, "super@acme.test", latchkey.RoleSuperAdmin)
	e.addMember(t, "admin@acme.test", latchkey.RoleAdmin)
	e.addMember(t, "member@acme.test", latchkey.RoleMember)
	tests := []struct {
		email string
		want  int
	}{
		{"owner@acme.test", http.StatusOK},
		{"super@acme.test", http.StatusOK},
		{"admin@acme.test", http.StatusOK},
		{"member@acme.test", http.StatusForbidden},
	}
	for _, tt := range tests {
		t.Run(tt.email, func(t *testing.T) {
			hc := e.login(t, tt.email)
			got := e.get(t, hc, "/w/"+e.ws+"/outbox")
			if got.status != tt.want {
				t.Fatalf("GET outbox: got %d, want %d", got.status, tt.want)
			}
			if shown := strings.Contains(got.body, "expires in 30 days"); shown != (tt.want == http.StatusOK) {
				t.Errorf("mail subject shown: got %v, want %v", shown, tt.want == http.StatusOK)
			}
			keys := e.get(t, hc, "/w/"+e.ws+"/keys")
			if link := strings.Contains(keys.body, `/outbox"`); link != (tt.want == http.StatusOK) {
				t.Errorf("nav link to the outbox: got %v, want %v", link, tt.want == http.StatusOK)
			}
		})
	}
}
