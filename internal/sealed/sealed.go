// Package sealed encrypts small secrets kept in the database (an SSO
// client secret, an authenticator app's seed) with AES-256-GCM under a key
// derived from the server's master key file, so a database dump alone
// reveals none of them. Each sealed value is bound to what it belongs to
// (its purpose and row), so one cannot be moved to another row.
package sealed

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// Box seals and opens values under one master key.
type Box struct {
	aead cipher.AEAD
}

// KeySize is the size of a master key in bytes.
const KeySize = 32

// New returns a Box for a 32-byte master key.
func New(master []byte) (*Box, error) {
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
	return &Box{aead: aead}, nil
}

// LoadOrCreate reads the master key file at path (base64 of 32 bytes),
// creating it with a new random key and mode 0600 when it does not exist.
// Every instance sharing a database must be given the same file.
func LoadOrCreate(path string) (*Box, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		key := make([]byte, KeySize)
		if _, err := rand.Read(key); err != nil {
			return nil, err
		}
		if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return LoadOrCreate(path) // another instance created it first
		}
		if err != nil {
			return nil, err
		}
		_, werr := f.WriteString(base64.StdEncoding.EncodeToString(key) + "\n")
		if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
			return nil, err
		}
		return New(key)
	}
	if err != nil {
		return nil, err
	}
	key, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(b)))
	if err != nil {
		return nil, fmt.Errorf("sealed: %s does not hold a base64 master key", path)
	}
	return New(key)
}

// Seal encrypts plain for the context bound (such as "sso:ws_…").
func (b *Box) Seal(plain []byte, bound string) []byte {
	nonce := make([]byte, b.aead.NonceSize())
	if _, err := rand.Read(nonce); err != nil {
		panic(err) // crypto/rand never fails on supported systems
	}
	return b.aead.Seal(nonce, nonce, plain, []byte(bound))
}

// ErrOpen is the error of a value that was not sealed by this key for
// this context, or was altered.
var ErrOpen = errors.New("sealed: the value cannot be opened with this master key")

// Open decrypts a value sealed for bound.
func (b *Box) Open(sealed []byte, bound string) ([]byte, error) {
	n := b.aead.NonceSize()
	if len(sealed) < n+b.aead.Overhead() {
		return nil, ErrOpen
	}
	plain, err := b.aead.Open(nil, sealed[:n], sealed[n:], []byte(bound))
	if err != nil {
		return nil, ErrOpen
	}
	return plain, nil
}
