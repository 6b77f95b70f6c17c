package main

import (
	"encoding/json"
	"fmt"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/spf13/cobra"
)

func newOperatorCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "operator",
		Short: "Platform operator accounts and SCIM key issuance (run on the server, against the store)",
	}
	c.AddCommand(newOperatorCreateCmd(), newOperatorScimKeyCmd())
	return c
}

// offlineError turns a refused operation into a usage error (exit 2) and
// keeps other failures as they are (exit 1).
func offlineError(err error) error {
	switch latchkey.ErrorCode(err) {
	case latchkey.EINVALID, latchkey.ECONFLICT, latchkey.ENOTFOUND, latchkey.EFORBIDDEN:
		return usagef("%s", latchkey.ErrorMessage(err))
	}
	return err
}

func newOperatorCreateCmd() *cobra.Command {
	var sf storeFlags
	var email, passwordFile string
	var asJSON bool
	c := &cobra.Command{
		Use:   "create",
		Short: "Create a platform operator account",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if email == "" || passwordFile == "" {
				return usagef("operator create needs --email and --password-file")
			}
			pw, err := readSecretFile(passwordFile)
			if err != nil {
				return err
			}
			store, err := sf.open(c.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			u, err := manage.New(manage.Config{Store: store}).CreateOperator(c.Context(), email, pw)
			if err != nil {
				return offlineError(err)
			}
			if asJSON {
				return json.NewEncoder(c.OutOrStdout()).Encode(map[string]string{"user_id": u.ID, "email": u.Email})
			}
			fmt.Fprintf(c.OutOrStdout(), "created operator %s (%s)\n", u.Email, u.ID)
			return nil
		},
	}
	f := c.Flags()
	sf.register(f, false)
	f.StringVar(&email, "email", "", "the operator's email")
	f.StringVar(&passwordFile, "password-file", "", "file holding the operator's password (at least 12 characters)")
	f.BoolVar(&asJSON, "json", false, "print the result as JSON")
	return c
}

func newOperatorScimKeyCmd() *cobra.Command {
	var sf storeFlags
	var workspace, contact, integration string
	var asJSON bool
	c := &cobra.Command{
		Use:   "scim-key",
		Short: "Issue a workspace's SCIM key for an identity provider and print it once",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if workspace == "" || contact == "" || integration == "" {
				return usagef("operator scim-key needs --workspace, --contact-email and --integration (okta, entra or generic)")
			}
			store, err := sf.open(c.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			p := latchkey.Principal{Kind: latchkey.PrincipalOperator, Email: "latchkey operator scim-key"}
			k, secret, err := manage.New(manage.Config{Store: store}).IssueScimKeyDirect(c.Context(), p, workspace, contact, integration)
			if err != nil {
				return offlineError(err)
			}
			out := c.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"key": k, "secret": secret})
			}
			fmt.Fprintf(out, "issued SCIM key %s for %s (%s), contact %s\n", k.ID, workspace, integration, contact)
			fmt.Fprintf(out, "secret (store it now: it cannot be shown again):\n%s\n", secret)
			return nil
		},
	}
	f := c.Flags()
	sf.register(f, false)
	f.StringVar(&workspace, "workspace", "", "workspace id")
	f.StringVar(&contact, "contact-email", "", "email of the person who requested the key")
	f.StringVar(&integration, "integration", "", "identity provider: okta, entra or generic")
	f.BoolVar(&asJSON, "json", false, "print the key and secret as JSON")
	return c
}
