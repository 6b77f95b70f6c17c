// Package password hashes and checks people's passwords with argon2id.
//
// API keys are not passwords: they are high-entropy and stored as plain
// SHA-256 (internal/token). Passwords are low-entropy and need a slow hash.
package password

import (
	"context"
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

// Hash returns the argon2id hash of pw in the PHC string format. It counts
// against the process's bound on concurrent hashes and answers
// ERATELIMITED (with retry_after_seconds) when that is exhausted.
func Hash(pw string) (string, error) { return HashContext(context.Background(), pw) }

// HashContext is Hash, giving up waiting for a slot when ctx ends.
func HashContext(ctx context.Context, pw string) (string, error) {
	if len(pw) > MaxLength {
		return "", latchkey.Errorf(latchkey.EINVALID, "the password must be %d to %d characters", MinLength, MaxLength).WithDetail("field", "password")
	}
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", err
	}
	release, err := acquire(ctx)
	if err != nil {
		return "", err
	}
	sum := argon2.IDKey([]byte(pw), salt, timeCost, memory, threads, keyLen)
	release()
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s", argon2.Version, memory, timeCost, threads,
		b64.EncodeToString(salt), b64.EncodeToString(sum)), nil
}

// Verify reports whether pw matches the PHC hash, in constant time. It
// counts against the process's bound on concurrent hashes: when no slot
// frees up in time it answers false with an ERATELIMITED error (or ctx's
// error), having done no hashing.
func Verify(ctx context.Context, pw, phc string) (bool, error) {
	parts := strings.Split(phc, "$")
	if len(parts) != 6 || parts[1] != "argon2id" {
		return false, nil
	}
	var m, t uint32
	var p uint8
	if _, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &m, &t, &p); err != nil || m > 1<<18 || t > 16 || p == 0 {
		return false, nil
	}
	b64 := base64.RawStdEncoding
	salt, err1 := b64.DecodeString(parts[4])
	want, err2 := b64.DecodeString(parts[5])
	if err1 != nil || err2 != nil || len(want) == 0 || len(want) > 64 {
		return false, nil
	}
	release, err := acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	if len(pw) > MaxLength {
		// Still spend the time of a real check, so an over-long guess
		// answers like any other wrong one.
		pw = ""
		want = nil
	}
	got := argon2.IDKey([]byte(pw), salt, t, m, p, keyLen)
	return subtle.ConstantTimeCompare(got, want) == 1, nil
}

// dummy is the hash of a random password nobody kept (made once with
// Hash, with this package's parameters), verified against when a login
// names an unknown email or an account without a password, so that the
// answer takes as long either way.
const dummy = "$argon2id$v=19$m=65536,t=3,p=2$XJ3Xc3nwHknVWpCblKZwTw$q8mWzQIxMaTcP4S2qPkp24IWeoRE0ar5vn7wS/yPi08"

// VerifyNobody does the work Verify would, for logins of unknown users or
// of accounts without a password; it always fails. Its error is Verify's:
// ERATELIMITED when the bound on concurrent hashes is exhausted.
func VerifyNobody(ctx context.Context, pw string) error {
	_, err := Verify(ctx, pw, dummy)
	return err
}
