package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
	"github.com/spf13/cobra"
)

// clientError is an error answer of the server, kept with its status so
// that 4xx answers exit with code 2, and with the command's flags so that
// its message names them rather than the API's fields.
type clientError struct {
	status int
	err    *client.Error
	flags  flagNames
}

func (e clientError) Error() string {
	msg := e.flags.rewrite(e.err.Message, e.err.Field())
	if msg == "" {
		msg = "the server refused the request"
	}
	msg += " (" + string(e.err.Code) + ")"
	if e.status >= 500 && e.err.RequestID != "" {
		msg += "; request id " + e.err.RequestID
	}
	return msg
}

func (e clientError) Unwrap() error { return e.err }

// keysOptions are the connection flags every keys subcommand shares.
type keysOptions struct {
	url, token, tokenFile, workspace string
	json                             bool
}

func newKeysCmd() *cobra.Command {
	o := &keysOptions{}
	c := &cobra.Command{
		Use:   "keys",
		Short: "Manage API keys on a latchkey server",
		Long: `Manage API keys on a running latchkey server through its management API.

The server is LATCHKEY_URL (or --url), the management key LATCHKEY_TOKEN (or
--token-file, or --token, which other users of the machine may see in the
process list). The workspace is LATCHKEY_WORKSPACE (or --workspace); without
it, the management key's own workspace. keys verify needs the server only.`,
		Example: `  export LATCHKEY_URL=http://127.0.0.1:8080 LATCHKEY_TOKEN=lk_prod_...
  latchkey keys create --name "CI deploys" --scope items:read --expires-in 90d
  latchkey keys list --status active
  latchkey keys update key_01J... --scope items:read,users:read
  latchkey keys reset key_01J... --grace-period 1h
  echo "$API_KEY" | latchkey keys verify --scope items:read`,
	}
	pf := c.PersistentFlags()
	pf.StringVar(&o.url, "url", "", "base URL of the latchkey server")
	pf.StringVar(&o.token, "token", "", "management key (prefer LATCHKEY_TOKEN or --token-file)")
	pf.StringVar(&o.tokenFile, "token-file", "", "file holding the management key")
	pf.StringVar(&o.workspace, "workspace", "", "workspace id (default: the management key's workspace)")
	pf.BoolVar(&o.json, "json", false, "print the API's JSON answer")
	fromEnv(pf, "url", "token", "token-file", "workspace")
	c.AddCommand(o.createCmd(), o.listCmd(), o.getCmd(), o.updateCmd(), o.revokeCmd(), o.disableCmd(), o.enableCmd(),
		o.resetCmd(), o.deleteCmd(), o.verifyCmd(), o.usageCmd())
	return c
}

// connect checks the connection flags and resolves the workspace. Every
// mistake here is a usage error: nothing was sent yet.
func (o *keysOptions) connect(ctx context.Context) (*client.Client, string, error) {
	if err := o.checkURL(); err != nil {
		return nil, "", err
	}
	tok := o.token
	if o.tokenFile != "" {
		if tok != "" {
			return nil, "", usagef("give the management key once: --token (LATCHKEY_TOKEN) or --token-file (LATCHKEY_TOKEN_FILE)")
		}
		var err error
		if tok, err = readSecretFile(o.tokenFile); err != nil {
			return nil, "", err
		}
	}
	if tok == "" {
		return nil, "", usagef("no management key given: set LATCHKEY_TOKEN, or --token-file")
	}
	c, err := client.New(o.url, client.WithToken(tok), client.WithUserAgent("latchkey-cli"))
	if err != nil {
		return nil, "", usagef("--url: %v", err)
	}
	if o.workspace != "" {
		return c, o.workspace, nil
	}
	me, err := c.Me(ctx)
	if err != nil {
		return nil, "", o.fail(err)
	}
	if len(me.Workspaces) != 1 {
		return nil, "", usagef("give --workspace (LATCHKEY_WORKSPACE): %s belongs to %d workspaces", me.User.Email, len(me.Workspaces))
	}
	return c, me.Workspaces[0].ID, nil
}

// checkURL checks --url (LATCHKEY_URL) before anything is sent.
func (o *keysOptions) checkURL() error {
	if o.url == "" {
		return usagef("no server given: set LATCHKEY_URL or --url (such as http://127.0.0.1:8080)")
	}
	if u, err := url.Parse(o.url); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil {
		return usagef("--url %q is not a server URL: want http(s)://host[:port]", o.url)
	}
	return nil
}

// fail turns a client error into what run maps to an exit code: a
// clientError for an answer, a plain error (exit 1) for a network failure.
// flags, when given, are the command's flags by API field.
func (o *keysOptions) fail(err error, flags ...flagNames) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		e := clientError{status: ce.Status, err: ce}
		if len(flags) > 0 {
			e.flags = flags[0]
		}
		return e
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("cannot reach the latchkey server at %s: %w", o.url, ue.Err)
	}
	return err
}

func (o *keysOptions) printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (o *keysOptions) createCmd() *cobra.Command {
	var (
		in               client.CreateKeyRequest
		env, expiresAt   string
		scopes, settings []string
		budget           budgetFlags
	)
	c := &cobra.Command{
		Use:   "create",
		Short: "Create a key and print its secret, once",
		Example: `  latchkey keys create --name "CI deploys" --scope items:read --scope users:read --expires-in 90d
  latchkey keys create --name "sync agent" --type on_premise --setting retrieve_signatures=true
  latchkey keys create --name sandbox --environment demo --json | jq -r .secret
  latchkey keys create --name "Acme (pro plan)" --credits 10000 --refill monthly:10000 --ratelimit api=100/1m`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if strings.TrimSpace(in.Name) == "" {
				return usagef("create needs --name, the key's title")
			}
			var err error
			if in.Environment, err = keyEnvironment(env); err != nil {
				return err
			}
			if in.Settings, err = parseKeySettings(settings); err != nil {
				return err
			}
			in.Scopes = scopes
			if in.Credits, _, err = budget.creditsInput(c.Flags()); err != nil {
				return err
			}
			if len(budget.ratelimits) > 0 {
				if in.RateLimits, err = budget.namedLimits(); err != nil {
					return err
				}
			}
			if expiresAt != "" {
				if in.ExpiresIn != "" {
					return usagef("give --expires-in or --expires-at, not both")
				}
				t, err := time.Parse(time.RFC3339, expiresAt)
				if err != nil {
					return usagef("--expires-at %q is not an RFC 3339 time such as 2027-01-31T12:00:00Z", expiresAt)
				}
				in.ExpiresAt = &t
			}
			cl, ws, err := o.connect(c.Context())
			if err != nil {
				return err
			}
			k, err := cl.CreateKey(c.Context(), ws, in)
			if err != nil {
				return o.fail(err, createFlags)
			}
			out := c.OutOrStdout()
			if o.json {
				return o.printJSON(out, k)
			}
			fmt.Fprintf(out, "created key %s %q (%s, %s), %s\n", k.Key.ID, k.Key.Name, k.Key.Type, k.Key.Environment, expiryPhrase(k.Key.ExpiresAt))
			printSecret(out, k.Secret)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&in.Name, "name", "", "title of the key, 1 to 100 characters (required)")
	f.StringVar(&in.Description, "description", "", "what the key is for")
	f.StringVar(&in.Type, "type", "", "key type from the server's catalog (default public_api)")
	f.StringVar(&env, "environment", "", "production or demo (default production)")
	f.StringVar(&in.Owner, "owner", "", `"workspace" or "me" (a personal key)`)
	f.StringArrayVar(&scopes, "scope", nil, "a scope such as items:read (repeatable)")
	f.StringArrayVar(&settings, "setting", nil, "a setting name=value; true and false are booleans (repeatable)")
	f.StringVar(&in.ExpiresIn, "expires-in", "", "lifetime: 1h, 12h, 1d, 5d, 30d, 90d, 1y or a duration")
	f.StringVar(&expiresAt, "expires-at", "", "expiry as an RFC 3339 time")
	f.StringVar(&in.CallbackURL, "callback-url", "", "https URL that receives the key's webhooks")
	budget.register(f, false)
	return c
}

func (o *keysOptions) resetCmd() *cobra.Command {
	var grace string
	c := &cobra.Command{
		Use:   "reset ID",
		Short: "Give a key a new secret and print it, once",
		Long: `Give a key a new secret, keeping its id, scopes and settings. The old
secret stops working at once, or after --grace-period (at most 7d) so that
deployments can switch over.`,
		Example: `  latchkey keys reset key_01J...
  latchkey keys reset key_01J... --grace-period 1d --json | jq -r .secret`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var d latchkey.Duration
			if grace != "" {
				var err error
				if d, err = latchkey.ParseDuration(grace); err != nil {
					return usagef("--grace-period: %s", latchkey.ErrorMessage(err))
				}
			}
			cl, ws, err := o.connect(c.Context())
			if err != nil {
				return err
			}
			k, err := cl.ResetKey(c.Context(), ws, args[0], time.Duration(d))
			if err != nil {
				return o.fail(err, resetFlags)
			}
			out := c.OutOrStdout()
			if o.json {
				return o.printJSON(out, k)
			}
			fmt.Fprintf(out, "reset key %s %q\n", k.Key.ID, k.Key.Name)
			printSecret(out, k.Secret)
			if d > 0 {
				fmt.Fprintf(out, "The old secret keeps working for %s, then stops.\n", d)
			} else {
				fmt.Fprintln(out, "The old secret has stopped working.")
			}
			return nil
		},
	}
	c.Flags().StringVar(&grace, "grace-period", "", "how long the old secret keeps working, such as 1h or 1d (at most 7d)")
	return c
}

// printSecret shows a secret the only time it exists outside its owner's
// hands: set apart, with the warning next to it.
func printSecret(w io.Writer, secret string) {
	fmt.Fprintf(w, "\nSecret (store it now: it cannot be shown again):\n\n    %s\n\n", secret)
}

// keyEnvironment reads --environment, accepting the token tags too.
func keyEnvironment(s string) (latchkey.Environment, error) {
	if s == "" {
		return "", nil
	}
	if e := latchkey.Environment(s); e.Valid() {
		return e, nil
	}
	if e, ok := latchkey.EnvironmentFromTag(s); ok {
		return e, nil
	}
	return "", usagef(`--environment %q: want "production" or "demo"`, s)
}

// parseKeySettings reads repeated --setting name=value flags.
func parseKeySettings(flags []string) (map[string]any, error) {
	if len(flags) == 0 {
		return nil, nil
	}
	out := make(map[string]any, len(flags))
	for _, f := range flags {
		k, v, ok := strings.Cut(f, "=")
		if k = strings.TrimSpace(k); !ok || k == "" {
			return nil, usagef("--setting %q: write it as name=value, such as retrieve_signatures=true", f)
		}
		switch v {
		case "true":
			out[k] = true
		case "false":
			out[k] = false
		default:
			out[k] = v
		}
	}
	return out, nil
}
