package vault

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// KeyFile is the name of the master keyring in a data directory: one
// keeper URL a line, the first (a base64key URL) created on first start.
// Its base64key keys wrap the vaults' data keys and, through the sealed
// package, seal SSO client secrets and authenticator seeds. A rotation to
// a new local key appends it, so that the server reading the file can open
// data keys wrapped by either while the rotation runs.
const KeyFile = "master.key"

// LegacyKeyFile is where the vaults' keys were kept before the keyring
// also sealed sign-in secrets; OpenKeyFile merges it into the keyring.
const LegacyKeyFile = "vault-master.key"

// NewLocalURL returns a base64key URL holding 32 random bytes from r.
func NewLocalURL(r io.Reader) (string, error) {
	if r == nil {
		r = rand.Reader
	}
	var k [32]byte
	if _, err := io.ReadFull(r, k[:]); err != nil {
		return "", err
	}
	return "base64key://" + base64.URLEncoding.EncodeToString(k[:]), nil
}

// ReadKeyFile returns the keeper URLs of a key file, in order. A bare
// base64 key (the first format of the sealed package's key file) reads as
// its base64key URL.
func ReadKeyFile(path string) ([]string, error) { return readKeyring(path) }

// EnsureKeyFile returns the URLs of the key file at path, creating it
// (mode 0600) with a new local key when it does not exist. A file others
// may read is refused: it holds the master key.
func EnsureKeyFile(path string, r io.Reader) ([]string, error) {
	st, err := os.Stat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		u, err := NewLocalURL(r)
		if err != nil {
			return nil, err
		}
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if errors.Is(err, fs.ErrExist) {
			return ReadKeyFile(path) // another process made it first
		}
		if err != nil {
			return nil, fmt.Errorf("vault: creating the key file: %w", err)
		}
		if _, err := f.WriteString(u + "\n"); err != nil {
			f.Close()
			return nil, fmt.Errorf("vault: writing the key file: %w", err)
		}
		if err := f.Sync(); err != nil {
			f.Close()
			return nil, err
		}
		if err := f.Close(); err != nil {
			return nil, err
		}
		return []string{u}, nil
	case err != nil:
		return nil, err
	case st.Mode().Perm()&0o077 != 0:
		return nil, fmt.Errorf("vault: key file %s may be read by others (mode %v): chmod 600 it", path, st.Mode().Perm())
	}
	return ReadKeyFile(path)
}

// AppendKeyFile adds rawURL to the key file at path unless it is there.
func AppendKeyFile(path, rawURL string) error {
	urls, err := ReadKeyFile(path)
	if err != nil {
		return err
	}
	for _, u := range urls {
		if u == rawURL {
			return nil
		}
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.WriteString(rawURL + "\n"); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
