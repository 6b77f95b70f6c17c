package main

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
	"github.com/spf13/cobra"
)

func (o *keysOptions) listCmd() *cobra.Command {
	var (
		opts        client.ListKeysOptions
		status, env string
		all         bool
	)
	c := &cobra.Command{
		Use:   "list",
		Short: "List keys, as a table or as JSON",
		Example: `  latchkey keys list
  latchkey keys list --status expiring --environment production
  latchkey keys list --all --json | jq -r '.data[] | select(.status == "expired") | .id'`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if opts.Status = latchkey.Status(status); status != "" && !opts.Status.Valid() {
				return usagef("--status %q: want active, expiring, expired, revoked or disabled", status)
			}
			var err error
			if opts.Environment, err = keyEnvironment(env); err != nil {
				return err
			}
			if opts.Limit < 0 || opts.Limit > 200 {
				return usagef("--limit must be between 1 and 200")
			}
			cl, ws, err := o.connect(c.Context())
			if err != nil {
				return err
			}
			page := &client.KeyPage{Data: []client.Key{}}
			if all {
				for k, err := range cl.AllKeys(c.Context(), ws, opts) {
					if err != nil {
						return o.fail(err, listFlags)
					}
					page.Data = append(page.Data, *k)
				}
			} else if page, err = cl.ListKeys(c.Context(), ws, opts); err != nil {
				return o.fail(err, listFlags)
			}
			out := c.OutOrStdout()
			if o.json {
				if page.Data == nil {
					page.Data = []client.Key{}
				}
				return o.printJSON(out, page)
			}
			if len(page.Data) == 0 {
				fmt.Fprintln(out, "No keys.")
				return nil
			}
			printKeyTable(out, page.Data)
			if page.NextCursor != "" {
				fmt.Fprintf(c.ErrOrStderr(), "More keys: add --cursor %s, or --all.\n", page.NextCursor)
			}
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&status, "status", "", "active, expiring, expired, revoked or disabled")
	f.StringVar(&opts.Type, "type", "", "key type, such as public_api")
	f.StringVar(&env, "environment", "", "production or demo")
	f.StringVar(&opts.Owner, "owner", "", `"workspace", "me" or a user id`)
	f.StringVar(&opts.Query, "q", "", "part of the key's name")
	f.IntVar(&opts.Limit, "limit", 0, "keys per page, 1 to 200 (default: the server's)")
	f.StringVar(&opts.Cursor, "cursor", "", "start at this page (a next_cursor)")
	f.BoolVar(&all, "all", false, "follow the cursors and list every key")
	return c
}

func (o *keysOptions) getCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "get ID",
		Short: "Show one key",
		Example: `  latchkey keys get key_01J...
  latchkey keys get key_01J... --json | jq .key.scopes`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, ws, err := o.connect(c.Context())
			if err != nil {
				return err
			}
			k, err := cl.GetKey(c.Context(), ws, args[0])
			if err != nil {
				return o.fail(err)
			}
			if o.json {
				return o.printJSON(c.OutOrStdout(), map[string]*client.Key{"key": k})
			}
			printKey(c.OutOrStdout(), k)
			return nil
		},
	}
}

func (o *keysOptions) revokeCmd() *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "revoke ID",
		Short: "Revoke a key for good (it stays listed as revoked)",
		Long: `Revoke a key for good: it stops verifying at once, on every instance,
and cannot be resumed (to suspend a key for a while, use keys disable).

On a terminal it asks first; scripts pass --yes.`,
		Example: `  latchkey keys revoke key_01J...
  latchkey keys revoke key_01J... --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := confirmFirst(c, yes, "revoke"); err != nil {
				return err
			}
			cl, ws, err := o.connect(c.Context())
			if err != nil {
				return err
			}
			if !yes {
				k, err := cl.GetKey(c.Context(), ws, args[0])
				if err != nil {
					return o.fail(err)
				}
				if !confirm(c, fmt.Sprintf("Revoke key %s %q (%s, %s) for good? It stops working at once and cannot be undone.",
					k.ID, cell(k.Name), k.Type, k.Environment)) {
					return notConfirmed("not revoked")
				}
			}
			k, err := cl.RevokeKey(c.Context(), ws, args[0])
			if err != nil {
				return o.fail(err)
			}
			if o.json {
				return o.printJSON(c.OutOrStdout(), map[string]*client.Key{"key": k})
			}
			fmt.Fprintf(c.OutOrStdout(), "revoked key %s %q: it no longer verifies\n", k.ID, k.Name)
			return nil
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "revoke without asking (for scripts)")
	return c
}

func (o *keysOptions) deleteCmd() *cobra.Command {
	var yes bool
	c := &cobra.Command{
		Use:   "delete ID",
		Short: "Delete a key at once (its audit events stay)",
		Long: `Delete a key at once: verification answers key_invalid, and the key is
no longer listed. Its audit events stay.

On a terminal it asks first; scripts pass --yes.`,
		Example: `  latchkey keys delete key_01J...
  latchkey keys list --status revoked --json | jq -r '.data[].id' | xargs -n1 latchkey keys delete --yes`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if err := confirmFirst(c, yes, "delete"); err != nil {
				return err
			}
			cl, ws, err := o.connect(c.Context())
			if err != nil {
				return err
			}
			// Read it first to say what was deleted; a key that cannot be
			// read (a key without keys:read) is still deleted.
			k, err := cl.GetKey(c.Context(), ws, args[0])
			if client.IsNotFound(err) {
				return o.fail(err)
			}
			if !yes {
				what := args[0]
				if k != nil {
					what = fmt.Sprintf("%s %q (%s, %s, %s)", k.ID, cell(k.Name), k.Type, k.Environment, k.Start)
				}
				if !confirm(c, "Delete key "+what+"? It stops working at once and cannot be undone.") {
					return notConfirmed("not deleted")
				}
			}
			if err := cl.DeleteKey(c.Context(), ws, args[0]); err != nil {
				return o.fail(err)
			}
			out := c.OutOrStdout()
			if o.json {
				return o.printJSON(out, struct {
					Deleted string      `json:"deleted"`
					Key     *client.Key `json:"key,omitempty"`
				}{args[0], k})
			}
			if k == nil {
				fmt.Fprintf(out, "deleted key %s\n", args[0])
				return nil
			}
			fmt.Fprintf(out, "deleted key %s %q (%s, %s, %s)\n", k.ID, k.Name, k.Type, k.Environment, k.Start)
			return nil
		},
	}
	c.Flags().BoolVarP(&yes, "yes", "y", false, "delete without asking (for scripts)")
	return c
}

func printKeyTable(w io.Writer, keys []client.Key) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tTYPE\tENV\tOWNER\tSTART\tSTATUS\tEXPIRES\tLAST USED")
	for _, k := range keys {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, cell(k.Name), k.Type, k.Environment,
			k.Owner, k.Start, k.Status, keyTime(k.ExpiresAt, "never"), keyTime(k.LastUsedAt, "never"))
	}
	tw.Flush()
}

func printKey(w io.Writer, k *client.Key) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	row := func(name, value string) {
		if value != "" {
			fmt.Fprintf(tw, "%s:\t%s\n", name, value)
		}
	}
	row("ID", k.ID)
	row("Name", cell(k.Name))
	row("Description", cell(k.Description))
	row("Type", k.Type)
	row("Environment", string(k.Environment))
	row("Owner", k.Owner)
	row("Scopes", strings.Join(k.Scopes, " "))
	var settings []string
	for _, name := range slices.Sorted(maps.Keys(k.Settings)) {
		settings = append(settings, fmt.Sprintf("%s=%v", name, k.Settings[name]))
	}
	row("Settings", strings.Join(settings, " "))
	row("Start", k.Start)
	row("Status", string(k.Status))
	row("Created", keyTime(&k.CreatedAt, "")+" by "+k.CreatedBy)
	row("Expires", keyTime(k.ExpiresAt, "never"))
	row("Last used", keyTime(k.LastUsedAt, "never"))
	if k.RevokedAt != nil {
		row("Revoked", keyTime(k.RevokedAt, "")+" by "+k.RevokedBy)
	}
	if k.DisabledAt != nil {
		row("Disabled", keyTime(k.DisabledAt, "")+" by "+k.DisabledBy)
	}
	row("Callback URL", k.CallbackURL)
	if k.RateLimit != nil {
		row("Rate limit", fmt.Sprintf("%d per %s", k.RateLimit.Limit, k.RateLimit.Period))
	}
	if c := k.Credits; c != nil {
		credits := fmt.Sprintf("%d remaining", c.Remaining)
		if c.Refill != nil {
			credits += fmt.Sprintf(", refilled to %d %s", c.Refill.Amount, c.Refill.Interval)
		}
		row("Credits", credits)
	}
	var limits []string
	for _, l := range k.RateLimits {
		limits = append(limits, fmt.Sprintf("%s=%d/%s", l.Name, l.Limit, l.Duration))
	}
	row("Named limits", strings.Join(limits, " "))
	row("Allowed IPs", strings.Join(k.AllowedIPs, " "))
	row("External ID", cell(k.ExternalID))
	row("Meta", cell(string(k.Meta)))
	tw.Flush()
}

// keyTime is a time for people: minutes, UTC.
func keyTime(t *time.Time, none string) string {
	if t == nil || t.IsZero() {
		return none
	}
	return t.UTC().Format("2006-01-02 15:04 UTC")
}

func expiryPhrase(t *time.Time) string {
	if t == nil {
		return "never expires"
	}
	return "expires " + keyTime(t, "")
}

// cell keeps user text from breaking a table or a terminal: no tabs,
// newlines or control characters.
func cell(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}
