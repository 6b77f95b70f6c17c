package webhook_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// signatures returns which of secrets sign h, in the order of its
// webhook-signature header, computed here rather than with webhook.Sign.
func signatures(t *testing.T, h hit, secrets ...string) []string {
	t.Helper()
	id, ts := h.header.Get("webhook-id"), h.header.Get("webhook-timestamp")
	var got []string
	for _, sig := range strings.Fields(h.header.Get("webhook-signature")) {
		match := ""
		for _, secret := range secrets {
			key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
			mac := hmac.New(sha256.New, key)
			mac.Write([]byte(id + "." + ts + "." + string(h.body)))
			if sig == "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
				match = secret
			}
		}
		if match == "" {
			t.Fatalf("signature %q matches no secret", sig)
		}
		got = append(got, match)
	}
	return got
}

// A queued retry after a rotation is signed with the new secret and, for
// the overlap, the old one; after the overlap with the new one alone. A
// rotation without overlap (a leaked secret) drops the old one at once.
func TestRotationSignsWithBothSecretsForTheOverlap(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	rcv := newReceiver(t, http.StatusServiceUnavailable)
	k, _, err := e.svc.CreateKey(ctx, e.owner, e.ws, manage.CreateKey{Name: "hooked", Owner: latchkey.OwnerWorkspace, CallbackURL: rcv.srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.RevokeKey(ctx, e.owner, e.ws, k.ID); err != nil {
		t.Fatal(err)
	}
	s := e.sender(20)
	old, err := e.svc.WebhookSecret(ctx, e.owner, e.ws)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if hits := rcv.got(); len(hits) != 1 || !slices.Equal(signatures(t, hits[0], old), []string{old}) {
		t.Fatalf("before rotation: got %d hits, want 1 signed with the secret alone", len(hits))
	}

	info, err := e.svc.RotateWebhookSecretKeeping(ctx, e.owner, e.ws, 24*time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if info.Secret == old || info.PreviousSecretValidUntil == nil || !info.PreviousSecretValidUntil.Equal(e.clock.Now().Add(24*time.Hour)) {
		t.Fatalf("rotation: got %+v, want a new secret with the old one for 24h", info)
	}
	e.clock.Set(e.clock.Now().Add(latchkey.RetryBackoff(1)))
	if err := s.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	hits := rcv.got()
	if len(hits) != 2 || !slices.Equal(signatures(t, hits[1], old, info.Secret), []string{info.Secret, old}) {
		t.Fatalf("retry within the overlap: got %d hits, want the retry signed with the new secret, then the old", len(hits))
	}
	if hits[1].header.Get("webhook-id") != hits[0].header.Get("webhook-id") {
		t.Fatalf("webhook-id changed between attempts: %q, %q", hits[0].header.Get("webhook-id"), hits[1].header.Get("webhook-id"))
	}

	// After the overlap: the new secret alone.
	e.clock.Set(e.clock.Now().Add(25 * time.Hour))
	if err := s.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if hits = rcv.got(); len(hits) != 3 || !slices.Equal(signatures(t, hits[2], old, info.Secret), []string{info.Secret}) {
		t.Fatalf("retry after the overlap: got %d hits, want one signed with the new secret alone", len(hits))
	}

	// A rotation without overlap stops the replaced secret at once.
	leaked := info.Secret
	info, err = e.svc.RotateWebhookSecretKeeping(ctx, e.owner, e.ws, 0)
	if err != nil || info.PreviousSecretValidUntil != nil {
		t.Fatalf("rotation without overlap: got %+v, %v, want no previous secret", info, err)
	}
	e.clock.Set(e.clock.Now().Add(latchkey.RetryBackoff(3)))
	if err := s.SendDue(ctx); err != nil {
		t.Fatal(err)
	}
	if hits = rcv.got(); len(hits) != 4 || !slices.Equal(signatures(t, hits[3], leaked, info.Secret), []string{info.Secret}) {
		t.Fatalf("retry after a rotation without overlap: got %d hits, want one signed with the new secret alone", len(hits))
	}

	for _, bad := range []time.Duration{-time.Second, 7*latchkey.Day + time.Second} {
		if _, err := e.svc.RotateWebhookSecretKeeping(ctx, e.owner, e.ws, bad); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Fatalf("overlap %v: got %v, want EINVALID", bad, err)
		}
	}
	if now, _ := e.svc.WebhookSecret(ctx, e.owner, e.ws); now != info.Secret {
		t.Fatal("a refused rotation changed the secret")
	}
}
