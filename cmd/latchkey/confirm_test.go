package main

import (
	"net/http"
	"testing"
	"time"
)

// TestConfirmedChannelSparesStoreReads: on PostgreSQL, a key in steady
// use costs no store read every cacheMaxAge while the invalidation channel
// confirms delivery, and a revocation through another instance still
// reaches the cache at once.
func TestConfirmedChannelSparesStoreReads(t *testing.T) {
	c := startCluster(t, 2, nil)
	a, b := c.mains[0], c.mains[1]
	hc := c.login(t, a)
	id, secret := c.createKey(t, hc, a)
	if got := verifyOn(t, b, secret); got != "" {
		t.Fatalf("first verification on b: %q, want valid", got)
	}
	reads := counter(t, b, "latchkey_verify_cache_lookups_total", "result", "miss")
	for end := time.Now().Add(4 * cacheMaxAge); time.Now().Before(end); time.Sleep(50 * time.Millisecond) {
		if got := verifyOn(t, b, secret); got != "" {
			t.Fatalf("steady use on b: %q, want valid", got)
		}
	}
	if n := counter(t, b, "latchkey_verify_cache_lookups_total", "result", "miss") - reads; n != 0 {
		t.Fatalf("b read the store %v times in %v of steady use, want none while its channel confirms delivery", n, 4*cacheMaxAge)
	}
	age := -1.0
	mfs, err := b.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == "latchkey_invalidation_confirmed_age_seconds" {
			age = mf.Metric[0].GetGauge().GetValue()
		}
	}
	if age < 0 || age > cacheMaxAge.Seconds() {
		t.Fatalf("latchkey_invalidation_confirmed_age_seconds: %v, want between 0 and %v", age, cacheMaxAge.Seconds())
	}
	if got := send(t, hc, "POST", a.URL()+"/v1/workspaces/"+c.ws+"/keys/"+id+"/revoke", nil); got.status != http.StatusOK {
		t.Fatalf("revoke: %d %s", got.status, got.raw)
	}
	d := waitRejected(t, []*Main{b}, secret, "key_revoked", time.Second)
	t.Logf("b refused the revoked key %v after the revoke returned", d)
}
