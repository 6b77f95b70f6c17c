package jobs_test

import (
	"context"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/jobs"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/manage/managetest"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/verify"
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

type env struct {
	t      *testing.T
	ctx    context.Context
	store  *sqlite.DB
	svc    *manage.Service
	v      *verify.Verifier
	clock  *clock
	runner *jobs.Runner
	ws     string
	owner  latchkey.Principal
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
	v := verify.New(verify.Config{Store: store, Usage: store, Format: format, Now: c.Now})
	svc := manage.New(manage.Config{Store: store, Format: format, Invalidator: v, Now: c.Now})
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	p, err := svc.Principal(ctx, manage.Caller{User: first.Owner, IP: "192.0.2.1"}, first.Workspace.ID)
	if err != nil {
		t.Fatal(err)
	}
	r := jobs.New(jobs.Config{Store: store, Invalidator: v, Now: c.Now, BaseURL: "https://latchkey.example"})
	return &env{t: t, ctx: ctx, store: store, svc: svc, v: v, clock: c, runner: r, ws: first.Workspace.ID, owner: p}
}

// member adds a member and returns them as a principal.
func (e *env) member(email string, role latchkey.Role) latchkey.Principal {
	e.t.Helper()
	m := managetest.Join(e.t, e.svc, e.owner, e.ws, manage.AddMember{Email: email, Role: role}, "a long enough password")
	u, err := e.store.User(e.ctx, m.UserID)
	if err != nil {
		e.t.Fatal(err)
	}
	p, err := e.svc.Principal(e.ctx, manage.Caller{User: u, IP: "192.0.2.1"}, e.ws)
	if err != nil {
		e.t.Fatal(err)
	}
	return p
}

func (e *env) create(p latchkey.Principal, name, expiresIn string) (*latchkey.Key, string) {
	e.t.Helper()
	k, secret, err := e.svc.CreateKey(e.ctx, p, e.ws, manage.CreateKey{Name: name, Owner: latchkey.OwnerWorkspace, ExpiresIn: expiresIn})
	if err != nil {
		e.t.Fatalf("CreateKey(%s): %v", name, err)
	}
	return k, secret
}

// windows sets the workspace's expiry notice windows.
func (e *env) windows(ws ...time.Duration) {
	e.t.Helper()
	_, err := e.store.UpdateSettings(e.ctx, e.ws, func(s *latchkey.Settings) (*latchkey.Event, error) {
		s.Expiration.NoticeBefore = nil
		for _, w := range ws {
			s.Expiration.NoticeBefore = append(s.Expiration.NoticeBefore, latchkey.Duration(w))
		}
		return &latchkey.Event{ID: "evt_01JD00000000000000000000W" + strconv.Itoa(len(ws)), At: e.clock.Now(),
			Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventSettingsUpdated}, nil
	})
	if err != nil {
		e.t.Fatal(err)
	}
}

// tick sets the clock and runs one tick.
func (e *env) tick(at time.Time) {
	e.t.Helper()
	e.clock.Set(at)
	if err := e.runner.RunOnce(e.ctx); err != nil {
		e.t.Fatalf("RunOnce at %v: %v", at, err)
	}
}

// mailsTo returns the recipients of the outbox, sorted.
func (e *env) recipients() []string {
	e.t.Helper()
	mails, _, err := e.store.Mails(e.ctx, e.ws, 200, "")
	if err != nil {
		e.t.Fatal(err)
	}
	var to []string
	for _, m := range mails {
		to = append(to, m.To)
	}
	slices.Sort(to)
	return to
}

func (e *env) events(keyID, action string) []*latchkey.Event {
	e.t.Helper()
	evs, _, err := e.store.Events(e.ctx, latchkey.EventFilter{WorkspaceID: e.ws, Target: keyID, Action: action})
	if err != nil {
		e.t.Fatal(err)
	}
	return evs
}

func TestNoticeOncePerWindowToDeduplicatedRecipients(t *testing.T) {
	e := newEnv(t)
	e.member("super@acme.test", latchkey.RoleSuperAdmin)
	admin := e.member("admin@acme.test", latchkey.RoleAdmin)
	e.member("other-admin@acme.test", latchkey.RoleAdmin)
	e.member("member@acme.test", latchkey.RoleMember)
	k, _ := e.create(admin, "Zapier", "1y")
	own, _ := e.create(e.owner, "owned by the owner", "1y")
	revoked, _ := e.create(e.owner, "revoked", "1y")
	if _, err := e.svc.RevokeKey(e.ctx, e.owner, e.ws, revoked.ID); err != nil {
		t.Fatal(err)
	}
	notice := k.ExpiresAt.Add(-30 * latchkey.Day)

	e.tick(notice.Add(-time.Second))
	if got := e.recipients(); len(got) != 0 {
		t.Fatalf("a second before the window: got mails to %v, want none", got)
	}
	e.tick(notice)
	want := []string{"admin@acme.test", "owner@acme.test", "super@acme.test"}
	if got := e.recipients(); !slices.Equal(got, want) {
		t.Fatalf("at the window: got mails to %v, want %v (creator, owners and super admins, one digest each)", got, want)
	}
	for range 3 {
		e.tick(e.clock.Now().Add(time.Hour))
	}
	if got := e.recipients(); len(got) != len(want) {
		t.Fatalf("after more ticks: got %d mails, want still %d", len(got), len(want))
	}
	for _, key := range []*latchkey.Key{k, own} {
		evs := e.events(key.ID, latchkey.EventKeyExpiring)
		if len(evs) != 1 || evs[0].Actor.Type != latchkey.ActorSystem {
			t.Fatalf("key.expiring events of %s: got %v, want one by the system", key.Name, evs)
		}
	}
	if evs := e.events(revoked.ID, latchkey.EventKeyExpiring); len(evs) != 0 {
		t.Fatalf("revoked key: got %d key.expiring events, want none", len(evs))
	}
	mails, _, _ := e.store.Mails(e.ctx, e.ws, 200, "")
	i := slices.IndexFunc(mails, func(m *latchkey.Mail) bool { return m.To == "admin@acme.test" })
	for _, s := range []string{k.Name, k.ID, "/reset", "expires on", "in 30 days"} {
		if !strings.Contains(mails[i].Body, s) {
			t.Errorf("mail: got %q, want it to mention %q", mails[i].Body, s)
		}
	}
	if strings.Contains(mails[i].Body, own.ID) {
		t.Errorf("the creator's digest lists a key they did not create: %q", mails[i].Body)
	}
	i = slices.IndexFunc(mails, func(m *latchkey.Mail) bool { return m.To == "owner@acme.test" })
	if m := mails[i]; m.Subject != jobs.Subject(2) || !strings.Contains(m.Body, k.ID) || !strings.Contains(m.Body, own.ID) {
		t.Errorf("the owner's digest: got %q\n%s, want both keys", m.Subject, m.Body)
	}
}

func TestNoticePerWindow(t *testing.T) {
	e := newEnv(t)
	_, err := e.store.UpdateSettings(e.ctx, e.ws, func(s *latchkey.Settings) (*latchkey.Event, error) {
		s.Expiration.NoticeBefore = []latchkey.Duration{latchkey.Duration(30 * latchkey.Day), latchkey.Duration(7 * latchkey.Day)}
		return &latchkey.Event{ID: "evt_01JD0000000000000000000001", At: e.clock.Now(),
			Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventSettingsUpdated}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	k, _ := e.create(e.owner, "Zapier", "1y")
	steps := []struct {
		at    time.Time
		mails int
	}{
		{k.ExpiresAt.Add(-30*latchkey.Day - time.Second), 0},
		{k.ExpiresAt.Add(-30 * latchkey.Day), 1},
		{k.ExpiresAt.Add(-8 * latchkey.Day), 1},
		{k.ExpiresAt.Add(-7 * latchkey.Day), 2},
		{k.ExpiresAt.Add(-time.Hour), 2},
	}
	for _, s := range steps {
		e.tick(s.at)
		if got := len(e.recipients()); got != s.mails {
			t.Fatalf("at expiry%v: got %d mails, want %d", s.at.Sub(*k.ExpiresAt), got, s.mails)
		}
	}
	if evs := e.events(k.ID, latchkey.EventKeyExpiring); len(evs) != 2 {
		t.Fatalf("key.expiring events: got %d, want 2", len(evs))
	}

	// A key that entered both windows while nobody ran the jobs (the
	// service was down) gets one mail, not two.
	late, _ := e.create(e.owner, "late", "1y")
	e.tick(late.ExpiresAt.Add(-5 * latchkey.Day))
	if got := len(e.recipients()); got != 3 {
		t.Fatalf("a key inside both windows at once: got %d mails in all, want 3", got)
	}
	if evs := e.events(late.ID, latchkey.EventKeyExpiring); len(evs) != 2 {
		t.Fatalf("key.expiring events of the late key: got %d, want 2 (one per window)", len(evs))
	}

	// A key created inside both windows tells nobody anything new.
	short, _ := e.create(e.owner, "short", "5d")
	e.tick(e.clock.Now().Add(time.Minute))
	if got := len(e.recipients()); got != 3 {
		t.Fatalf("a key created inside both windows: got %d mails in all, want still 3", got)
	}
	if evs := e.events(short.ID, latchkey.EventKeyExpiring); len(evs) != 0 {
		t.Fatalf("key.expiring events of the short key: got %d, want none", len(evs))
	}
}

// TestNoNoticeForTheWindowAKeyWasCreatedIn: under the default 30-day window
// a 30-day key is neither expiring nor mailed about when it is made; under
// windows of 30 days and 1 hour it is mailed once, an hour before, in words.
func TestNoNoticeForTheWindowAKeyWasCreatedIn(t *testing.T) {
	e := newEnv(t)
	k, _ := e.create(e.owner, "thirty days", "30d")
	notice := 30 * latchkey.Day
	if got := k.Status(e.clock.Now(), k.NoticeWindow([]latchkey.Duration{latchkey.Duration(notice)})); got != latchkey.StatusActive {
		t.Fatalf("a new 30-day key under a 30-day window: status %s, want active", got)
	}
	for _, at := range []time.Time{e.clock.Now(), e.clock.Now().Add(time.Hour), k.ExpiresAt.Add(-2 * time.Hour)} {
		e.tick(at)
		if got := e.recipients(); len(got) != 0 {
			t.Fatalf("at expiry%v: got mails to %v, want none (the key was made inside the window)", at.Sub(*k.ExpiresAt), got)
		}
	}

	_, err := e.store.UpdateSettings(e.ctx, e.ws, func(s *latchkey.Settings) (*latchkey.Event, error) {
		s.Expiration.NoticeBefore = []latchkey.Duration{latchkey.Duration(30 * latchkey.Day), latchkey.Duration(time.Hour)}
		return &latchkey.Event{ID: "evt_01JD0000000000000000000002", At: e.clock.Now(),
			Actor: latchkey.Actor{Type: latchkey.ActorSystem}, Action: latchkey.EventSettingsUpdated}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	windows := []latchkey.Duration{latchkey.Duration(30 * latchkey.Day), latchkey.Duration(time.Hour)}
	if got := k.Status(k.ExpiresAt.Add(-2*time.Hour), k.NoticeWindow(windows)); got != latchkey.StatusActive {
		t.Fatalf("two hours before expiry under windows of 30 days and 1 hour: status %s, want active", got)
	}
	if got := k.Status(k.ExpiresAt.Add(-time.Hour), k.NoticeWindow(windows)); got != latchkey.StatusExpiring {
		t.Fatalf("an hour before expiry: status %s, want expiring", got)
	}
	e.tick(k.ExpiresAt.Add(-time.Hour))
	mails, _, err := e.store.Mails(e.ctx, e.ws, 200, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(mails) != 1 {
		t.Fatalf("an hour before expiry: got %d mails, want 1", len(mails))
	}
	if body := mails[0].Body; !strings.Contains(body, ", in 1 hour\n") || strings.Contains(body, "0s") {
		t.Fatalf("mail: got %q, want the time left spelled \"in 1 hour\"", body)
	}
}
