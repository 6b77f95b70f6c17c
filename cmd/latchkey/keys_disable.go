package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/client"
)

func (o *keysOptions) disableCmd() *cobra.Command {
	return o.switchCmd("disable ID", "Suspend a key until it is enabled again (it answers key_disabled)",
		"  latchkey keys disable key_01J...\n  latchkey keys disable key_01J... --json | jq .key.status",
		"disabled key %s %q: it is refused until enabled\n",
		func(ctx context.Context, cl *client.Client, ws, id string) (*client.Key, error) {
			return cl.DisableKey(ctx, ws, id)
		})
}

func (o *keysOptions) enableCmd() *cobra.Command {
	return o.switchCmd("enable ID", "Resume a disabled key",
		"  latchkey keys enable key_01J...",
		"enabled key %s %q: it verifies again\n",
		func(ctx context.Context, cl *client.Client, ws, id string) (*client.Key, error) {
			return cl.EnableKey(ctx, ws, id)
		})
}

func (o *keysOptions) switchCmd(use, short, example, done string, fn func(context.Context, *client.Client, string, string) (*client.Key, error)) *cobra.Command {
	return &cobra.Command{
		Use:     use,
		Short:   short,
		Example: example,
		Args:    cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			cl, ws, err := o.connect(c.Context())
			if err != nil {
				return err
			}
			k, err := fn(c.Context(), cl, ws, args[0])
			if err != nil {
				return o.fail(err)
			}
			if o.json {
				return o.printJSON(c.OutOrStdout(), map[string]*client.Key{"key": k})
			}
			fmt.Fprintf(c.OutOrStdout(), done, k.ID, k.Name)
			return nil
		},
	}
}
