package console

import (
	"net/url"
	"strings"
	"testing"
)

// TestAttackOpenRedirectAfterLogin: the login form's next parameter used
// to send people off-site with "/\t/evil.example/phish", which browsers
// read as "//evil.example/phish".
func TestAttackOpenRedirectAfterLogin(t *testing.T) {
	for _, next := range []string{
		"/\t/evil.example/phish", "/\n/evil.example", "/\r/evil.example", "//evil.example", "/\\evil.example",
		"\\/evil.example", "/\\/evil.example", "https://evil.example", "evil.example", " /x", "/ /evil.example",
		"/%09/evil.example", "/\x00/evil.example", "/\u3000/evil.example", "http:/evil.example", "/x\x7f", "",
	} {
		if got := safeNext(next); got != "/" && stays(got) == false {
			t.Errorf("safeNext(%q) = %q, which leaves the site", next, got)
		} else if next != "/%09/evil.example" && got != "/" {
			t.Errorf("safeNext(%q) = %q, want /", next, got)
		}
	}
	for _, next := range []string{"/", "/w/ws_01/keys", "/w/ws_01/keys?status=active&q=a%20b", "/w/ws_01/keys/key_1#usage"} {
		if got := safeNext(next); got != next {
			t.Errorf("safeNext(%q) = %q, want it kept", next, got)
		}
	}
}

// stays reports whether a browser following Location: next from
// https://latchkey.example/login stays on latchkey.example. Browsers drop
// ASCII tabs and newlines and treat backslashes as slashes in http URLs.
func stays(next string) bool {
	clean := strings.Map(func(r rune) rune {
		switch r {
		case '\t', '\n', '\r':
			return -1
		case '\\':
			return '/'
		}
		return r
	}, strings.Trim(next, "\x00\x01\x02\x03\x04\x05\x06\x07\x08\x0b\x0c\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f "))
	base, _ := url.Parse("https://latchkey.example/login")
	u, err := url.Parse(clean)
	if err != nil {
		return false
	}
	r := base.ResolveReference(u)
	return r.Scheme == "https" && r.Host == "latchkey.example" && r.User == nil
}

func FuzzSafeNext(f *testing.F) {
	for _, s := range []string{"/", "/w/ws_01/keys", "/\t/evil.example/phish", "//evil.example", "/\\evil.example", "https://evil.example", "/%2F%2Fevil.example", "/?next=//x", "/#//x"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, next string) {
		got := safeNext(next)
		if got != "/" && got != next {
			t.Fatalf("safeNext(%q) = %q: it must keep the value or answer /", next, got)
		}
		if !stays(got) {
			t.Fatalf("safeNext(%q) = %q leaves the site", next, got)
		}
	})
}
