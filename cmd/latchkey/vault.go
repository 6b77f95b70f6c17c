package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/vault"
	"github.com/spf13/cobra"
)

// vaultRefresh is how often a server asks the store which keeper is
// current; a rotation waits longer than that before it re-wraps.
const vaultRefresh = 2 * time.Second

// openVault opens the keyring of the vault master keys. The keepers a
// server can use are those of --vault-key-url (several, comma-separated:
// the first wraps until the store names another), the local key file of
// the master keyring file (created on first start, mode 0600, when no URL
// is given on SQLite, or given with --master-key-file; see keyringOf), and the keepers the store records with their URL
// (cloud keepers; a base64key URL is never stored). The store's latest
// activated keeper is the current one: that is how every server learns a
// rotation's new keeper, within vaultRefresh, without a restart.
//
// On PostgreSQL without --vault-key-url or --master-key-file there is no
// shared file to keep a key in: vaults are off (their endpoints answer 422, naming the flag),
// and nil is returned.
func openVault(ctx context.Context, st latchkey.Store, kf keyringFiles, urls []string, log *slog.Logger) (*vault.Keyring, error) {
	keyFile := ""
	if kf.Vaults {
		keyFile = kf.Path
	}
	if len(urls) == 0 {
		if keyFile == "" {
			if log != nil {
				log.Warn("vaults are off: PostgreSQL has no data directory for a local master key; start with --master-key-file (the same file on every instance) or --vault-key-url (a KMS URL)")
			}
			return nil, nil
		}
		fromFile, err := kf.open()
		if err != nil {
			return nil, err
		}
		urls = fromFile
	}
	source := func(ctx context.Context) ([]string, string, error) {
		var known []string
		if keyFile != "" {
			fromFile, err := vault.ReadKeyFile(keyFile)
			if err == nil {
				known = append(known, fromFile...)
			}
		}
		keepers, err := st.VaultKeepers(ctx)
		if err != nil {
			return nil, "", err
		}
		for _, k := range keepers {
			if k.URL != "" {
				known = append(known, k.URL)
			}
		}
		current := ""
		if len(keepers) > 0 {
			current = keepers[0].ID
		}
		return known, current, nil
	}
	kr, err := vault.New(ctx, vault.Options{Source: source, Refresh: vaultRefresh}, urls...)
	if err != nil {
		return nil, err
	}
	keepers, err := st.VaultKeepers(ctx)
	if err == nil && len(keepers) == 0 {
		err = st.ActivateVaultKeeper(ctx, recordedKeeper(urls[0], time.Now()))
	}
	if err == nil {
		err = kr.Refresh(ctx)
	}
	if err != nil {
		kr.Close()
		return nil, err
	}
	return kr, nil
}

// recordedKeeper is what the store keeps of a keeper: never a URL that
// holds key material.
func recordedKeeper(rawURL string, at time.Time) latchkey.VaultKeeper {
	k := latchkey.VaultKeeper{ID: vault.KeeperID(rawURL), ActivatedAt: at.UTC().Truncate(time.Microsecond)}
	if !vault.Secret(rawURL) {
		k.URL = rawURL
	}
	return k
}

func newVaultCmd() *cobra.Command {
	c := &cobra.Command{Use: "vault", Short: "Manage the master key of the vaults",
		Example: `  latchkey vault rotate-master --data-dir ./latchkey-data --to base64key://NEWKEY...`}
	c.AddCommand(newRotateMasterCmd())
	return c
}

func newRotateMasterCmd() *cobra.Command {
	var sf storeFlags
	var urls []string
	var to string
	var settle time.Duration
	var keyringFile string
	c := &cobra.Command{
		Use: "rotate-master --to URL",
		Example: `  latchkey vault rotate-master --data-dir ./latchkey-data --to base64key://NEWKEY...
  latchkey vault rotate-master --database-url "$DATABASE_URL" --vault-key-url base64key://OLD... --to awskms://alias/latchkey`,
		Short: "Re-wrap every vault data key with a new master key, while servers serve",
		Long: `Makes the keeper of --to current and re-wraps every data key with it, each in its own short
transaction; the secrets themselves are not re-encrypted. Servers learn the new keeper from the store
within seconds: a cloud keeper's URL is recorded there; a base64key URL never is, so on SQLite it is
appended to the data directory's key file, and on PostgreSQL every server must already list it in
--vault-key-url (after its current URL) before the rotation. Run it again to finish a rotation that
was interrupted; it is idempotent.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if to == "" {
				return usagef("--to is required: the URL of the new master key's keeper")
			}
			ctx := c.Context()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			n, err := rotateMaster(ctx, st, sf, keyringFile, urls, to, settle, func(format string, args ...any) {
				fmt.Fprintf(c.OutOrStdout(), format+"\n", args...)
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "re-wrapped %d data keys with %s\n", n, vault.Redact(to))
			return nil
		},
	}
	f := c.Flags()
	sf.register(f, false)
	f.StringVar(&keyringFile, "master-key-file", "", "the master keyring the servers use (as given to them); <data-dir>/master.key by default")
	f.StringSliceVar(&urls, "vault-key-url", nil, "the keepers in use now (as given to the servers); the data directory's master keyring by default")
	f.StringVar(&to, "to", "", "the new master key's keeper URL (base64key://, awskms://, gcpkms://, azurekeyvault://, hashivault://)")
	f.DurationVar(&settle, "settle", 2*vaultRefresh+time.Second, "how long to let servers learn the new keeper before re-wrapping")
	fromEnv(f, "vault-key-url", "master-key-file")
	return c
}

// rotateMaster makes to current and re-wraps every data key with it,
// returning how many it re-wrapped.
func rotateMaster(ctx context.Context, st latchkey.Store, sf storeFlags, keyringFile string, urls []string, to string, settle time.Duration, say func(string, ...any)) (int, error) {
	kf, err := keyringOf(keyringFile, sf.DataDir, sf.DatabaseURL)
	if err != nil {
		return 0, err
	}
	kr, err := openVault(ctx, st, kf, urls, nil)
	if err != nil {
		return 0, err
	}
	if kr == nil {
		return 0, usagef("give the keepers in use with --vault-key-url")
	}
	defer kr.Close()
	id, err := kr.Add(ctx, to, true)
	if err != nil {
		return 0, usagef("%v", err)
	}
	// The new keeper must work both ways before any server uses it.
	probe := vault.AAD("rotate", "probe", id)
	sealed, err := kr.Seal(ctx, probe, []byte("probe"))
	if err == nil {
		_, err = kr.Open(ctx, sealed, probe)
	}
	if err != nil {
		return 0, fmt.Errorf("the new keeper does not work: %w", err)
	}
	if vault.Secret(to) {
		if sf.DatabaseURL != "" {
			say("the new key is not stored in the database: every server must list it in --vault-key-url before this rotation")
		} else if err := vault.AppendKeyFile(kf.Path, to); err != nil {
			return 0, fmt.Errorf("adding the new key to the key file: %w", err)
		}
	}
	if err := st.ActivateVaultKeeper(ctx, recordedKeeper(to, time.Now())); err != nil {
		return 0, err
	}
	say("keeper %s is current; waiting %s for servers to learn it", id, settle)
	select {
	case <-time.After(settle):
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	total := 0
	for {
		refs, err := st.SecretsNotWrappedBy(ctx, id, 100)
		if err != nil {
			return total, err
		}
		if len(refs) == 0 {
			return total, nil
		}
		progress := false
		for _, r := range refs {
			next, err := kr.Rewrap(ctx, r.Sealed, id)
			if errors.Is(err, vault.ErrOpen) {
				return total, fmt.Errorf("secret %s: its data key does not unwrap with keeper %s", r.ID, r.Sealed.KeeperID)
			}
			if err != nil {
				return total, fmt.Errorf("secret %s: %w", r.ID, err)
			}
			ok, err := st.RewrapSecret(ctx, r.ID, r.Sealed, next)
			if err != nil {
				return total, err
			}
			if ok {
				total++
				progress = true
			}
		}
		if !progress {
			// Every row changed under us (replaced values): read again,
			// after a breath.
			time.Sleep(50 * time.Millisecond)
		}
	}
}
