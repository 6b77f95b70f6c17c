package clientip

import (
	"net/http"
	"testing"
)

func TestIP(t *testing.T) {
	res, err := New([]string{"10.0.0.0/8", "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, peer, xff, want string
	}{
		{"no proxy", "203.0.113.9:5000", "", "203.0.113.9"},
		{"untrusted peer's header ignored", "203.0.113.9:5000", "1.2.3.4", "203.0.113.9"},
		{"trusted proxy", "10.1.2.3:443", "198.51.100.4", "198.51.100.4"},
		{"chain of trusted proxies", "10.1.2.3:443", "198.51.100.4, 192.0.2.7, 10.9.9.9", "198.51.100.4"},
		{"spoofed left part ignored", "10.1.2.3:443", "6.6.6.6, 198.51.100.4", "198.51.100.4"},
		{"malformed hop", "10.1.2.3:443", "198.51.100.4, junk", "10.1.2.3"},
		{"only trusted hops", "10.1.2.3:443", "10.0.0.1", "10.1.2.3"},
		{"ipv6 peer", "[2001:db8::1]:443", "", "2001:db8::1"},
		{"trailing comma", "10.1.2.3:443", "198.51.100.4,", "10.1.2.3"},
	}
	for _, c := range cases {
		r, _ := http.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.peer
		if c.xff != "" {
			r.Header.Set("X-Forwarded-For", c.xff)
		}
		if got := res.IP(r); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
		if got := res.Addr(r); got.String() != c.want {
			t.Errorf("%s: Addr got %v, want %q", c.name, got, c.want)
		}
	}
	if _, err := New([]string{"not an address"}); err == nil {
		t.Error("a bad trusted proxy was accepted")
	}
}

// TestAddrAllocatesNothing: the verify path resolves the client of every
// forward-auth request.
func TestAddrAllocatesNothing(t *testing.T) {
	res, _ := New([]string{"10.0.0.0/8"})
	r, _ := http.NewRequest("GET", "/", nil)
	r.RemoteAddr = "10.1.2.3:443"
	r.Header.Set("X-Forwarded-For", "2001:db8::7, 198.51.100.4, 10.0.0.1")
	if got := res.Addr(r); got.String() != "198.51.100.4" {
		t.Fatalf("Addr: got %v, want 198.51.100.4", got)
	}
	r.RemoteAddr = "[::ffff:203.0.113.9]:443"
	if got := res.Addr(r); got.String() != "203.0.113.9" {
		t.Fatalf("Addr of a mapped peer: got %v, want 203.0.113.9", got)
	}
	r.RemoteAddr = "10.1.2.3:443"
	if n := testing.AllocsPerRun(100, func() { res.Addr(r) }); n != 0 {
		t.Fatalf("Addr: got %v allocations, want 0", n)
	}
}
