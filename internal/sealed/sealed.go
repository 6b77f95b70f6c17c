// Package sealed encrypts small secrets kept in the database (an SSO
// client secret, an authenticator app's seed) with AES-256-GCM under a key
// derived from a local key of the server's master keyring (the file the
// vault package keeps, see vault.OpenKeyFile), so a database dump alone
// reveals none of them. Each sealed value is bound to what it belongs to
// (its purpose and row), so one cannot be moved to another row.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"errors"
	"fmt"
)

// Box seals under one master key and opens under any of a keyring's:
// a value sealed before a key was added still opens.
type Box struct {
	aeads []cipher.AEAD
}

// KeySize is the size of a master key in bytes.
const KeySize = 32

// New returns a Box that seals under the first of keys (32 bytes each)
// and opens under any of them.
func New(keys ...[]byte) (*Box, error) {
	if len(keys) == 0 {
		return nil, errors.New("sealed: the keyring holds no local master key (a base64key:// line)")
	}
	b := &Box{}
	for _, master := range keys {
		if len(master) != KeySize {
			return nil, fmt.Errorf("sealed: the master key must be %d bytes, got %d", KeySize, len(master))
		}
		k, err := hkdf.Key(sha256.New, master, nil, "latchkey sealed v1", 32)
		if err != nil {
			return nil, err
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, err
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		b.aeads = append(b.aeads, aead)
	}
	return b, nil
}

// Seal encrypts plain for the context bound (such as "sso:ws_…").
func (b *Box) Seal(plain []byte, bound string) []byte {
	aead := b.aeads[0]
	nonce := make([]byte, aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	return aead.Seal(nonce, nonce, plain, []byte(bound))
}

// ErrOpen is the error of a value that was not sealed by this key for
// this context, or was altered.
var ErrOpen = errors.New("sealed: the value cannot be opened with this master key")

// Open decrypts a value sealed for bound.
func (b *Box) Open(sealed []byte, bound string) ([]byte, error) {
	for _, aead := range b.aeads {
		n := aead.NonceSize()
		if len(sealed) < n+aead.Overhead() {
			return nil, ErrOpen
		}
		if plain, err := aead.Open(nil, sealed[:n], sealed[n:], []byte(bound)); err == nil {
			return plain, nil
		}
	}
	return nil, ErrOpen
}
