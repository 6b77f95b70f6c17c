package sqlstore

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"strings"
	"testing/fstest"
	"text/template"
)

// A migration whose DDL differs between the databases only in column
// types is written once, here, as a template of those types; a test
// checked that each renders to the very text first released per database.
// Migrations that differ more (the first schema, PostgreSQL's NOTIFY
// triggers, SQLite's table rebuilds) live in each database's folder. Both
// histories carry the same numbers and names (a test checks it).
//
//go:embed migrations/*.sql
var shared embed.FS

// Types spells the column types a shared migration may use.
type Types struct {
	Postgres bool
	Bytes    string // a hash or other bytes: BLOB, BYTEA
	Time     string // a timestamp: BIGINT unix microseconds, TIMESTAMPTZ
	JSON     string // a JSON document: TEXT, JSONB
	ID       string // an id, ordered byte by byte: TEXT, TEXT COLLATE "C"
	Serial   string // a generated integer primary key
}

// Migrations returns the migrations folder of own, a database's embedded
// files, with the shared migrations rendered for its types: the file set
// goose migrates from.
func Migrations(own fs.FS, t Types) (fs.FS, error) {
	own, err := fs.Sub(own, "migrations")
	if err != nil {
		return nil, err
	}
	out := fstest.MapFS{}
	add := func(fsys fs.FS, render bool) error {
		names, err := fs.Glob(fsys, "*.sql")
		if err != nil {
			return err
		}
		for _, name := range names {
			if _, dup := out[name]; dup {
				return fmt.Errorf("migration %s is both shared and the database's own", name)
			}
			b, err := fs.ReadFile(fsys, name)
			if err != nil {
				return err
			}
			if render {
				tpl, err := template.New(name).Option("missingkey=error").Parse(string(b))
				if err != nil {
					return fmt.Errorf("migration %s: %w", name, err)
				}
				var buf bytes.Buffer
				if err := tpl.Execute(&buf, t); err != nil {
					return fmt.Errorf("migration %s: %w", name, err)
				}
				b = buf.Bytes()
			}
			out[path.Base(name)] = &fstest.MapFile{Data: b, Mode: 0o444}
		}
		return nil
	}
	sub, err := fs.Sub(shared, "migrations")
	if err != nil {
		return nil, err
	}
	if err := add(own, false); err != nil {
		return nil, err
	}
	if err := add(sub, true); err != nil {
		return nil, err
	}
	return out, nil
}

// MigrationNames lists the names of fsys's migrations, in order.
func MigrationNames(fsys fs.FS) ([]string, error) {
	names, err := fs.Glob(fsys, "*.sql")
	for i, n := range names {
		names[i] = strings.TrimSuffix(n, ".sql")
	}
	return names, err
}
