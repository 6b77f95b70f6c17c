package main

import (
	"encoding/json"
	"fmt"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/spf13/cobra"
)

func newInitCmd() *cobra.Command {
	var sf storeFlags
	var workspace, email, passwordFile string
	var asJSON bool
	c := &cobra.Command{
		Use: "init",
		Example: `  latchkey init --data-dir ./latchkey-data --workspace Acme --email admin@acme.example --password-file owner.pw
  latchkey init --database-url "$DATABASE_URL" --workspace Acme --email admin@acme.example --password-file owner.pw --json`,
		Short: "Initialise an empty store with a workspace and its owner (for scripted setups)",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if workspace == "" || email == "" || passwordFile == "" {
				return usagef("init needs --workspace, --email and --password-file")
			}
			pw, err := readPasswordFile(passwordFile)
			if err != nil {
				return err
			}
			store, err := sf.open(c.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			svc := manage.New(manage.Config{Store: store})
			first, err := svc.Init(c.Context(), workspace, email, pw)
			if err != nil {
				if code := latchkey.ErrorCode(err); code == latchkey.EINVALID || code == latchkey.ECONFLICT {
					return usagef("%s", latchkey.ErrorMessage(err))
				}
				return err
			}
			out := c.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]string{"workspace_id": first.Workspace.ID, "user_id": first.Owner.ID})
			}
			fmt.Fprintf(out, "initialised workspace %q (%s) with owner %s (%s)\n", first.Workspace.Name, first.Workspace.ID, first.Owner.Email, first.Owner.ID)
			return nil
		},
	}
	f := c.Flags()
	sf.register(f, false)
	f.StringVar(&workspace, "workspace", "", "name of the first workspace")
	f.StringVar(&email, "email", "", "email of its owner")
	f.StringVar(&passwordFile, "password-file", "", "file holding the owner's password (at least 12 characters)")
	f.BoolVar(&asJSON, "json", false, `print {"workspace_id", "user_id"} as JSON`)
	return c
}
