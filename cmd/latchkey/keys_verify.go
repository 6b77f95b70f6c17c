package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/latchkey/latchkey/client"
)

// verifyAnswer is what keys verify --json prints.
type verifyAnswer struct {
	Valid      bool                `json:"valid"`
	Code       string              `json:"code,omitempty"`
	Message    string              `json:"message,omitempty"`
	Missing    []string            `json:"missing_scopes,omitempty"`
	RetryAfter int64               `json:"retry_after_seconds,omitempty"`
	Key        *client.VerifiedKey `json:"key,omitempty"`
}

func (o *keysOptions) verifyCmd() *cobra.Command {
	var (
		scopes   []string
		typ, env string
		keyID    string
	)
	c := &cobra.Command{
		Use:   "verify [KEY]",
		Short: "Ask the server whether an API key is valid, as your API would",
		Long: `Verify an API key against the server, with the requirements your API
would make (--scope, --type, --environment), and print the decision.

The key is read from standard input when not given (or given as "-"): a
key on the command line is visible to other users of the machine in the
process list. No management key is needed, only the server's URL.

Exit code 0: valid. 1: refused (the reason is printed). 2: bad usage.`,
		Example: `  echo "$API_KEY" | latchkey keys verify --scope items:read
  latchkey keys verify --environment production < key.txt
  latchkey keys verify --json - < key.txt | jq .key.scopes`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			environment, err := keyEnvironment(env)
			if err != nil {
				return err
			}
			if err := o.checkURL(); err != nil {
				return err
			}
			var key string
			if len(args) == 1 && args[0] != "-" {
				key = args[0]
			} else if key, err = readKey(c); err != nil {
				return err
			}
			if key == "" {
				return usagef("no key to verify: give it on standard input (or as the argument)")
			}
			cl, err := client.New(o.url, client.WithUserAgent("latchkey-cli"))
			if err != nil {
				return usagef("--url: %v", err)
			}
			res, err := cl.Verify(c.Context(), client.VerifyRequest{Key: key, KeyID: keyID, Scopes: scopes, Type: typ, Environment: environment})
			if err != nil {
				return o.fail(err, verifyFlags)
			}
			out := c.OutOrStdout()
			if o.json {
				a := verifyAnswer{Valid: res.Valid, Code: string(res.Code), Message: res.Message, Missing: res.Missing,
					RetryAfter: int64(res.RetryAfter / time.Second), Key: res.Key}
				if err := o.printJSON(out, a); err != nil {
					return err
				}
			} else {
				printDecision(out, res)
			}
			if !res.Valid {
				return exitCode(1)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringSliceVar(&scopes, "scope", nil, "a scope the key must hold, such as items:read (repeatable)")
	f.StringVar(&typ, "type", "", "the key type the key must be, such as public_api")
	f.StringVar(&env, "environment", "", "the environment the key must be in: production or demo")
	f.StringVar(&keyID, "key-id", "", "the key's id, when your API receives it with the key (Basic auth)")
	return c
}

// readKey reads the key from standard input: the first line, without
// echo on a terminal.
func readKey(c *cobra.Command) (string, error) {
	in := c.InOrStdin()
	if f, ok := in.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(c.ErrOrStderr(), "API key (not shown): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(c.ErrOrStderr())
		if err != nil {
			return "", fmt.Errorf("reading the key: %w", err)
		}
		return strings.TrimSpace(string(b)), nil
	}
	line, err := bufio.NewReader(io.LimitReader(in, 4096)).ReadString('\n')
	if err != nil && err != io.EOF {
		return "", fmt.Errorf("reading the key from standard input: %w", err)
	}
	return strings.TrimSpace(line), nil
}

// printDecision prints a verification's decision for people; the key's
// secret is never repeated.
func printDecision(w io.Writer, res *client.VerifyResult) {
	if res.Valid {
		k := res.Key
		fmt.Fprintf(w, "valid: key %s %q (%s, %s)\n", k.ID, cell(k.Name), k.Type, k.Environment)
		fmt.Fprintf(w, "  workspace: %s\n  owner:     %s\n", k.WorkspaceID, k.Owner)
		if len(k.Scopes) > 0 {
			fmt.Fprintf(w, "  scopes:    %s\n", strings.Join(k.Scopes, " "))
		}
		fmt.Fprintf(w, "  expires:   %s\n", keyTime(k.ExpiresAt, "never"))
		return
	}
	fmt.Fprintf(w, "invalid: %s: %s\n", res.Code, res.Message)
	if len(res.Missing) > 0 {
		fmt.Fprintf(w, "  missing scopes: %s\n", strings.Join(res.Missing, " "))
	}
	if res.RetryAfter > 0 {
		fmt.Fprintf(w, "  retry after:    %s\n", res.RetryAfter)
	}
}
