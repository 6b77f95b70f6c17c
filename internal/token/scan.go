package token

import (
	"fmt"
	"regexp"
)

// Scanner finds the tokens of one format in text, for secret scanning:
// the published pattern (Format.Regexp) finds candidates and the checksum
// keeps only real tokens, so look-alikes (a changed character, a made-up
// example of the right shape) are not reported.
type Scanner struct {
	f  Format
	re *regexp.Regexp
}

// NewScanner returns a Scanner for f's tokens.
func NewScanner(f Format) *Scanner {
	return &Scanner{f: f, re: regexp.MustCompile(f.Regexp())}
}

// Find returns the byte offsets [start, end) of the tokens in b with a
// correct checksum, in order.
func (s *Scanner) Find(b []byte) [][2]int {
	var out [][2]int
	for _, m := range s.re.FindAllIndex(b, -1) {
		if _, err := s.f.Parse(string(b[m[0]:m[1]])); err == nil {
			out = append(out, [2]int{m[0], m[1]})
		}
	}
	return out
}

// Redact is what a scanner may print of a token: its display form (the
// prefix, environment and first random characters) and an ellipsis.
func (s *Scanner) Redact(tok string) string {
	return fmt.Sprintf("%s…", s.f.Start(tok))
}
