package main

import (
	"encoding/json"
	"fmt"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
	"github.com/latchkey/latchkey/internal/token"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// registerPlatformFlags adds the flags of embedding latchkey in the
// vendor's product: its branding, the origins that may frame the console
// and those a portal session may return to.
func registerPlatformFlags(f *pflag.FlagSet, cfg *Config) {
	f.StringVar(&cfg.Brand.Name, "product-name", "", `the product's name, shown instead of "latchkey" in the console, on the login page and in every mail ("Back to <name>" after a portal sign-in)`)
	f.StringVar(&cfg.Brand.LogoURL, "product-logo-url", "", "the product's logo in the console's header: an https URL or a path on this site")
	f.StringVar(&cfg.Brand.Accent, "accent-color", "", "the console's accent colour, as #rrggbb")
	f.StringSliceVar(&cfg.Brand.FrameAncestors, "frame-ancestors", nil, "https origins of the product that may frame the console (its cookies then become SameSite=None; Secure; Partitioned); none: never framed")
	f.StringSliceVar(&cfg.PortalOrigins, "portal-origins", nil, "the product's origins (https://app.example.com) a portal session's return_url may lead back to")
	fromEnv(f, "product-name", "product-logo-url", "accent-color", "frame-ancestors", "portal-origins")
}

// checkPlatformConfig refuses branding and origins that would not work,
// at start rather than on the first page.
func checkPlatformConfig(cfg Config) error {
	if err := cfg.Brand.Validate(); err != nil {
		return usagef("%s", latchkey.ErrorMessage(err))
	}
	for _, o := range cfg.PortalOrigins {
		if latchkey.Origin(o) == "" {
			return usagef("--portal-origins: %q is not an origin such as https://app.example.com", o)
		}
	}
	return nil
}

func newOperatorPlatformKeyCmd() *cobra.Command {
	var sf storeFlags
	var in manage.NewPlatformKey
	var role, prefix string
	var asJSON bool
	c := &cobra.Command{
		Use: "platform-key",
		Example: `  latchkey operator platform-key --name "Acme Cloud backend" --scope workspaces:write --scope members:write --scope portal:write
  latchkey operator platform-key --name "read-only sync" --scope workspaces:read --max-role member --json`,
		Short: "Create a platform key for the product's backend, printing its secret once",
		Long: `Create a platform key: the vendor's backend uses it to provision workspaces
(POST /v1/workspaces with an external_id), sync their people
(PUT /v1/workspaces/{ws}/members/by-external-id/{id}) and sign them into the
console (POST /v1/portal/sessions). Scopes: workspaces:read, workspaces:write,
members:write, portal:write. The secret is printed once and stored only as
its SHA-256; list and revoke keys with GET /v1/platform-keys and
POST /v1/platform-keys/{id}/revoke, or on the operators' console page.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if in.Name == "" || len(in.Scopes) == 0 {
				return usagef("operator platform-key needs --name and at least one --scope (%v)", latchkey.PlatformScopes)
			}
			format, err := token.NewFormat(prefix)
			if err != nil {
				return usagef("%v", err)
			}
			in.MaxRole = latchkey.Role(role)
			store, err := sf.open(c.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			k, secret, err := manage.New(manage.Config{Store: store, Format: format}).CreatePlatformKeyOnHost(c.Context(), in)
			if err != nil {
				return offlineError(err)
			}
			out := c.OutOrStdout()
			if asJSON {
				return json.NewEncoder(out).Encode(map[string]any{"key": k, "secret": secret})
			}
			fmt.Fprintf(out, "created platform key %s (%s) for product %s, scopes %v, highest role %s\n", k.Name, k.ID, k.Product, k.Scopes, k.MaxRole)
			fmt.Fprintf(out, "secret (shown only now): %s\n", secret)
			return nil
		},
	}
	f := c.Flags()
	sf.register(f, false)
	f.StringVar(&in.Name, "name", "", "the key's name")
	f.StringVar(&in.Product, "product", manage.DefaultProduct, "the product: keys of one product share the workspaces and people it provisions")
	f.StringSliceVar(&in.Scopes, "scope", nil, "a scope (repeat): workspaces:read, workspaces:write, members:write, portal:write")
	f.StringVar(&role, "max-role", string(latchkey.RoleAdmin), "the highest role the key may give a person: owner, super_admin, admin or member")
	f.StringVar(&prefix, "token-prefix", token.DefaultPrefix, "prefix of issued tokens: the server's --token-prefix")
	f.BoolVar(&asJSON, "json", false, "print the key and its secret as JSON")
	fromEnv(f, "token-prefix")
	return c
}
