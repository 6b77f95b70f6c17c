// Package vault encrypts vault secrets by envelope: every secret under its
// own AES-256-GCM data key, bound to its row by associated data (workspace,
// vault and secret ids), and every data key wrapped by a master key that a
// keeper chosen by URL holds (gocloud.dev/secrets). The master key never
// leaves its keeper; rotating it re-wraps data keys, never secrets.
//
// A Keyring knows several keepers by id, so that data keys wrapped by an
// old master key still open while a rotation re-wraps them under the new
// one; it seals with the current keeper only.
package vault

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/latchkey/latchkey"
	"gocloud.dev/secrets"
	// The local keeper (base64key://) is always built in; the cloud
	// keepers each live in a file behind a build tag.
	_ "gocloud.dev/secrets/localsecrets"
)

// ErrOpen is returned when a sealed secret does not open: wrong row
// (associated data), altered ciphertext, or a data key no known keeper
// unwraps. It never says which, and never carries key material.
var ErrOpen = errors.New("vault: the secret cannot be decrypted")

// Sealed is a secret as stored: never the value in clear. Its Ciphertext
// is the GCM nonce followed by the encrypted value and tag; WrappedKey is
// the data key, encrypted by the keeper KeeperID.
type Sealed = latchkey.Sealed

// AAD is the associated data that binds a ciphertext to its row: moved to
// another workspace, vault or secret it no longer decrypts.
func AAD(workspaceID, vaultID, secretID string) []byte {
	return []byte("latchkey-vault-v1\x00" + workspaceID + "\x00" + vaultID + "\x00" + secretID)
}

// KeeperID names the keeper of url without revealing it: the scheme and a
// digest of the whole URL (a base64key URL holds the key itself, so the
// URL is never stored or logged; its id is).
func KeeperID(rawURL string) string {
	scheme, _, _ := strings.Cut(rawURL, "://")
	sum := sha256.Sum256([]byte(rawURL))
	return scheme + ":" + hex.EncodeToString(sum[:8])
}

// Secret reports whether a keeper URL carries key material (base64key),
// and so must never be stored in the database or printed.
func Secret(rawURL string) bool { return strings.HasPrefix(rawURL, "base64key:") }

// Redact describes a keeper URL for messages: the URL itself where it
// holds no key material, else its scheme and id.
func Redact(rawURL string) string {
	if Secret(rawURL) {
		return "base64key://… (" + KeeperID(rawURL) + ")"
	}
	return rawURL
}

// Source tells a Keyring about keepers it was not configured with: the
// URLs of every keeper in use and which one is current (by id, "" when
// the source has no opinion). Servers learn of a rotation through it.
type Source func(ctx context.Context) (urls []string, current string, err error)

// Keyring seals with its current keeper and opens with any keeper it
// knows. It is safe for concurrent use.
type Keyring struct {
	mu      sync.RWMutex
	keepers map[string]*secrets.Keeper
	current string
	source  Source
	every   time.Duration
	checked time.Time
	now     func() time.Time
	rand    io.Reader
}

// Options configures a Keyring beyond its keeper URLs.
type Options struct {
	// Source, when set, is asked for keepers at most every Refresh (and
	// at once when a sealed secret names an unknown keeper).
	Source  Source
	Refresh time.Duration
	Now     func() time.Time
	Rand    io.Reader
}

// New opens the keepers of urls; the first is current until the source
// says otherwise. An unknown scheme or a malformed URL is an error that
// never repeats a base64key URL.
func New(ctx context.Context, opts Options, urls ...string) (*Keyring, error) {
	if len(urls) == 0 {
		return nil, errors.New("vault: no keeper URL")
	}
	k := &Keyring{keepers: map[string]*secrets.Keeper{}, source: opts.Source, every: opts.Refresh,
		now: opts.Now, rand: opts.Rand}
	if k.now == nil {
		k.now = time.Now
	}
	if k.rand == nil {
		k.rand = rand.Reader
	}
	if k.every <= 0 {
		k.every = 2 * time.Second
	}
	for i, u := range urls {
		id, err := k.add(ctx, u)
		if err != nil {
			k.Close()
			return nil, err
		}
		if i == 0 {
			k.current = id
		}
	}
	return k, nil
}

// OpenKeeper opens one keeper URL, with errors that never repeat a
// base64key URL.
func OpenKeeper(ctx context.Context, rawURL string) (*secrets.Keeper, error) {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme == "" {
		return nil, fmt.Errorf("vault: keeper URL %s is not a URL (scheme://…)", Redact(rawURL))
	}
	if !secrets.DefaultURLMux().ValidKeeperScheme(u.Scheme) {
		return nil, fmt.Errorf("vault: keeper scheme %q is not built into this binary (base64key always is; build with -tags awskms, gcpkms, azurekeyvault or hashivault for the others)", u.Scheme)
	}
	if Secret(rawURL) && u.Host == "" {
		// localsecrets would make up a random key no restart could find.
		return nil, errors.New("vault: a base64key URL must hold its key (base64key://<32 bytes, URL-safe base64>)")
	}
	kp, err := secrets.OpenKeeper(ctx, rawURL)
	if err != nil {
		if Secret(rawURL) {
			return nil, errors.New("vault: the base64key URL does not hold a 32-byte URL-safe base64 key")
		}
		return nil, fmt.Errorf("vault: opening keeper %s: %w", rawURL, err)
	}
	return kp, nil
}

// add opens rawURL unless a keeper with its id is known, and returns the id.
func (k *Keyring) add(ctx context.Context, rawURL string) (string, error) {
	id := KeeperID(rawURL)
	k.mu.RLock()
	_, ok := k.keepers[id]
	k.mu.RUnlock()
	if ok {
		return id, nil
	}
	kp, err := OpenKeeper(ctx, rawURL)
	if err != nil {
		return "", err
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	if _, ok := k.keepers[id]; ok {
		kp.Close()
		return id, nil
	}
	k.keepers[id] = kp
	return id, nil
}

// Add makes the keeper of rawURL known (to open with), and current when
// current is set; it returns the keeper's id.
func (k *Keyring) Add(ctx context.Context, rawURL string, current bool) (string, error) {
	id, err := k.add(ctx, rawURL)
	if err != nil {
		return "", err
	}
	if current {
		k.mu.Lock()
		k.current = id
		k.mu.Unlock()
	}
	return id, nil
}

// Current returns the id of the keeper that seals, after asking the
// source when its answer is older than the refresh interval.
func (k *Keyring) Current(ctx context.Context) (string, error) {
	k.mu.RLock()
	stale := k.source != nil && k.now().Sub(k.checked) >= k.every
	k.mu.RUnlock()
	if stale {
		if err := k.Refresh(ctx); err != nil {
			return "", err
		}
	}
	k.mu.RLock()
	defer k.mu.RUnlock()
	return k.current, nil
}

// Refresh asks the source for keepers now.
func (k *Keyring) Refresh(ctx context.Context) error {
	if k.source == nil {
		return nil
	}
	urls, current, err := k.source(ctx)
	if err != nil {
		return fmt.Errorf("vault: reading keepers: %w", err)
	}
	for _, u := range urls {
		if _, err := k.add(ctx, u); err != nil {
			return err
		}
	}
	k.mu.Lock()
	defer k.mu.Unlock()
	k.checked = k.now()
	if current != "" {
		if _, ok := k.keepers[current]; !ok {
			return fmt.Errorf("vault: the current keeper %s is not configured on this server: give it its URL (--vault-key-url)", current)
		}
		k.current = current
	}
	return nil
}

func (k *Keyring) keeper(ctx context.Context, id string) (*secrets.Keeper, error) {
	k.mu.RLock()
	kp, ok := k.keepers[id]
	k.mu.RUnlock()
	if ok {
		return kp, nil
	}
	if err := k.Refresh(ctx); err != nil {
		return nil, err
	}
	k.mu.RLock()
	kp, ok = k.keepers[id]
	k.mu.RUnlock()
	if !ok {
		return nil, fmt.Errorf("vault: no keeper %s is configured on this server", id)
	}
	return kp, nil
}

// Seal encrypts value under a fresh data key bound to aad, and wraps the
// data key with the current keeper.
func (k *Keyring) Seal(ctx context.Context, aad, value []byte) (Sealed, error) {
	id, err := k.Current(ctx)
	if err != nil {
		return Sealed{}, err
	}
	kp, err := k.keeper(ctx, id)
	if err != nil {
		return Sealed{}, err
	}
	dek := make([]byte, 32)
	if _, err := io.ReadFull(k.rand, dek); err != nil {
		return Sealed{}, fmt.Errorf("vault: data key: %w", err)
	}
	defer clear(dek)
	ct, err := seal(k.rand, dek, aad, value)
	if err != nil {
		return Sealed{}, err
	}
	wrapped, err := kp.Encrypt(ctx, dek)
	if err != nil {
		return Sealed{}, fmt.Errorf("vault: wrapping the data key with %s: %w", id, err)
	}
	return Sealed{Ciphertext: ct, WrappedKey: wrapped, KeeperID: id}, nil
}

// Open decrypts s, which must have been sealed with aad. Any failure to
// decrypt is ErrOpen; a keeper that cannot be reached is its own error.
func (k *Keyring) Open(ctx context.Context, s Sealed, aad []byte) ([]byte, error) {
	kp, err := k.keeper(ctx, s.KeeperID)
	if err != nil {
		return nil, err
	}
	dek, err := kp.Decrypt(ctx, s.WrappedKey)
	if err != nil {
		return nil, ErrOpen
	}
	defer clear(dek)
	return open(dek, aad, s.Ciphertext)
}

// Rewrap unwraps s's data key and wraps it again with the keeper to
// (the current one when to is ""); the ciphertext does not change.
func (k *Keyring) Rewrap(ctx context.Context, s Sealed, to string) (Sealed, error) {
	if to == "" {
		var err error
		if to, err = k.Current(ctx); err != nil {
			return Sealed{}, err
		}
	}
	from, err := k.keeper(ctx, s.KeeperID)
	if err != nil {
		return Sealed{}, err
	}
	dst, err := k.keeper(ctx, to)
	if err != nil {
		return Sealed{}, err
	}
	dek, err := from.Decrypt(ctx, s.WrappedKey)
	if err != nil {
		return Sealed{}, ErrOpen
	}
	defer clear(dek)
	wrapped, err := dst.Encrypt(ctx, dek)
	if err != nil {
		return Sealed{}, fmt.Errorf("vault: wrapping the data key with %s: %w", to, err)
	}
	return Sealed{Ciphertext: s.Ciphertext, WrappedKey: wrapped, KeeperID: to}, nil
}

// Close releases every keeper.
func (k *Keyring) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	var errs []error
	for id, kp := range k.keepers {
		errs = append(errs, kp.Close())
		delete(k.keepers, id)
	}
	return errors.Join(errs...)
}

func seal(r io.Reader, dek, aad, value []byte) ([]byte, error) {
	gcm, err := newGCM(dek)
	if err != nil {
		return nil, err
	}
	nonce := make([]byte, gcm.NonceSize(), gcm.NonceSize()+len(value)+gcm.Overhead())
	if _, err := io.ReadFull(r, nonce); err != nil {
		return nil, fmt.Errorf("vault: nonce: %w", err)
	}
	return gcm.Seal(nonce, nonce, value, aad), nil
}

func open(dek, aad, ct []byte) ([]byte, error) {
	gcm, err := newGCM(dek)
	if err != nil {
		return nil, ErrOpen
	}
	if len(ct) < gcm.NonceSize()+gcm.Overhead() {
		return nil, ErrOpen
	}
	out, err := gcm.Open(nil, ct[:gcm.NonceSize()], ct[gcm.NonceSize():], aad)
	if err != nil {
		return nil, ErrOpen
	}
	return out, nil
}

func newGCM(dek []byte) (cipher.AEAD, error) {
	if len(dek) != 32 {
		return nil, ErrOpen
	}
	b, err := aes.NewCipher(dek)
	if err != nil {
		return nil, err
	}
	return cipher.NewGCM(b)
}
