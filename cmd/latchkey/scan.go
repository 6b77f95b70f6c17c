package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/internal/token"
)

// found is one token found by scan.
type found struct {
	file string
	line int
	tok  string
}

func newScanCmd() *cobra.Command {
	var prefix, report, keyFile string
	c := &cobra.Command{
		Use:   "scan PATH...",
		Short: "Find latchkey tokens in files",
		Long: `Find latchkey tokens in files and directories (recursively, .git skipped).

A token is reported only when it matches the pattern and its checksum is
right, so look-alikes and made-up examples are not. Each is printed as
file:line: start-of-token, never whole. The exit code is 1 when tokens were
found, 0 when none were, 2 on a usage mistake.

With --report the tokens are also sent to a latchkey server's /v1/leaks,
which acts on them as the workspace's leak policy says (revoke, by
default). That needs a management key with the leaks:report scope, from
LATCHKEY_KEY or --key-file; it reaches its own workspace's keys only.`,
		Example: `  latchkey scan .
  LATCHKEY_KEY=lk_prod_... latchkey scan --report https://keys.example.com src/ config/`,
		Args: cobra.ArbitraryArgs,
		RunE: func(c *cobra.Command, paths []string) error {
			if len(paths) == 0 {
				return usagef("name the files or directories to scan (see latchkey scan --help)")
			}
			format, err := token.NewFormat(prefix)
			if err != nil {
				return usagef("%v", err)
			}
			var key string
			if report != "" {
				if u, err := url.Parse(report); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
					return usagef("--report %q is not a server URL: want http(s)://host[:port]", report)
				}
				if key, err = scanKey(keyFile); err != nil {
					return err
				}
			}
			s := token.NewScanner(format)
			var all []found
			for _, p := range paths {
				list, err := scanPath(s, p, c.ErrOrStderr())
				if err != nil {
					return err
				}
				all = append(all, list...)
			}
			out := c.OutOrStdout()
			for _, f := range all {
				fmt.Fprintf(out, "%s:%d: %s\n", f.file, f.line, s.Redact(f.tok))
			}
			if report != "" && len(all) > 0 {
				real, err := reportLeaks(c.Context(), report, key, all)
				if err != nil {
					return err
				}
				fmt.Fprintf(out, "reported %d tokens to %s: %d are keys of the workspace\n", len(all), report, real)
			}
			if len(all) > 0 {
				return fmt.Errorf("%d latchkey tokens found", len(all))
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&prefix, "token-prefix", token.DefaultPrefix, "prefix of the tokens to find")
	f.StringVar(&report, "report", "", "send the tokens found to this latchkey server's /v1/leaks")
	f.StringVar(&keyFile, "key-file", "", "file holding the management key (leaks:report) for --report; default LATCHKEY_KEY")
	return c
}

func scanKey(keyFile string) (string, error) {
	env := os.Getenv("LATCHKEY_KEY")
	if keyFile != "" {
		if env != "" {
			return "", usagef("give the management key once: LATCHKEY_KEY or --key-file")
		}
		return readSecretFile(keyFile)
	}
	if env == "" {
		return "", usagef("--report needs a management key with leaks:report: set LATCHKEY_KEY or --key-file")
	}
	return strings.TrimSpace(env), nil
}

// scanPath scans a file, or every regular file under a directory. A path
// that does not exist is a usage mistake; a file that cannot be read
// inside a directory is reported on w and skipped.
func scanPath(s *token.Scanner, root string, w io.Writer) ([]found, error) {
	info, err := os.Stat(root)
	if err != nil {
		return nil, usagef("cannot scan %s: %v", root, errors.Unwrap(err))
	}
	if !info.IsDir() {
		return scanFile(s, root)
	}
	var out []found
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		switch {
		case err != nil:
			fmt.Fprintf(w, "latchkey scan: skipping %s: %v\n", p, err)
			return nil
		case d.IsDir() && d.Name() == ".git" && p != root:
			return filepath.SkipDir
		case !d.Type().IsRegular():
			return nil
		}
		list, err := scanFile(s, p)
		if err != nil {
			fmt.Fprintf(w, "latchkey scan: skipping %s: %v\n", p, err)
			return nil
		}
		out = append(out, list...)
		return nil
	})
	return out, err
}

// scanFile reads path in pieces of at most 64 KiB: a longer line
// (minified code, a binary) is scanned in pieces that overlap by a
// token's length, so memory stays bounded whatever the file holds.
func scanFile(s *token.Scanner, path string) ([]found, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []found
	r := bufio.NewReaderSize(f, 64<<10)
	line := 1
	var carry []byte // the end of a line too long to hold, rescanned with what follows
	for {
		chunk, err := r.ReadSlice('\n')
		if len(chunk) > 0 {
			buf := append(carry, chunk...)
			for _, m := range s.Find(buf) {
				// A token may not span the carried part alone: it was
				// reported with the previous piece.
				if m[1] > len(carry) {
					out = append(out, found{file: path, line: line, tok: string(buf[m[0]:m[1]])})
				}
			}
			carry = carry[:0]
			if bytes.HasSuffix(chunk, []byte("\n")) {
				line++
			} else if len(buf) > token.MaxLen {
				carry = append(carry, buf[len(buf)-token.MaxLen:]...)
			} else {
				carry = append(carry, buf...)
			}
		}
		switch {
		case err == bufio.ErrBufferFull:
			continue
		case err == io.EOF:
			return out, nil
		case err != nil:
			return nil, err
		}
	}
}

// reportLeaks sends the tokens to server's /v1/leaks in batches and
// returns how many the server recognised as its keys.
func reportLeaks(ctx context.Context, server, key string, all []found) (int, error) {
	type leak struct {
		Token  string `json:"token"`
		Type   string `json:"type"`
		URL    string `json:"url"`
		Source string `json:"source"`
	}
	hc := &http.Client{Timeout: 30 * time.Second}
	real := 0
	for start := 0; start < len(all); start += 1000 {
		batch := all[start:min(start+1000, len(all))]
		leaks := make([]leak, len(batch))
		for i, f := range batch {
			abs, _ := filepath.Abs(f.file)
			leaks[i] = leak{Token: f.tok, Type: "latchkey_api_key", URL: (&url.URL{Scheme: "file", Path: abs}).String() + fmt.Sprintf("#L%d", f.line), Source: "latchkey scan"}
		}
		body, _ := json.Marshal(leaks)
		req, err := http.NewRequestWithContext(ctx, "POST", strings.TrimRight(server, "/")+"/v1/leaks", bytes.NewReader(body))
		if err != nil {
			return 0, usagef("--report: %v", err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+key)
		req.Header.Set("User-Agent", "latchkey-cli")
		resp, err := hc.Do(req)
		if err != nil {
			return 0, fmt.Errorf("reporting to %s: %v", server, err)
		}
		raw, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			var e struct {
				Error struct{ Code, Message string } `json:"error"`
			}
			json.Unmarshal(raw, &e)
			msg := fmt.Errorf("reporting to %s: the server answered %d %s: %s", server, resp.StatusCode, e.Error.Code, e.Error.Message)
			if resp.StatusCode >= 400 && resp.StatusCode < 500 {
				return 0, usageError{msg.Error()}
			}
			return 0, msg
		}
		var labels []struct {
			Label string `json:"label"`
		}
		if err := json.Unmarshal(raw, &labels); err != nil {
			return 0, fmt.Errorf("reporting to %s: the answer is not a list of labels", server)
		}
		for _, l := range labels {
			if l.Label == "true_positive" {
				real++
			}
		}
	}
	return real, nil
}
