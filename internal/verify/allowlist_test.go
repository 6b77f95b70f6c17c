package verify

import (
	"context"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/clientip"
)

var bound = []string{"10.0.0.0/8", "192.0.2.7/32", "2001:db8::/32"}

func TestAllowlistIPv4AndIPv6(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(func(k *latchkey.Key) { k.AllowedIPs = bound })
	open, _ := f.key()
	v6only, _ := f.key(func(k *latchkey.Key) { k.AllowedIPs = []string{"::/0"} })
	v4only, _ := f.key(func(k *latchkey.Key) { k.AllowedIPs = []string{"0.0.0.0/0"} })
	cases := []struct {
		tok, addr string
		want      latchkey.VerifyCode
	}{
		{tok, "10.1.2.3", ""},
		{tok, "10.255.255.255", ""},
		{tok, "::ffff:10.1.2.3", ""}, // IPv4-mapped is IPv4
		{tok, "11.0.0.1", latchkey.IPNotAllowed},
		{tok, "9.255.255.255", latchkey.IPNotAllowed},
		{tok, "192.0.2.7", ""},
		{tok, "192.0.2.8", latchkey.IPNotAllowed},
		{tok, "2001:db8::1", ""},
		{tok, "2001:db8:ffff:ffff::1", ""},
		{tok, "2001:db9::1", latchkey.IPNotAllowed},
		{tok, "::ffff:192.0.2.8", latchkey.IPNotAllowed},
		{tok, "", latchkey.IPNotAllowed}, // address unknown: a bound key fails closed
		{open, "203.0.113.1", ""},
		{open, "", ""},
		{v6only, "2001:db8::1", ""},
		{v6only, "10.1.2.3", latchkey.IPNotAllowed}, // ::/0 holds no IPv4 address
		{v4only, "10.1.2.3", ""},
		{v4only, "::1", latchkey.IPNotAllowed},
	}
	for _, c := range cases {
		var a netip.Addr
		if c.addr != "" {
			a = netip.MustParseAddr(c.addr)
		}
		if got := f.v.Check(f.ctx, c.tok, Request{Addr: a}).Code; got != c.want {
			t.Errorf("%s from %q: got %q, want %q", f.v.format.Start(c.tok), c.addr, got, c.want)
		}
	}
}

// TestAllowsAgreesWithNetip holds the allocation-free matcher to
// netip.Prefix.Contains (and the domain's AllowsAddr) over random
// prefixes and addresses, near and far from each prefix.
func TestAllowsAgreesWithNetip(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	randAddr := func(v4 bool) netip.Addr {
		var b [16]byte
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		if v4 {
			return netip.AddrFrom4([4]byte(b[:4]))
		}
		return netip.AddrFrom16(b)
	}
	for range 2000 {
		v4 := r.IntN(2) == 0
		base := randAddr(v4)
		p := netip.PrefixFrom(base, r.IntN(base.BitLen()+1)).Masked()
		var b strings.Builder
		appendAllow(&b, p)
		for range 8 {
			a := randAddr(r.IntN(2) == 0)
			if r.IntN(2) == 0 && a.Is4() == v4 {
				// Near the prefix: its address with a few low bits changed.
				s := base.As16()
				s[15] ^= byte(r.IntN(256))
				if v4 {
					a = netip.AddrFrom4([4]byte(s[12:]))
				} else {
					a = netip.AddrFrom16(s)
				}
			}
			if got, want := allows(b.String(), a), p.Contains(a); got != want {
				t.Fatalf("allows(%v, %v): got %v, want %v", p, a, got, want)
			}
			if got, want := latchkey.AllowsAddr([]string{p.String()}, a.String()), p.Contains(a); got != want {
				t.Fatalf("AllowsAddr(%v, %v): got %v, want %v", p, a, got, want)
			}
		}
	}
}

func TestPostHandlerIPField(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(func(k *latchkey.Key) { k.AllowedIPs = bound })
	h := f.v.PostHandler()
	cases := []struct {
		name, body string
		status     int
		code       string
	}{
		{"allowed", `{"key":"` + tok + `","ip":"10.9.8.7"}`, 200, ""},
		{"allowed ipv6", `{"key":"` + tok + `","ip":"2001:db8::42"}`, 200, ""},
		{"elsewhere", `{"key":"` + tok + `","ip":"203.0.113.5"}`, 403, "ip_not_allowed"},
		{"no ip", `{"key":"` + tok + `"}`, 403, "ip_not_allowed"},
		{"not an address", `{"key":"` + tok + `","ip":"10.0.0.0/8"}`, 400, "invalid_request"},
		{"zone", `{"key":"` + tok + `","ip":"fe80::1%eth0"}`, 400, "invalid_request"},
		{"not a string", `{"key":"` + tok + `","ip":17}`, 400, "invalid_request"},
		{"twice", `{"key":"` + tok + `","ip":"10.0.0.1","ip":"10.0.0.2"}`, 400, "invalid_request"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w, a := serve(t, h, httptest.NewRequest("POST", "/v1/keys/verify", strings.NewReader(c.body)))
			if w.Code != c.status {
				t.Fatalf("status: got %d, want %d (%s)", w.Code, c.status, w.Body)
			}
			if c.code != "" && (a.Error == nil || a.Error.Code != c.code) {
				t.Fatalf("code: got %+v, want %s", a.Error, c.code)
			}
			if strings.Contains(w.Body.String(), tok) {
				t.Fatalf("the answer repeats the key")
			}
		})
	}
}

// TestForgedForwardedForIgnored: behind forward-auth the client's address
// comes from X-Forwarded-For only when the TCP peer is a trusted proxy. A
// caller that reaches latchkey directly cannot name an allowed address.
func TestForgedForwardedForIgnored(t *testing.T) {
	for _, c := range []struct {
		name    string
		trusted []string
		want    int
	}{
		{"untrusted peer", []string{"10.0.0.0/8"}, http.StatusForbidden},
		{"trusted proxy", []string{"127.0.0.1"}, http.StatusOK},
	} {
		t.Run(c.name, func(t *testing.T) {
			res, err := clientip.New(c.trusted)
			if err != nil {
				t.Fatal(err)
			}
			f := newFixture(t, func(cfg *Config) { cfg.ClientAddr = res.Addr })
			tok, _ := f.key(func(k *latchkey.Key) { k.AllowedIPs = bound })
			srv := httptest.NewServer(f.v.ForwardAuthHandler()) // a real socket: the peer is 127.0.0.1
			defer srv.Close()
			req, _ := http.NewRequest("GET", srv.URL+"/v1/verify", nil)
			req.Header.Set("X-API-Key", tok)
			req.Header.Set("X-Forwarded-For", "10.1.2.3")
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != c.want {
				t.Fatalf("status: got %d, want %d", resp.StatusCode, c.want)
			}
		})
	}
}

func TestAllowlistChangeTakesEffect(t *testing.T) {
	f := newFixture(t)
	tok, k := f.key()
	from := Request{Addr: netip.MustParseAddr("203.0.113.9")}
	if got := f.v.Check(f.ctx, tok, from).Code; got != "" {
		t.Fatalf("before: got %q, want valid", got)
	}
	f.update(k, func(k *latchkey.Key) { k.AllowedIPs = []string{"10.0.0.0/8"} })
	f.v.InvalidateKey(k.ID)
	if got := f.v.Check(f.ctx, tok, from).Code; got != latchkey.IPNotAllowed {
		t.Fatalf("after binding: got %q, want ip_not_allowed", got)
	}
}

// TestWarmBoundDecisionAllocatesNothing: a key bound to networks is
// decided on the warm path without an allocation, allowed or refused.
func TestWarmBoundDecisionAllocatesNothing(t *testing.T) {
	f := newFixture(t)
	tok, _ := f.key(func(k *latchkey.Key) { k.AllowedIPs = bound })
	ctx := context.Background()
	for _, c := range []struct {
		addr string
		want latchkey.VerifyCode
	}{{"2001:db8::7", ""}, {"10.0.0.1", ""}, {"203.0.113.1", latchkey.IPNotAllowed}} {
		req := Request{Scopes: []string{"items:read"}, Type: "public_api", Addr: netip.MustParseAddr(c.addr)}
		if got := f.v.Check(ctx, tok, req).Code; got != c.want {
			t.Fatalf("%s: got %q, want %q", c.addr, got, c.want)
		}
		if n := testing.AllocsPerRun(200, func() { f.v.Check(ctx, tok, req) }); n != 0 {
			t.Fatalf("%s: got %v allocations, want 0", c.addr, n)
		}
	}
}
