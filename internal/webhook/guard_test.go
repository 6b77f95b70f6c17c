package webhook_test

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/webhook"
)

func TestPublic(t *testing.T) {
	for _, tc := range []struct {
		addr string
		want bool
	}{
		{"93.184.215.14", true},
		{"8.8.8.8", true},
		{"2606:4700:4700::1111", true},
		{"127.0.0.1", false},
		{"127.1.2.3", false},
		{"::1", false},
		{"0.0.0.0", false},
		{"0.1.2.3", false},
		{"::", false},
		{"10.0.0.1", false},
		{"172.16.5.4", false},
		{"192.168.1.1", false},
		{"100.64.0.1", false},
		{"100.127.255.254", false},
		{"169.254.169.254", false},
		{"169.254.1.1", false},
		{"fd00:ec2::254", false},
		{"fc00::1", false},
		{"fe80::1", false},
		{"fe80::1%eth0", false},
		{"ff02::1", false},
		{"224.0.0.1", false},
		{"255.255.255.255", false},
		{"240.0.0.1", false},
		{"198.18.0.1", false},
		{"192.0.2.1", false},
		{"::ffff:127.0.0.1", false},
		{"::ffff:169.254.169.254", false},
		{"::ffff:10.0.0.1", false},
		{"::ffff:8.8.8.8", true},
		{"64:ff9b::7f00:1", false},    // NAT64 of 127.0.0.1
		{"64:ff9b::a9fe:a9fe", false}, // NAT64 of 169.254.169.254
		{"64:ff9b::808:808", true},    // NAT64 of 8.8.8.8
		{"2002:7f00:1::", false},      // 6to4 of 127.0.0.1
		{"2002:c0a8:101::1", false},   // 6to4 of 192.168.1.1
		{"2001:db8::1", false},
		{"2001::1", false}, // Teredo
		{"fec0::1", false},
	} {
		t.Run(tc.addr, func(t *testing.T) {
			if got := webhook.Public(netip.MustParseAddr(tc.addr)); got != tc.want {
				t.Fatalf("Public(%s): got %v, want %v", tc.addr, got, tc.want)
			}
		})
	}
}

// closedPort returns a loopback address where nothing listens.
func closedPort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	return addr
}

// revokeWithCallback creates a key calling url and revokes it, which
// enqueues a key.revoked webhook; it returns the delivery's attempts after
// one pass of s.
func (e *env) revokeWithCallback(t *testing.T, s *webhook.Sender, url string) []*latchkey.WebhookAttempt {
	t.Helper()
	ctx := context.Background()
	k, _, err := e.svc.CreateKey(ctx, e.owner, e.ws, manage.CreateKey{Name: "hooked", CallbackURL: url})
	if err != nil {
		t.Fatalf("CreateKey(callback %s): %v", url, err)
	}
	if _, err := e.svc.RevokeKey(ctx, e.owner, e.ws, k.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	list, _, err := e.store.WebhookDeliveries(ctx, e.ws, 50, "")
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range list {
		if d.KeyID == k.ID {
			a, err := e.store.WebhookAttempts(ctx, d.ID)
			if err != nil {
				t.Fatal(err)
			}
			return a
		}
	}
	t.Fatalf("no delivery for key %s", k.ID)
	return nil
}

// A member sets a key's callback URL to latchkey's own loopback (or any
// internal service) and revokes the key, hoping latchkey calls it for them
// and shows the answer, or tells open ports from closed ones.
func TestAttackCallbackURLScansLoopback(t *testing.T) {
	e := newEnv(t)
	internal := newReceiver(t, http.StatusNotFound)
	guarded := webhook.New(webhook.Config{Store: e.store, Now: e.clock.Now})

	open := e.revokeWithCallback(t, guarded, internal.srv.URL+"/internal/admin")
	closed := e.revokeWithCallback(t, guarded, "http://"+closedPort(t)+"/internal/admin")
	if n := len(internal.got()); n != 0 {
		t.Fatalf("internal service: got %d requests, want none", n)
	}
	if len(open) != 1 || len(closed) != 1 {
		t.Fatalf("attempts: got %d and %d, want one each", len(open), len(closed))
	}
	if open[0].StatusCode != 0 || closed[0].StatusCode != 0 || open[0].Error != closed[0].Error || open[0].Error == "" {
		t.Fatalf("an open and a closed port: got %+v and %+v, want the same failure", open[0], closed[0])
	}

	// Where the operator allows private addresses, a receiver's answer is
	// still never kept: only its status. A closed port and a refused one
	// fail alike.
	allowed := webhook.New(webhook.Config{Store: e.store, Now: e.clock.Now, AllowPrivate: true})
	got := e.revokeWithCallback(t, allowed, internal.srv.URL+"/internal/admin")
	if len(got) != 1 || got[0].StatusCode != http.StatusNotFound || got[0].Error != "HTTP 404" {
		t.Fatalf("with private addresses allowed: got %+v, want HTTP 404 and nothing of the body", got)
	}
	if len(internal.got()) != 1 {
		t.Fatalf("receiver: got %d requests, want 1", len(internal.got()))
	}
	refused := e.revokeWithCallback(t, allowed, "http://"+closedPort(t)+"/")
	if refused[0].StatusCode != 0 || refused[0].Error != open[0].Error {
		t.Fatalf("closed port with private allowed: got %+v, want %q", refused[0], open[0].Error)
	}
	ds, _, _ := e.store.WebhookDeliveries(context.Background(), e.ws, 50, "")
	for _, d := range ds {
		if strings.Contains(d.LastError, "receiver says") {
			t.Fatalf("delivery shows the answer's body: %q", d.LastError)
		}
	}
}

// A callback URL whose name resolves to a loopback address is judged by the
// address dialled, not the name: localhost is refused like 127.0.0.1.
func TestAttackCallbackURLNameResolvesToLoopback(t *testing.T) {
	e := newEnv(t)
	rcv := newReceiver(t, http.StatusOK)
	_, port, _ := net.SplitHostPort(rcv.srv.Listener.Addr().String())
	url := "http://localhost:" + port + "/hook"

	got := e.revokeWithCallback(t, webhook.New(webhook.Config{Store: e.store, Now: e.clock.Now}), url)
	if n := len(rcv.got()); n != 0 || got[0].StatusCode != 0 {
		t.Fatalf("localhost without permission: got %d requests and %+v, want none", n, got[0])
	}
	// The victim (an operator who allows it) loses nothing.
	got = e.revokeWithCallback(t, webhook.New(webhook.Config{Store: e.store, Now: e.clock.Now, AllowPrivate: true}), url)
	if len(rcv.got()) != 1 || got[0].StatusCode != http.StatusOK {
		t.Fatalf("localhost with permission: got %d requests and %+v, want it delivered", len(rcv.got()), got[0])
	}
}
