package vault

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOpenKeyFileMerges(t *testing.T) {
	k1, k2 := bytes.Repeat([]byte{1}, 32), bytes.Repeat([]byte{2}, 32)
	cases := []struct {
		name          string
		keyring, old  string // "" for no file
		want          []string
		wantErr       string
		legacyRenamed bool
	}{
		{"new data dir", "", "", nil, "", false},
		{"keyring only", LocalURL(k1) + "\n", "", []string{LocalURL(k1)}, "", false},
		{"bare seal key only (read as is)", base64.StdEncoding.EncodeToString(k2) + "\n", "", []string{LocalURL(k2)}, "", false},
		{"both old files", base64.StdEncoding.EncodeToString(k2) + "\n", LocalURL(k1) + "\n", []string{LocalURL(k1), LocalURL(k2)}, "", true},
		{"vault file only", "", LocalURL(k1) + "\n", []string{LocalURL(k1)}, "", true},
		// A crash after the keyring was written, before the rename.
		{"interrupted merge", LocalURL(k1) + "\n" + LocalURL(k2) + "\n", LocalURL(k1) + "\n", []string{LocalURL(k1), LocalURL(k2)}, "", true},
		{"garbage", "not a key\n", "", nil, "neither a keeper URL", false},
		{"short bare key", base64.StdEncoding.EncodeToString(k1[:16]) + "\n", "", nil, "neither a keeper URL", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			path, legacy := filepath.Join(dir, KeyFile), filepath.Join(dir, LegacyKeyFile)
			if tc.keyring != "" {
				os.WriteFile(path, []byte(tc.keyring), 0o600)
			}
			if tc.old != "" {
				os.WriteFile(legacy, []byte(tc.old), 0o600)
			}
			got, err := OpenKeyFile(path, legacy, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("got %v, want an error with %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tc.want == nil {
				if len(got) != 1 || len(LocalKeys(got)) != 1 {
					t.Fatalf("a new keyring: got %d URLs, want one local key", len(got))
				}
			} else if strings.Join(got, " ") != strings.Join(tc.want, " ") {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			again, err := ReadKeyFile(path)
			if err != nil || strings.Join(again, " ") != strings.Join(got, " ") {
				t.Fatalf("the file holds %v (%v), want %v", again, err, got)
			}
			if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
				t.Fatalf("keyring mode %v, want 0600", fi.Mode().Perm())
			}
			if tc.old == "" && tc.keyring != "" {
				if b, _ := os.ReadFile(path); string(b) != tc.keyring {
					t.Fatalf("a keyring with nothing to merge was rewritten: %q, was %q", b, tc.keyring)
				}
			}
			_, err = os.Stat(legacy + ".merged")
			if renamed := err == nil; renamed != tc.legacyRenamed {
				t.Fatalf("legacy file kept as .merged: %v, want %v", renamed, tc.legacyRenamed)
			}
		})
	}
}
