package password

import (
	"context"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

func TestHashAndVerify(t *testing.T) {
	h, err := Hash("a long enough secret")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=65536,t=3,p=2$") {
		t.Errorf("hash %q is not argon2id in PHC form", h)
	}
	if !verify("a long enough secret", h) {
		t.Error("the right password is refused")
	}
	for _, bad := range []string{"", "a long enough secreT", "a long enough secret "} {
		if verify(bad, h) {
			t.Errorf("%q accepted", bad)
		}
	}
	if h2, _ := Hash("a long enough secret"); h2 == h {
		t.Error("two hashes of one password are equal: no salt")
	}
	for _, junk := range []string{"", "$argon2id$", "$bcrypt$x$y$z$w", "$argon2id$v=19$m=999999999,t=1,p=1$AAAA$AAAA", h[:len(h)-5] + "!!!!!"} {
		if verify("a long enough secret", junk) {
			t.Errorf("junk hash %q accepted", junk)
		}
	}
}

func TestCheck(t *testing.T) {
	for pw, want := range map[string]latchkey.Code{
		"short":                          latchkey.EINVALID,
		"password1234":                   latchkey.EINVALID, // common
		"PassWord1234":                   latchkey.EINVALID, // common, whatever the case
		strings.Repeat("x", MaxLength+1): latchkey.EINVALID,
		"tabby lantern orbit":            "",
		"ééééééééééé1":                   "", // 12 characters, more bytes
	} {
		if got := latchkey.ErrorCode(Check(pw)); got != want {
			t.Errorf("Check(%q) = %q, want %q", pw, got, want)
		}
	}
}

func verify(pw, phc string) bool {
	ok, err := Verify(context.Background(), pw, phc)
	if err != nil {
		panic(err)
	}
	return ok
}
