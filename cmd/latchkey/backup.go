package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/sqlite"
	"github.com/latchkey/latchkey/internal/vault"
	"github.com/spf13/cobra"
)

// pgBackupHint answers backup and restore on PostgreSQL: its own tools do
// it better than latchkey could (consistent dumps, parallel restore,
// point-in-time recovery).
const pgBackupHint = "on PostgreSQL, back up and restore with pg_dump and pg_restore (see docs/backup.md); latchkey backup and restore handle the SQLite store"

// storeFile is the SQLite database in a data directory.
func storeFile(dataDir string) string { return filepath.Join(dataDir, "latchkey.db") }

func newBackupCmd() *cobra.Command {
	var sf storeFlags
	var out string
	c := &cobra.Command{
		Use:   "backup",
		Short: "Write a consistent snapshot of the SQLite store to a file, while the server runs",
		Long: `Write a consistent snapshot of the SQLite store in --data-dir to --out,
with SQLite's VACUUM INTO. It may run while latchkey serves: the snapshot
holds every write acknowledged before it began. The file is a complete
database (no -wal file to copy beside it); restore it with latchkey restore.

On PostgreSQL use pg_dump (see docs/backup.md).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if sf.DatabaseURL != "" {
				return usagef("%s", pgBackupHint)
			}
			if out == "" {
				return usagef("backup needs --out FILE")
			}
			if _, err := os.Stat(storeFile(sf.DataDir)); err != nil {
				return usagef("no latchkey store in %s: %v", sf.DataDir, err)
			}
			st, err := sf.open(c.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			db, ok := st.Store.(*sqlite.DB)
			if !ok {
				return fmt.Errorf("the store in %s is not SQLite", sf.where())
			}
			start := time.Now()
			if err := db.Backup(c.Context(), out); err != nil {
				return offlineError(err)
			}
			fi, err := os.Stat(out)
			if err != nil {
				return err
			}
			fmt.Fprintf(c.OutOrStdout(), "backed up %s to %s (%d bytes, %v)\n", sf.DataDir, out, fi.Size(), time.Since(start).Round(time.Millisecond))
			// The master keys that seal vault values and SSO secrets live
			// beside the store, not in it: without them a restored store's
			// sealed values are lost.
			for _, name := range keyFiles {
				src := filepath.Join(sf.DataDir, name)
				if _, err := os.Stat(src); err != nil {
					continue
				}
				if err := copyFile(src, out+"."+name); err != nil {
					return err
				}
				fmt.Fprintf(c.OutOrStdout(), "copied the master key %s to %s: a secret, keep it apart from the backup\n", name, out+"."+name)
			}
			return nil
		},
	}
	sf.register(c.Flags(), false)
	c.Flags().StringVar(&out, "out", "", "file to write the snapshot to (must not exist)")
	return c
}

func newRestoreCmd() *cobra.Command {
	var sf storeFlags
	var from string
	var force bool
	c := &cobra.Command{
		Use:   "restore",
		Short: "Replace the SQLite store in --data-dir with a backup (the server must be stopped)",
		Long: `Replace the SQLite store in --data-dir with the backup in --from.

The backup is checked first (a SQLite database that passes its integrity
check, with latchkey's tables, of a schema this version knows). Restore
refuses while a server or another command has the store open, and refuses
to replace an existing store without --force; with --force the old store is
kept beside the new one as latchkey.db.replaced-<time> (with its -wal file),
never deleted. Start latchkey afterwards: it migrates an older backup.

On PostgreSQL use pg_restore (see docs/backup.md).`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if sf.DatabaseURL != "" {
				return usagef("%s", pgBackupHint)
			}
			if from == "" {
				return usagef("restore needs --from FILE")
			}
			ctx := c.Context()
			version, err := sqlite.CheckBackup(ctx, from)
			if err != nil {
				return usagef("refusing to restore: %s", latchkey.ErrorMessage(err))
			}
			replaced, err := restore(ctx, sf.DataDir, from, force)
			if err != nil {
				return err
			}
			w := c.OutOrStdout()
			fmt.Fprintf(w, "restored %s from %s (schema version %d)\n", sf.DataDir, from, version)
			for _, name := range keyFiles {
				restored, err := restoreKeyFile(from+"."+name, filepath.Join(sf.DataDir, name), force)
				if err != nil {
					return err
				}
				if restored {
					fmt.Fprintf(w, "restored the master key %s\n", name)
				}
			}
			if replaced != "" {
				fmt.Fprintf(w, "the previous store is kept as %s\n", replaced)
			}
			return nil
		},
	}
	sf.register(c.Flags(), false)
	f := c.Flags()
	f.StringVar(&from, "from", "", "the backup file to restore (from latchkey backup)")
	f.BoolVar(&force, "force", false, "replace an existing store (kept beside it as latchkey.db.replaced-<time>)")
	return c
}

// restore puts a copy of the checked backup at dataDir's store file, moving
// an existing store (and its WAL) aside. It returns the name the old store
// is kept under, if any.
func restore(ctx context.Context, dataDir, from string, force bool) (string, error) {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return "", fmt.Errorf("creating the data directory: %w", err)
	}
	dst := storeFile(dataDir)
	inUse, err := sqlite.InUse(ctx, dst)
	if err != nil {
		return "", err
	}
	if inUse {
		return "", usagef("the store in %s is in use (a running server or another latchkey command): stop it first", dataDir)
	}
	_, err = os.Stat(dst)
	exists := err == nil
	if exists && !force {
		return "", usagef("a store exists in %s: add --force to replace it (it is kept beside the restored one)", dataDir)
	}
	// Copy under a temporary name first: a crash midway leaves the old
	// store in place, never half a new one.
	tmp := dst + ".restoring"
	if err := copyFile(from, tmp); err != nil {
		_ = os.Remove(tmp)
		return "", err
	}
	replaced := ""
	if exists {
		replaced = fmt.Sprintf("%s.replaced-%s", dst, time.Now().UTC().Format("20060102T150405Z"))
		if err := os.Rename(dst, replaced); err != nil {
			_ = os.Remove(tmp)
			return "", err
		}
		// The WAL holds committed writes not yet in the file: it goes
		// with its database, named as SQLite expects beside the new
		// name. A stale WAL left beside the restored file would be
		// replayed into it.
		if err := os.Rename(dst+"-wal", replaced+"-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return "", err
		}
	}
	// The shared-memory index describes the old WAL; SQLite rebuilds it.
	if err := os.Remove(dst + "-shm"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.Remove(dst + "-wal"); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return "", err
	}
	if err := os.Rename(tmp, dst); err != nil {
		return "", err
	}
	d, err := os.Open(dataDir)
	if err != nil {
		return "", err
	}
	defer d.Close()
	return replaced, d.Sync()
}

// keyFiles are the master keys kept in the data directory: the master
// keyring, and the vaults' former key file of a data directory that no
// server of this version has opened yet (it is merged into the keyring on
// start, so a backup of such a directory must carry it).
var keyFiles = []string{vault.KeyFile, vault.LegacyKeyFile}

// restoreKeyFile puts the backup's copy of a master key in place. A key
// already there with other content is replaced only with force, and kept
// beside it: losing a key loses what it sealed.
func restoreKeyFile(from, to string, force bool) (bool, error) {
	want, err := os.ReadFile(from)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	have, err := os.ReadFile(to)
	switch {
	case err == nil && bytes.Equal(have, want):
		return false, nil
	case err == nil && !force:
		return false, usagef("%s differs from the backup's %s: add --force to replace it (it is kept beside)", to, from)
	case err == nil:
		if err := os.Rename(to, fmt.Sprintf("%s.replaced-%s", to, time.Now().UTC().Format("20060102T150405Z"))); err != nil {
			return false, err
		}
	case !errors.Is(err, fs.ErrNotExist):
		return false, err
	}
	return true, copyFile(from, to)
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return usagef("reading %s: %v", from, err)
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
