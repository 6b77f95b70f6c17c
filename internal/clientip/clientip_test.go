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
	}
	if _, err := New([]string{"not an address"}); err == nil {
		t.Error("a bad trusted proxy was accepted")
	}
}
