package token

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"regexp"
	"strings"
	"testing"

	"github.com/latchkey/latchkey"
)

func mustFormat(t testing.TB, p string) Format {
	f, err := NewFormat(p)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestNewParseRoundTrip(t *testing.T) {
	f := mustFormat(t, DefaultPrefix)
	re := regexp.MustCompile(f.Regexp())
	for _, env := range []latchkey.Environment{latchkey.Production, latchkey.Demo} {
		s, start, err := f.New(rand.Reader, env)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(s), len("lk_prod_")+38; got != want {
			t.Errorf("len = %d, want %d", got, want)
		}
		if !strings.HasPrefix(s, "lk_"+env.TokenTag()+"_") || start != s[:12] || f.Start(s) != start {
			t.Errorf("token %q start %q", s, start)
		}
		got, err := f.Parse(s)
		if err != nil || got != env {
			t.Errorf("Parse(%q) = %v, %v; want %v", s, got, err, env)
		}
		if !re.MatchString("key=" + s + ";") {
			t.Errorf("regexp %s does not match %q", f.Regexp(), s)
		}
	}
}

func TestParseRejects(t *testing.T) {
	f := mustFormat(t, DefaultPrefix)
	good, _, _ := f.New(rand.Reader, latchkey.Production)
	flip := []byte(good)
	flip[10] ^= 1
	cases := map[string]string{
		"empty":         "",
		"short":         good[:20],
		"long":          good + "a",
		"wrong prefix":  "xx" + good[2:],
		"wrong env":     "lk_test_" + good[8:],
		"bad char":      good[:15] + "-" + good[16:],
		"typo":          string(flip),
		"bad checksum":  good[:len(good)-1] + string("ab"[0]+good[len(good)-1]%2),
		"other prefix":  "ab_prod_" + good[8:],
		"no separators": strings.ReplaceAll(good, "_", "x"),
		"unicode":       good[:12] + "é" + good[14:],
	}
	for name, s := range cases {
		if _, err := f.Parse(s); err == nil {
			t.Errorf("%s: Parse(%q) accepted", name, s)
		}
	}
}

func TestNewIsUniformAlphabet(t *testing.T) {
	f := mustFormat(t, "lk")
	// A reader of only 0xff bytes would loop forever; one of 247s must be
	// accepted and map to alphabet[247%62].
	s, _, err := f.New(bytes.NewReader(bytes.Repeat([]byte{247}, 64)), latchkey.Production)
	if err != nil {
		t.Fatal(err)
	}
	if got := s[8:40]; got != strings.Repeat(string(alphabet[247%62]), 32) {
		t.Errorf("random part = %q", got)
	}
	if _, _, err := f.New(bytes.NewReader(nil), latchkey.Production); err == nil {
		t.Error("New with an empty reader succeeded")
	}
}

func TestNewFormat(t *testing.T) {
	for _, p := range []string{"", "LK", "1k", "lk_", "abcdefghijklmnopq"} {
		if _, err := NewFormat(p); err == nil {
			t.Errorf("NewFormat(%q) accepted", p)
		}
	}
	f := mustFormat(t, "acme2")
	s, _, _ := f.New(rand.Reader, latchkey.Demo)
	if env, err := f.Parse(s); err != nil || env != latchkey.Demo {
		t.Errorf("Parse(%q) = %v, %v", s, env, err)
	}
}

func TestParseDoesNotAllocate(t *testing.T) {
	f := mustFormat(t, "lk")
	s, _, _ := f.New(rand.Reader, latchkey.Production)
	if n := testing.AllocsPerRun(100, func() { _, _ = f.Parse(s) }); n != 0 {
		t.Errorf("Parse allocates %v times", n)
	}
}

func FuzzParse(f *testing.F) {
	fm := mustFormat(f, "lk")
	good, _, _ := fm.New(rand.Reader, latchkey.Production)
	f.Add(good)
	f.Add("lk_demo_")
	f.Add("")
	f.Add("lk_prod_00000000000000000000000000000000000000")
	f.Fuzz(func(t *testing.T, s string) {
		env, err := fm.Parse(s)
		if err != nil {
			return
		}
		if !env.Valid() || len(s) != len(good) || fm.Start(s) != s[:12] {
			t.Fatalf("accepted %q as %v", s, env)
		}
	})
}

func BenchmarkParse(b *testing.B) {
	f := mustFormat(b, "lk")
	s, _, _ := f.New(rand.Reader, latchkey.Production)
	b.ReportAllocs()
	for b.Loop() {
		_, _ = f.Parse(s)
	}
}

func TestHashDoesNotAllocate(t *testing.T) {
	f := mustFormat(t, "lk")
	s, _, _ := f.New(rand.Reader, latchkey.Production)
	if n := testing.AllocsPerRun(100, func() { _ = Hash(s) }); n != 0 {
		t.Errorf("Hash allocates %v times", n)
	}
	long := strings.Repeat("x", 200)
	if Hash(long) != sha256.Sum256([]byte(long)) || Hash(s) != sha256.Sum256([]byte(s)) {
		t.Error("Hash differs from SHA-256")
	}
}

func TestScannerFindsOnlyRealTokens(t *testing.T) {
	f, _ := NewFormat(DefaultPrefix)
	real1, _, _ := f.New(rand.Reader, latchkey.Production)
	real2, _, _ := f.New(rand.Reader, latchkey.Demo)
	flip := func(s string, i int) string {
		b := []byte(s)
		if b[i] == 'a' {
			b[i] = 'b'
		} else {
			b[i] = 'a'
		}
		return string(b)
	}
	text := "key=" + real1 + " other: \"" + flip(real1, 20) + "\" example lk_prod_" + strings.Repeat("x", 38) +
		" longer " + real2 + "Z glued; last " + real2 + "\n" + "mk_prod_" + real1[8:] + " " + flip(real2, len(real2)-1)
	s := NewScanner(f)
	var got []string
	for _, m := range s.Find([]byte(text)) {
		got = append(got, text[m[0]:m[1]])
	}
	if len(got) != 2 || got[0] != real1 || got[1] != real2 {
		t.Fatalf("Find: got %q, want the two real tokens only", got)
	}
	if r := s.Redact(real1); !strings.HasPrefix(real1, strings.TrimSuffix(r, "…")) || len(r) > 20 {
		t.Fatalf("Redact: got %q", r)
	}
}
