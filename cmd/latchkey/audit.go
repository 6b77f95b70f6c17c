package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
)

func newAuditCmd() *cobra.Command {
	c := &cobra.Command{
		Use: "audit",
		Example: `  latchkey audit verify --data-dir ./latchkey-data
  latchkey audit verify --database-url postgres://latchkey@db/latchkey`,
		Short: "Check the audit log",
	}
	c.AddCommand(newAuditVerifyCmd())
	return c
}

// errChainBroken makes `audit verify` exit 1 once it has said where.
var errChainBroken = errors.New("the audit log was changed: see above")

func newAuditVerifyCmd() *cobra.Command {
	var sf storeFlags
	var workspace string
	c := &cobra.Command{
		Use: "verify",
		Example: `  latchkey audit verify --data-dir ./latchkey-data
  latchkey audit verify --workspace ws_01J... --database-url "$DATABASE_URL"`,
		Short: "Check every workspace's audit chain and name the first event that was altered, removed or inserted",
		Long: `Reads each workspace's audit log in chain order on the host, recomputes every
event's hash and checks it follows the one before, and that the chain ends at
its recorded head. It names the first event that was altered, removed or
inserted, and exits 1 if any chain is broken.

It proves the log is the one latchkey wrote, up to a store rewritten as a whole:
compare the heads it prints with ones kept elsewhere (GET
/v1/workspaces/{ws}/events/head) to rule that out too.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			ctx := c.Context()
			st, err := sf.open(ctx)
			if err != nil {
				return err
			}
			defer st.Close()
			var heads []latchkey.ChainHead
			if c.Flags().Changed("workspace") {
				h, err := st.ChainHead(ctx, workspace)
				if err != nil {
					return err
				}
				heads = []latchkey.ChainHead{h}
			} else if heads, err = st.ChainHeads(ctx); err != nil {
				return err
			}
			out := c.OutOrStdout()
			broken := false
			for _, head := range heads {
				name := head.WorkspaceID
				if name == "" {
					name = "platform"
				}
				v := latchkey.ChainVerifier{WorkspaceID: head.WorkspaceID}
				n := 0
				err := st.EachEvent(ctx, latchkey.EventFilter{WorkspaceID: head.WorkspaceID}, func(ev *latchkey.Event) error {
					n++
					return v.Next(ev)
				})
				if err == nil {
					err = v.End(head)
				}
				var brk *latchkey.ChainBreak
				switch {
				case errors.As(err, &brk):
					broken = true
					if brk.EventID == "" {
						fmt.Fprintf(out, "%s: BROKEN after %d events: %s\n", name, n, brk.Reason)
					} else {
						fmt.Fprintf(out, "%s: BROKEN at event %s (seq %d): %s\n", name, brk.EventID, brk.Seq, brk.Reason)
					}
				case err != nil:
					return err
				default:
					fmt.Fprintf(out, "%s: %d events, intact, head %s\n", name, n, head.Hash)
				}
			}
			if broken {
				return errChainBroken
			}
			return nil
		},
	}
	sf.register(c.Flags(), false)
	c.Flags().StringVar(&workspace, "workspace", "", `check only this workspace's chain ("" for the platform's)`)
	return c
}
