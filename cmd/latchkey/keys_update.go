package main

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/client"
)

func (o *keysOptions) updateCmd() *cobra.Command {
	var (
		name, description, callbackURL, rateLimit, externalID, meta string
		scopes, allowedIPs, settings                                []string
		budget                                                      budgetFlags
	)
	c := &cobra.Command{
		Use:   "update ID",
		Short: "Change a key's name, description, callback URL, scopes, settings, limits, credits, networks or metadata",
		Long: `Change a key: only the flags given are sent, everything else stays as it
is. A revoked key cannot change.

--scope and --allowed-ip replace the whole list (comma-separated or
repeated; "" empties it); --setting merges into the current settings;
--rate-limit is COUNT/PERIOD (such as 100/1m) or "none"; --meta is a JSON
object ('{}' removes it); --callback-url "" and --external-id "" remove them.

--credits and --refill set the key's credits afresh (the refill alone
starts from its amount), voiding what instances have leased; --no-credits
makes the key unlimited. --ratelimit replaces every named limit of the key
(repeat it for several); --ratelimit none removes them.`,
		Example: `  latchkey keys update key_01J... --name "CI deploys (prod)" --description "from GitHub Actions"
  latchkey keys update key_01J... --scope items:read,users:read
  latchkey keys update key_01J... --rate-limit 100/1m --allowed-ip 203.0.113.0/24
  latchkey keys update key_01J... --rate-limit none --allowed-ip ""
  latchkey keys update key_01J... --external-id cus_123 --meta '{"plan":"pro"}'
  latchkey keys update key_01J... --credits 5000 --refill monthly:5000 --ratelimit api=100/1m --ratelimit burst=10/1s
  latchkey keys update key_01J... --no-credits --ratelimit none`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			f := c.Flags()
			var in client.UpdateKeyRequest
			changed := 0
			str := func(flag string, v string) *string {
				if !f.Changed(flag) {
					return nil
				}
				changed++
				return &v
			}
			in.Name = str("name", name)
			in.Description = str("description", description)
			in.CallbackURL = str("callback-url", callbackURL)
			in.ExternalID = str("external-id", externalID)
			if in.Name != nil && strings.TrimSpace(name) == "" {
				return usagef("--name cannot be empty: a key needs a title")
			}
			list := func(flag string, v []string) *[]string {
				if !f.Changed(flag) {
					return nil
				}
				changed++
				out := []string{}
				for _, s := range v {
					if s = strings.TrimSpace(s); s != "" {
						out = append(out, s)
					}
				}
				return &out
			}
			in.Scopes = list("scope", scopes)
			in.AllowedIPs = list("allowed-ip", allowedIPs)
			if f.Changed("setting") {
				changed++
				var err error
				if in.Settings, err = parseKeySettings(settings); err != nil {
					return err
				}
			}
			if f.Changed("rate-limit") {
				changed++
				rl, err := parseRateLimit(rateLimit)
				if err != nil {
					return err
				}
				in.RateLimit, in.ClearRateLimit = rl, rl == nil
			}
			if f.Changed("meta") {
				changed++
				var obj map[string]any
				if err := json.Unmarshal([]byte(meta), &obj); err != nil || obj == nil {
					return usagef(`--meta %q: want a JSON object such as '{"plan":"pro"}', or '{}' to remove it`, meta)
				}
				in.Meta = json.RawMessage(meta)
			}
			credits, clearCredits, err := budget.creditsInput(f)
			if err != nil {
				return err
			}
			if credits != nil || clearCredits {
				changed++
				in.Credits, in.ClearCredits = credits, clearCredits
			}
			if f.Changed("ratelimit") {
				changed++
				limits, err := budget.namedLimits()
				if err != nil {
					return err
				}
				in.RateLimits = &limits
			}
			if changed == 0 {
				return usagef("nothing to change: give at least one of --name, --description, --callback-url, --scope, --setting, --rate-limit, --allowed-ip, --external-id, --meta, --credits, --refill, --no-credits or --ratelimit")
			}
			cl, ws, err := o.connect(c.Context())
			if err != nil {
				return err
			}
			k, err := cl.UpdateKey(c.Context(), ws, args[0], in)
			if err != nil {
				return o.fail(err, updateFlags)
			}
			out := c.OutOrStdout()
			if o.json {
				return o.printJSON(out, map[string]*client.Key{"key": k})
			}
			fmt.Fprintf(out, "updated key %s %q\n\n", k.ID, cell(k.Name))
			printKey(out, k)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&name, "name", "", "new title, 1 to 100 characters")
	f.StringVar(&description, "description", "", "what the key is for")
	f.StringVar(&callbackURL, "callback-url", "", `https URL that receives the key's webhooks ("" removes it)`)
	f.StringSliceVar(&scopes, "scope", nil, `the key's scopes, replacing the current ones ("" for none)`)
	f.StringArrayVar(&settings, "setting", nil, "a setting name=value merged into the current ones (repeatable)")
	f.StringVar(&rateLimit, "rate-limit", "", `verifications allowed per period, such as 100/1m or 5000/1d; "none" removes the limit`)
	f.StringSliceVar(&allowedIPs, "allowed-ip", nil, `networks the key's callers must come from (CIDR or address), replacing the current ones ("" for anywhere)`)
	f.StringVar(&externalID, "external-id", "", `your own id for the key's customer, returned by verification ("" removes it)`)
	f.StringVar(&meta, "meta", "", `a JSON object kept with the key and returned by verification ('{}' removes it)`)
	budget.register(f, true)
	return c
}

// parseRateLimit reads --rate-limit: COUNT/PERIOD, or "none" (nil).
func parseRateLimit(s string) (*latchkey.RateLimit, error) {
	if v := strings.ToLower(strings.TrimSpace(s)); v == "none" || v == "off" {
		return nil, nil
	}
	count, period, ok := strings.Cut(s, "/")
	n, err := strconv.Atoi(strings.TrimSpace(count))
	if !ok || err != nil || n < 1 {
		return nil, usagef(`--rate-limit %q: write it as COUNT/PERIOD, such as 100/1m or 5000/1d, or "none"`, s)
	}
	d, err := latchkey.ParseDuration(strings.TrimSpace(period))
	if err != nil || d <= 0 {
		return nil, usagef(`--rate-limit %q: the period must be a duration such as 1s, 1m, 1h or 1d`, s)
	}
	return &latchkey.RateLimit{Limit: n, Period: d}, nil
}
