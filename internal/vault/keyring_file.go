package vault

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// OpenKeyFile returns the URLs of the master keyring at path, first
// merging into it the vaults' former key file legacy ("" for none) when
// that exists, so that nothing sealed before becomes unreadable: its URLs
// go in front (its first key keeps wrapping), the new file replaces the
// old one in one rename (a crash leaves one or the other whole; running
// again finishes an interrupted merge), and legacy is then renamed to
// legacy+".merged", kept rather than deleted. A keyring in the first
// format of the sealed package (one bare base64 key) is read as is, never
// rewritten for that alone: it may be a read-only mounted secret. When
// neither file exists a keyring with one new local key is made (mode
// 0600).
func OpenKeyFile(path, legacy string, r io.Reader) ([]string, error) {
	if path == "" {
		return nil, errors.New("vault: no path for the master keyring")
	}
	var old []string
	if legacy != "" && legacy != path {
		urls, err := ReadKeyFile(legacy)
		switch {
		case err == nil:
			old = urls
		case !errors.Is(err, fs.ErrNotExist):
			return nil, err
		}
	}
	current, err := ReadKeyFile(path)
	switch {
	case errors.Is(err, fs.ErrNotExist) && old == nil:
		return EnsureKeyFile(path, r)
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, err
	case old == nil:
		return current, nil
	}
	merged := slices.Clone(old)
	for _, u := range current {
		if !slices.Contains(merged, u) {
			merged = append(merged, u)
		}
	}
	if err := writeKeyFile(path, merged); err != nil {
		return nil, err
	}
	if err := os.Rename(legacy, legacy+".merged"); err != nil {
		return nil, fmt.Errorf("vault: the keyring %s holds the keys of %s, but renaming it failed: %w", path, legacy, err)
	}
	return merged, nil
}

// readKeyring reads a keyring file, one keeper URL a line ("#" starts a
// comment), turning a bare base64 key (the first format of the sealed
// package's key file) into a base64key URL.
func readKeyring(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var urls []string
	for _, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if !strings.Contains(line, "://") {
			key, err := base64.StdEncoding.DecodeString(line)
			if err != nil || len(key) != 32 {
				return nil, fmt.Errorf("vault: %s holds a line that is neither a keeper URL nor a base64 master key", path)
			}
			line = LocalURL(key)
		}
		urls = append(urls, line)
	}
	if len(urls) == 0 {
		return nil, fmt.Errorf("vault: key file %s holds no keeper URL", path)
	}
	return urls, nil
}

// writeKeyFile replaces the file at path with urls, atomically.
func writeKeyFile(path string, urls []string) error {
	tmp := path + ".writing"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("vault: writing the keyring: %w", err)
	}
	_, werr := f.WriteString(strings.Join(urls, "\n") + "\n")
	if err := errors.Join(werr, f.Sync(), f.Close()); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("vault: writing the keyring: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// LocalURL is the base64key URL of a 32-byte key.
func LocalURL(key []byte) string {
	return "base64key://" + base64.URLEncoding.EncodeToString(key)
}

// LocalKeys returns the keys of the base64key URLs among urls, in order:
// the keys a server holds itself, which seal sign-in secrets.
func LocalKeys(urls []string) [][]byte {
	var keys [][]byte
	for _, u := range urls {
		if !Secret(u) {
			continue
		}
		if k, err := base64.URLEncoding.DecodeString(strings.TrimPrefix(u, "base64key://")); err == nil && len(k) == 32 {
			keys = append(keys, k)
		}
	}
	return keys
}
