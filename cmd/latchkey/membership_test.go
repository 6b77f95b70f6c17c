package main

import (
	"crypto/rand"
	"net/http"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/token"
)

// counter reads one labelled counter from an instance's registry.
func counter(t *testing.T, m *Main, name, label, value string) float64 {
	t.Helper()
	mfs, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, mt := range mf.Metric {
			if hasLabel(mt, label, value) {
				sum += mt.GetCounter().GetValue()
			}
		}
	}
	return sum
}

func hasLabel(m *dto.Metric, name, value string) bool {
	for _, l := range m.Label {
		if l.GetName() == name && l.GetValue() == value {
			return true
		}
	}
	return false
}

func waitMembership(t *testing.T, ms ...*Main) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for _, m := range ms {
		for !m.verifier.MembershipReady() {
			if time.Now().After(deadline) {
				t.Fatalf("%s: the membership set did not load", m.URL())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestNewKeyVerifiesAtOnceOnAnotherInstance creates and resets keys on one
// instance and verifies them on the other the moment the call returns: the
// membership set must never refuse a valid key as unknown.
func TestNewKeyVerifiesAtOnceOnAnotherInstance(t *testing.T) {
	c := startCluster(t, 2, nil)
	a, b := c.mains[0], c.mains[1]
	waitMembership(t, a, b)
	hc := c.login(t, a)
	for i := range 20 {
		id, secret := c.createKey(t, hc, a)
		if got := verifyOn(t, b, secret); got != "" {
			t.Fatalf("round %d: a key created on a answers %q on b at once, want valid", i, got)
		}
		if i%4 != 0 {
			continue
		}
		got := send(t, hc, "POST", a.URL()+"/v1/workspaces/"+c.ws+"/keys/"+id+"/reset", map[string]any{"grace_period": "1h"})
		if got.status != 200 {
			t.Fatalf("reset: %d %s", got.status, got.raw)
		}
		fresh := got.body["secret"].(string)
		for _, s := range []string{fresh, secret} {
			if got := verifyOn(t, b, s); got != "" {
				t.Fatalf("round %d: after a reset on a, b answers %q, want valid (new secret, and the old one in its grace period)", i, got)
			}
		}
	}
}

// TestUnknownKeyFloodSkipsTheStore floods one instance of two with distinct
// well-formed tokens no key has: none may read the store, and a key created
// on the other instance during the flood still verifies at once.
func TestUnknownKeyFloodSkipsTheStore(t *testing.T) {
	c := startCluster(t, 2, nil)
	a, b := c.mains[0], c.mains[1]
	waitMembership(t, a, b)
	hc := c.login(t, a)
	format, _ := token.NewFormat("lk")
	tokens := make([]string, 400)
	for i := range tokens {
		tok, _, err := format.New(rand.Reader, latchkey.Production)
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = tok
	}
	reads := counter(t, b, "latchkey_verify_cache_lookups_total", "result", "miss")
	var wg sync.WaitGroup
	for w := range 8 {
		wg.Go(func() {
			for _, tok := range tokens[w*50 : (w+1)*50] {
				got := send(t, http.DefaultClient, "GET", b.URL()+"/v1/verify", nil, "X-API-Key: "+tok)
				if got.status != 401 || got.errCode() != "key_invalid" {
					t.Errorf("unknown token: %d %s, want 401 key_invalid", got.status, got.raw)
					return
				}
			}
		})
	}
	for i := range 5 {
		_, secret := c.createKey(t, hc, a)
		if got := verifyOn(t, b, secret); got != "" {
			t.Errorf("round %d: during the flood, a key created on a answers %q on b, want valid", i, got)
		}
	}
	wg.Wait()
	// The five new keys are one store read each; the flood is none.
	if n := counter(t, b, "latchkey_verify_cache_lookups_total", "result", "miss") - reads; n != 5 {
		t.Fatalf("b read the store %v times, want 5 (the new keys), none for 400 unknown tokens", n)
	}
	fenced := counter(t, b, "latchkey_verify_membership_total", "result", "fenced")
	t.Logf("400 unknown tokens on 8 connections: %v refused after a fence, no store read", fenced)
	if fenced < 400 {
		t.Fatalf("fenced refusals: got %v, want 400", fenced)
	}
}
