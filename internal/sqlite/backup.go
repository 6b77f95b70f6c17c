package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
)

// Backup writes a consistent snapshot of the database to path with VACUUM
// INTO, while the store serves: the snapshot is one read transaction, so it
// holds every transaction committed before it began and none after, and
// WAL lets other processes (a running server) keep writing meanwhile. It
// runs on the store's write connection because the read pool is query-only;
// in this process, writes wait for it (milliseconds per megabyte).
//
// The snapshot is a self-contained database file (no -wal beside it),
// written under a temporary name, fsynced and renamed to path, so a crash
// never leaves a partial file named path. ECONFLICT if path exists.
func (db *DB) Backup(ctx context.Context, path string) error {
	if path == "" || strings.ContainsRune(path, 0) {
		return latchkey.Errorf(latchkey.EINVALID, "no backup file named")
	}
	if _, err := os.Lstat(path); err == nil {
		return latchkey.Errorf(latchkey.ECONFLICT, "%s exists: choose a new file name", path)
	}
	tmp := path + ".partial"
	if err := os.Remove(tmp); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if _, err := db.write.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	if err := syncFile(tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	// Link, not rename: it fails rather than replace a file created at
	// path meanwhile.
	if err := os.Link(tmp, path); err != nil {
		_ = os.Remove(tmp)
		if errors.Is(err, fs.ErrExist) {
			return latchkey.Errorf(latchkey.ECONFLICT, "%s exists: choose a new file name", path)
		}
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	_ = os.Remove(tmp)
	return syncDir(filepath.Dir(path))
}

// CheckBackup tells whether the file at path is a sound latchkey SQLite
// database this version can open: a SQLite file whose integrity check
// passes, with latchkey's tables, at a schema version no newer than this
// binary's migrations. It opens the file read-only and changes nothing.
// It returns the schema version; EINVALID says what is wrong.
func CheckBackup(ctx context.Context, path string) (int64, error) {
	if strings.ContainsAny(path, "?#\x00") {
		return 0, latchkey.Errorf(latchkey.EINVALID, "the file name %q holds ? or #: rename the file", path)
	}
	f, err := os.Open(path)
	if err != nil {
		return 0, latchkey.Errorf(latchkey.EINVALID, "cannot read %s: %v", path, err)
	}
	header := make([]byte, 16)
	_, err = f.Read(header)
	f.Close()
	if err != nil || string(header) != "SQLite format 3\x00" {
		return 0, latchkey.Errorf(latchkey.EINVALID, "%s is not a SQLite database", path)
	}
	// immutable=1 reads the file as it is, without a -wal or -shm file
	// and without creating one next to it.
	c, err := sql.Open("sqlite", "file:"+path+"?mode=ro&immutable=1")
	if err != nil {
		return 0, fmt.Errorf("sqlite: %w", err)
	}
	defer c.Close()
	var result string
	if err := c.QueryRowContext(ctx, `PRAGMA integrity_check(1)`).Scan(&result); err != nil {
		return 0, latchkey.Errorf(latchkey.EINVALID, "%s fails SQLite's integrity check: %v", path, err)
	}
	if result != "ok" {
		return 0, latchkey.Errorf(latchkey.EINVALID, "%s fails SQLite's integrity check: %s", path, result)
	}
	var n, current int
	err = c.QueryRowContext(ctx, `SELECT count(*), count(CASE WHEN name = ? THEN 1 END) FROM sqlite_master WHERE type = 'table'
		AND name IN ('goose_db_version', ?, 'workspaces', 'users', 'keys', 'events')`, historyTable, historyTable).Scan(&n, &current)
	if err != nil || n != 5 {
		return 0, latchkey.Errorf(latchkey.EINVALID, "%s is a SQLite database but not a latchkey store", path)
	}
	// A store from before the histories were put in step numbers its
	// migrations as renumberLegacyHistory undoes.
	q := `SELECT coalesce(max(CASE WHEN version_id >= 3 THEN version_id + 1 ELSE version_id END), 0) FROM goose_db_version WHERE is_applied`
	if current > 0 {
		q = `SELECT coalesce(max(version_id), 0) FROM ` + historyTable + ` WHERE is_applied`
	}
	var version int64
	if err := c.QueryRowContext(ctx, q).Scan(&version); err != nil {
		return 0, latchkey.Errorf(latchkey.EINVALID, "%s has no readable schema version: %v", path, err)
	}
	latest, err := latestMigration()
	if err != nil {
		return 0, err
	}
	if version > latest {
		return 0, latchkey.Errorf(latchkey.EINVALID, "%s has schema version %d, newer than this latchkey's %d: restore it with the version that made it", path, version, latest)
	}
	return version, nil
}

// InUse reports whether a process (a running server, a CLI command) has the
// database at path open: it tries to take the exclusive lock that no other
// connection allows, without waiting, and releases it at once.
func InUse(ctx context.Context, path string) (bool, error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	c, err := sql.Open("sqlite", dsn(path, "", "busy_timeout(0)", "locking_mode(EXCLUSIVE)"))
	if err != nil {
		return false, fmt.Errorf("sqlite: %w", err)
	}
	defer c.Close()
	c.SetMaxOpenConns(1)
	conn, err := c.Conn(ctx)
	if err != nil {
		return false, fmt.Errorf("sqlite: %w", err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `BEGIN EXCLUSIVE`); err != nil {
		if strings.Contains(err.Error(), "SQLITE_BUSY") || strings.Contains(err.Error(), "locked") {
			return true, nil
		}
		return false, fmt.Errorf("sqlite: %w", err)
	}
	_, _ = conn.ExecContext(ctx, `ROLLBACK`)
	return false, nil
}

// latestMigration is the version of the newest embedded migration.
func latestMigration() (int64, error) {
	fsys, err := Migrations()
	if err != nil {
		return 0, fmt.Errorf("sqlite: migrations: %w", err)
	}
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return 0, fmt.Errorf("sqlite: migrations: %w", err)
	}
	var latest int64
	for _, e := range entries {
		num, _, _ := strings.Cut(e.Name(), "_")
		if v, err := strconv.ParseInt(num, 10, 64); err == nil && v > latest {
			latest = v
		}
	}
	return latest, nil
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer f.Close()
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sqlite: backup: fsync: %w", err)
	}
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sqlite: backup: %w", err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sqlite: backup: fsync %s: %w", dir, err)
	}
	return nil
}
