package main

import (
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/sealed"
	"github.com/latchkey/latchkey/internal/vault"
)

// SignInConfig is what single sign-on and second factors need from the
// command line.
type SignInConfig struct {
	// MasterKeyFile is the master keyring: its local keys seal SSO client
	// secrets and authenticator seeds in the database and wrap the vaults'
	// data keys. <data-dir>/master.key by default, created on first start.
	// Instances sharing a PostgreSQL database must share it.
	MasterKeyFile string
	// DNSResolver is the DNS server (host:port) asked for the TXT records
	// that verify SSO domains; the system's resolver when empty.
	DNSResolver string
}

func signInFlags(f *pflag.FlagSet, cfg *SignInConfig) {
	f.StringVar(&cfg.MasterKeyFile, "master-key-file", "", "the master keyring: keys that seal vault secrets, SSO client secrets and authenticator seeds (created on first start; share it between instances); <data-dir>/master.key by default")
	f.StringVar(&cfg.DNSResolver, "dns-resolver", "", "DNS server (host:port) asked for the TXT records that verify single sign-on domains; the system's resolver by default")
}

// keyringFiles names the master keyring and the vaults' former key file
// that is merged into it on first start.
type keyringFiles struct {
	Path   string
	Legacy string
	// Vaults: the keyring's keys also wrap vault data keys. Always on
	// SQLite; on PostgreSQL only for a keyring given explicitly, since a
	// data directory is not shared between instances.
	Vaults bool
	// Private: the keyring is the data directory's own, which others
	// must not read (a file given explicitly may be a mounted secret
	// whose mode is the platform's).
	Private bool
}

// keyringOf resolves the master keyring's path: the file given, or
// master.key in the data directory. Without either it refuses: a default
// must never silently land in the current directory.
func keyringOf(masterKeyFile, dataDir, databaseURL string) (keyringFiles, error) {
	kf := keyringFiles{Path: masterKeyFile, Vaults: databaseURL == "" || masterKeyFile != ""}
	if kf.Path == "" {
		if dataDir == "" {
			return kf, usagef("no place for the master keyring: give --data-dir or --master-key-file")
		}
		kf.Path, kf.Private = filepath.Join(dataDir, vault.KeyFile), true
	}
	if dataDir != "" && databaseURL == "" {
		kf.Legacy = filepath.Join(dataDir, vault.LegacyKeyFile)
	}
	return kf, nil
}

// open reads the keyring, merging older key files into it and creating it
// on first start.
func (kf keyringFiles) open() ([]string, error) {
	if err := os.MkdirAll(filepath.Dir(kf.Path), 0o700); err != nil {
		return nil, usagef("master keyring: %v", err)
	}
	urls, err := vault.OpenKeyFile(kf.Path, kf.Legacy, nil)
	if err != nil {
		return nil, usagef("master keyring: %v", err)
	}
	if st, err := os.Stat(kf.Path); err == nil && kf.Private && st.Mode().Perm()&0o077 != 0 {
		return nil, usagef("master keyring %s may be read by others (mode %v): chmod 600 it", kf.Path, st.Mode().Perm())
	}
	return urls, nil
}

// signIn opens the master keyring and builds the service's sign-in config.
func (c SignInConfig) signIn(dataDir, databaseURL string) (manage.SignInConfig, keyringFiles, error) {
	kf, err := keyringOf(c.MasterKeyFile, dataDir, databaseURL)
	if err != nil {
		return manage.SignInConfig{}, kf, err
	}
	urls, err := kf.open()
	if err != nil {
		return manage.SignInConfig{}, kf, err
	}
	box, err := sealed.New(vault.LocalKeys(urls)...)
	if err != nil {
		return manage.SignInConfig{}, kf, usagef("master keyring %s: %v", kf.Path, err)
	}
	return manage.SignInConfig{Sealer: box, Resolver: manage.ResolverAt(c.DNSResolver)}, kf, nil
}
