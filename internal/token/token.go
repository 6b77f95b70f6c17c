// Package token makes and checks latchkey's API key secrets:
// {prefix}_{env}_{32 random base62}{6 base62 CRC32 checksum}.
//
// The checksum lets the verify path reject typos and random probes without
// touching the store, and lets secret scanners tell a real token from noise.
package token

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"regexp"

	"github.com/latchkey/latchkey"
)

const (
	alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	// RandomLen is the number of random base62 characters (≈190 bits).
	RandomLen = 32
	// ChecksumLen is the width of the base62 CRC32 checksum.
	ChecksumLen = 6
	// DefaultPrefix is the prefix of tokens unless configured otherwise.
	DefaultPrefix = "lk"
	// StartLen is how many random characters the display form keeps.
	StartLen = 4
	// MaxLen bounds any token latchkey could have issued; longer input is
	// malformed before it is even scanned.
	MaxLen = 16 + 1 + 4 + 1 + RandomLen + ChecksumLen
)

var prefixPattern = regexp.MustCompile(`^[a-z][a-z0-9]{0,15}$`)

// Format is a token format with one prefix.
type Format struct {
	prefix string
}

// NewFormat returns the format for prefix: 1–16 lower-case letters and
// digits, starting with a letter.
func NewFormat(prefix string) (Format, error) {
	if !prefixPattern.MatchString(prefix) {
		return Format{}, fmt.Errorf("token prefix %q must be 1–16 lower-case letters or digits, starting with a letter", prefix)
	}
	return Format{prefix: prefix}, nil
}

// Prefix returns the format's prefix.
func (f Format) Prefix() string { return f.prefix }

// Regexp returns a regular expression matching this format's tokens, for
// secret scanners.
func (f Format) Regexp() string {
	return fmt.Sprintf(`\b%s_(?:prod|demo)_[0-9A-Za-z]{%d}\b`, regexp.QuoteMeta(f.prefix), RandomLen+ChecksumLen)
}

// New draws a token for env from r (crypto/rand in production) and returns
// it with its display form ("lk_prod_Ab3d").
func (f Format) New(r io.Reader, env latchkey.Environment) (secret, start string, err error) {
	head := f.prefix + "_" + env.TokenTag() + "_"
	b := make([]byte, 0, len(head)+RandomLen+ChecksumLen)
	b = append(b, head...)
	var buf [64]byte
	for n := 0; n < RandomLen; {
		if _, err := io.ReadFull(r, buf[:]); err != nil {
			return "", "", fmt.Errorf("token: reading randomness: %w", err)
		}
		for _, c := range buf {
			// Rejection sampling keeps every character equally likely.
			if c < 248 && n < RandomLen {
				b = append(b, alphabet[c%62])
				n++
			}
		}
	}
	b = appendChecksum(b, checksum(string(b)))
	return string(b), string(b[:len(head)+StartLen]), nil
}

// ErrMalformed is returned by Parse for anything that is not a well-formed
// token of this format with a correct checksum.
var ErrMalformed = errors.New("malformed token")

// Parse checks s's shape and checksum and returns its environment. It does
// not allocate, so the verify path can run it on every request.
func (f Format) Parse(s string) (latchkey.Environment, error) {
	p := len(f.prefix)
	if len(s) != p+1+4+1+RandomLen+ChecksumLen || s[:p] != f.prefix || s[p] != '_' || s[p+5] != '_' {
		return "", ErrMalformed
	}
	env, ok := latchkey.EnvironmentFromTag(s[p+1 : p+5])
	if !ok {
		return "", ErrMalformed
	}
	body := s[p+6:]
	for i := 0; i < len(body); i++ {
		if value(body[i]) < 0 {
			return "", ErrMalformed
		}
	}
	cut := len(s) - ChecksumLen
	var want uint64
	for i := cut; i < len(s); i++ {
		want = want*62 + uint64(value(s[i]))
	}
	if want != uint64(checksum(s[:cut])) {
		return "", ErrMalformed
	}
	return env, nil
}

// Start returns the display form of a well-formed token.
func (f Format) Start(s string) string {
	return s[:len(f.prefix)+6+StartLen]
}

// Hash is what the store keeps of a token: its SHA-256. Tokens of the
// usual length are hashed from a stack buffer, so the verify path does not
// allocate.
func Hash(s string) [32]byte {
	if len(s) <= 96 {
		var buf [96]byte
		return sha256.Sum256(buf[:copy(buf[:], s)])
	}
	return sha256.Sum256([]byte(s))
}

// checksum is crc32.ChecksumIEEE over a string, without the copy a
// []byte conversion would make on the hot path.
func checksum(s string) uint32 {
	crc := ^uint32(0)
	for i := 0; i < len(s); i++ {
		crc = crc32.IEEETable[byte(crc)^s[i]] ^ (crc >> 8)
	}
	return ^crc
}

func appendChecksum(b []byte, sum uint32) []byte {
	var c [ChecksumLen]byte
	v := uint64(sum)
	for i := ChecksumLen - 1; i >= 0; i-- {
		c[i] = alphabet[v%62]
		v /= 62
	}
	return append(b, c[:]...)
}

func value(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'Z':
		return int(c-'A') + 10
	case c >= 'a' && c <= 'z':
		return int(c-'a') + 36
	}
	return -1
}
