// Package password hashes and checks people's passwords with argon2id.
//
// API keys are not passwords: they are high-entropy and stored as plain
// SHA-256 (internal/token). Passwords are low-entropy and need a slow hash.
package password

import (
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/latchkey/latchkey"
	"golang.org/x/crypto/argon2"
)

// Parameters from RFC 9106's second recommended option (memory-constrained).
const (
	timeCost = 3
	memory   = 64 * 1024 // KiB
	threads  = 2
	keyLen   = 32
	saltLen  = 16
	// MinLength is the shortest password accepted.
	MinLength = 12
	// MaxLength bounds the work an attacker can make the hash do.
	MaxLength = 256
)

//go:embed common.txt
var commonList string

var common = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(commonList) {
		m[strings.ToLower(w)] = true
	}
	return m
}()

// Check applies the password policy: 12 to 256 characters and not one of
// the commonly used passwords.
func Check(pw string) error {
	n := utf8.RuneCountInString(pw)
	if n < MinLength || len(pw) > MaxLength {
		return latchkey.Errorf(latchkey.EINVALID, "the password must be %d to %d characters", MinLength, MaxLength).WithDetail("field", "password")
	}
	if common[strings.ToLower(pw)] {
		return latchkey.Errorf(latchkey.EINVALID, "this password is too common; choose another").WithDetail("field", "password")
	}
	return nil
}

// Hash returns the argon2id hash of pw in the PHC string format.
func Hash(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	sum := argon2.IDKey([]byte(pw), salt, timeCost, memory, threads, keyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, timeCost, threads,
		b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// Verify reports whether pw matches the PHC hash, in constant time.
func Verify(pw, phc string) bool {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" || len(pw) > MaxLength {
		return false
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<22 || t > 16 || p == 0 {
		return false
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, uint32(len(want)))
	return subtle.ConstantTimeCompare(got, want) == 1
}

// dummy is a valid hash of a random password, verified against when a login
// names an unknown email so that the answer takes as long either way.
var dummy = func() string {
	h, _ := Hash(base64.RawStdEncoding.EncodeToString([]byte(rand.Text())))
	return h
}()

// VerifyNobody spends the time Verify would, for logins of unknown users.
func VerifyNobody(pw string) { Verify(pw, dummy) }
