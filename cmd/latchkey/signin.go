package main

import (
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/sealed"
)

// SignInConfig is what single sign-on and second factors need from the
// command line.
type SignInConfig struct {
	// MasterKeyFile holds the key that seals SSO client secrets and
	// authenticator seeds in the database; <data-dir>/master.key by
	// default, created on first start. Instances sharing a PostgreSQL
	// database must share it.
	MasterKeyFile string
	// DNSResolver is the DNS server (host:port) asked for the TXT records
	// that verify SSO domains; the system's resolver when empty.
	DNSResolver string
}

func signInFlags(f *pflag.FlagSet, cfg *SignInConfig) {
	f.StringVar(&cfg.MasterKeyFile, "master-key-file", "", "file holding the key that seals SSO client secrets and authenticator seeds (created on first start; share it between instances); <data-dir>/master.key by default")
	f.StringVar(&cfg.DNSResolver, "dns-resolver", "", "DNS server (host:port) asked for the TXT records that verify single sign-on domains; the system's resolver by default")
}

// signIn opens the master key and builds the service's sign-in config.
func (c SignInConfig) signIn(dataDir string) (manage.SignInConfig, error) {
	path := c.MasterKeyFile
	if path == "" {
		path = filepath.Join(dataDir, "master.key")
	}
	box, err := sealed.LoadOrCreate(path)
	if err != nil {
		return manage.SignInConfig{}, usagef("master key: %v", err)
	}
	return manage.SignInConfig{Sealer: box, Resolver: manage.ResolverAt(c.DNSResolver)}, nil
}
