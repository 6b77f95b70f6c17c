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
		Use: "operator",
		Example: `  latchkey operator create --email support@vendor.example --password-file operator.pw
  latchkey operator scim-key --workspace ws_01J... --contact-email it@acme.example --integration okta`,
		Short: "Platform operator accounts and SCIM key issuance (run on the server, against the store)",
	}
	c.AddCommand(newOperatorCreateCmd(), newOperatorScimKeyCmd(), newOperatorPlatformKeyCmd())
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
		Use:     "create",
		Example: `  latchkey operator create --email support@vendor.example --password-file operator.pw --data-dir ./latchkey-data`,
		Short:   "Create a platform operator account",
		Args:    cobra.NoArgs,
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
	var workspace, contact, integration, request string
	var asJSON bool
	c := &cobra.Command{
		Use: "scim-key",
		Example: `  latchkey operator scim-key --request skr_01J...
  latchkey operator scim-key --workspace ws_01J... --contact-email it@acme.example --integration entra --json`,
		Short: "Approve a workspace's SCIM key, for its admins to pick up once",
		Long: `Approve a SCIM key for a workspace whose scim_key_issuance is operator:
either an existing request (--request skr_...), or a new one recorded and
approved at once (--workspace, --contact-email, --integration). No key and
no secret is shown here: the workspace's owners, super admins and admins
pick the key up once on their SCIM page (or with POST
/v1/workspaces/{ws}/scim-key-requests/{id}/pickup), and only they see it.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if request == "" && (workspace == "" || contact == "" || integration == "") {
				return usagef("operator scim-key needs --request, or --workspace, --contact-email and --integration (okta, entra or generic)")
			}
			if request != "" && (workspace != "" || contact != "" || integration != "") {
				return usagef("operator scim-key takes either --request or --workspace, --contact-email and --integration")
			}
			store, err := sf.open(c.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			p := latchkey.Principal{Kind: latchkey.PrincipalOperator, Email: "latchkey operator scim-key"}
			svc := manage.New(manage.Config{Store: store})
			var r *latchkey.ScimKeyRequest
			if request != "" {
				r, err = svc.ApproveScimKeyRequest(c.Context(), p, request)
			} else {
				r, err = svc.ApproveScimKeyDirect(c.Context(), p, workspace, contact, integration)
			}
			if err != nil {
				return offlineError(err)
			}
			out := c.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"request": r})
			}
			fmt.Fprintf(out, "approved SCIM key request %s for %s (%s), contact %s\n", r.ID, r.WorkspaceID, r.Integration, r.ContactEmail)
			fmt.Fprintf(out, "the workspace's owners, super admins and admins pick the key up once on their SCIM page\n")
			return nil
		},
	}
	f := c.Flags()
	sf.register(f, false)
	f.StringVar(&request, "request", "", "id of the request to approve (skr_...)")
	f.StringVar(&workspace, "workspace", "", "workspace id, to record and approve a new request")
	f.StringVar(&contact, "contact-email", "", "email of the person who manages the integration")
	f.StringVar(&integration, "integration", "", "identity provider: okta, entra or generic")
	f.BoolVar(&asJSON, "json", false, "print the approved request as JSON")
	return c
}
