package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newMigrateCmd() *cobra.Command {
	var sf storeFlags
	c := &cobra.Command{
		Use: "migrate",
		Example: `  latchkey migrate --database-url "$DATABASE_URL"
  latchkey migrate --data-dir ./latchkey-data`,
		Short: "Apply the store's schema migrations and exit (run before starting new versions with --migrate=false)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			st, err := sf.open(c.Context())
			if err != nil {
				return err
			}
			defer st.Close()
			fmt.Fprintf(c.OutOrStdout(), "the store in %s is migrated to the latest schema\n", sf.where())
			return nil
		},
	}
	sf.register(c.Flags(), false)
	return c
}
