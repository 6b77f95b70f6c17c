package manage_test

import (
	"context"
	"crypto/rand"
	"net/netip"
	"path/filepath"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/latchkey/latchkey/internal/verify"
)

// countingStore is the real SQLite store, with its key lookups counted.
type countingStore struct {
	*sqlite.DB
	lookups atomic.Int64
}

func (c *countingStore) KeyByHash(ctx context.Context, h [32]byte) (*latchkey.Key, error) {
	c.lookups.Add(1)
	return c.DB.KeyByHash(ctx, h)
}

// TestLeakBadChecksumCostsNoLookup: a report of look-alikes and junk
// reaches the store for none of them; a well-formed token costs exactly one
// lookup, whether or not it is a key.
func TestLeakBadChecksumCostsNoLookup(t *testing.T) {
	ctx := context.Background()
	db, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "latchkey.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := &countingStore{DB: db}
	format, _ := token.NewFormat("lk")
	svc := manage.New(manage.Config{Store: st, Format: format, Now: func() time.Time { return time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC) }})
	first, err := svc.Init(ctx, "Acme", "owner@acme.test", "a long enough password")
	if err != nil {
		t.Fatal(err)
	}
	owner, _ := svc.Principal(ctx, manage.Caller{User: first.Owner}, first.Workspace.ID)
	_, secret, err := svc.CreateKey(ctx, owner, first.Workspace.ID, manage.CreateKey{Name: "k"})
	if err != nil {
		t.Fatal(err)
	}
	var junk []manage.LeakReport
	for i := range len(secret) - len("lk_prod_") {
		b := []byte(secret)
		b[len("lk_prod_")+i] ^= 0x01 // one character off: the checksum catches it
		junk = append(junk, manage.LeakReport{Token: string(b)})
	}
	junk = append(junk, manage.LeakReport{Token: ""}, manage.LeakReport{Token: "lk_prod_"}, manage.LeakReport{Token: secret + "x"},
		manage.LeakReport{Token: "lk_test_" + secret[8:]})
	before := st.lookups.Load()
	labels, err := svc.ReportLeaksFromGitHub(ctx, junk)
	if err != nil {
		t.Fatal(err)
	}
	if n := st.lookups.Load() - before; n != 0 {
		t.Fatalf("lookups for %d malformed tokens: got %d, want 0", len(junk), n)
	}
	for i, l := range labels {
		if l.Label != manage.FalsePositive {
			t.Fatalf("junk %d: got %s, want false_positive", i, l.Label)
		}
	}
	unknown, _, _ := format.New(rand.Reader, latchkey.Production)
	before = st.lookups.Load()
	if _, err := svc.ReportLeaksFromGitHub(ctx, []manage.LeakReport{{Token: unknown}, {Token: secret}}); err != nil {
		t.Fatal(err)
	}
	if n := st.lookups.Load() - before; n != 2 {
		t.Fatalf("lookups for two well-formed tokens: got %d, want 2", n)
	}
}

func TestLeakReportTooManyTokens(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.ReportLeaksFromGitHub(context.Background(), make([]manage.LeakReport, manage.MaxLeakReports+1))
	if latchkey.ErrorCode(err) != latchkey.ETOOLARGE {
		t.Fatalf("got %v, want ETOOLARGE", err)
	}
}

func TestAllowlistCreateAndEdit(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	k, secret := e.create(t, manage.CreateKey{Name: "bound", AllowedIPs: []string{" 10.0.0.0/8", "2001:DB8::/32", "192.0.2.7", "::ffff:198.51.100.0/120", "10.0.0.0/8"}})
	if want := []string{"10.0.0.0/8", "2001:db8::/32", "192.0.2.7/32", "198.51.100.0/24"}; !slices.Equal(k.AllowedIPs, want) {
		t.Fatalf("allowed_ips: got %v, want %v", k.AllowedIPs, want)
	}
	check := func(ip string) latchkey.VerifyCode {
		var a verify.Request
		a.Addr = mustAddr(ip)
		return e.v.Check(ctx, secret, a).Code
	}
	if got := check("198.51.100.9"); got != "" {
		t.Fatalf("from an allowed address: got %q, want valid", got)
	}
	for _, bad := range [][]string{{"10.1.2.3/8"}, {"10.0.0.0/33"}, {"example.com"}, {"fe80::1%eth0"}, make([]string, 65)} {
		if _, err := e.svc.UpdateKey(ctx, e.owner, e.ws, k.ID, manage.UpdateKey{AllowedIPs: &bad}); latchkey.ErrorCode(err) != latchkey.EINVALID {
			t.Errorf("allowed_ips %v: got %v, want EINVALID", bad[:min(len(bad), 2)], err)
		}
	}
	narrow := []string{"203.0.113.0/24"}
	if _, err := e.svc.UpdateKey(ctx, e.owner, e.ws, k.ID, manage.UpdateKey{AllowedIPs: &narrow}); err != nil {
		t.Fatal(err)
	}
	if got := check("198.51.100.9"); got != latchkey.IPNotAllowed {
		t.Fatalf("after the edit, from the old network: got %q, want ip_not_allowed", got)
	}
	if got := check("203.0.113.9"); got != "" {
		t.Fatalf("after the edit, from the new network: got %q, want valid", got)
	}
	none := []string{}
	got, err := e.svc.UpdateKey(ctx, e.owner, e.ws, k.ID, manage.UpdateKey{AllowedIPs: &none})
	if err != nil || got.AllowedIPs != nil {
		t.Fatalf("clearing: got %v, %v, want no allowlist", got.AllowedIPs, err)
	}
	if got := check("192.0.2.200"); got != "" {
		t.Fatalf("after clearing: got %q, want valid from anywhere", got)
	}
}

func mustAddr(s string) netip.Addr { return netip.MustParseAddr(s) }
