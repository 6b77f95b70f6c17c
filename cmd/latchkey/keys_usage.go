package main

import (
	"cmp"
	"fmt"
	"io"
	"maps"
	"slices"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/latchkey/latchkey/client"
)

func (o *keysOptions) usageCmd() *cobra.Command {
	var from, to string
	var tags bool
	c := &cobra.Command{
		Use:   "usage ID",
		Short: "Show a key's verifications per day, by outcome or by tag",
		Long: `Show a key's verifications per UTC day and environment, broken down by
outcome: valid, or why they were refused (rate_limited, key_expired,
insufficient_scope, ...). --tags shows instead how many verifications
carried each tag the caller sent (at most 100 tags a key and day; the rest
are counted under "(other)").

The range is --from to --to, both included (YYYY-MM-DD, at most 366 days
apart); by default the last 30 days. Usage is written in batches, so the
last seconds may not show yet.`,
		Example: `  latchkey keys usage key_01J...
  latchkey keys usage key_01J... --from 2026-01-01 --to 2026-01-31
  latchkey keys usage key_01J... --tags --json | jq '.data[] | select(.tag | startswith("path="))'`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			var opts client.UsageOptions
			var err error
			if opts.From, err = usageDay("--from", from); err != nil {
				return err
			}
			if opts.To, err = usageDay("--to", to); err != nil {
				return err
			}
			cl, ws, err := o.connect(c.Context())
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if tags {
				list, err := cl.KeyUsageTags(c.Context(), ws, args[0], opts)
				if err != nil {
					return o.fail(err, usageFlags)
				}
				if o.json {
					return o.printJSON(out, map[string]any{"data": list})
				}
				printUsageTags(out, args[0], list)
				return nil
			}
			days, err := cl.KeyUsage(c.Context(), ws, args[0], opts)
			if err != nil {
				return o.fail(err, usageFlags)
			}
			if o.json {
				return o.printJSON(out, map[string]any{"data": days})
			}
			printUsage(out, args[0], days)
			return nil
		},
	}
	f := c.Flags()
	f.StringVar(&from, "from", "", "first day, YYYY-MM-DD (default: 30 days ago)")
	f.StringVar(&to, "to", "", "last day, YYYY-MM-DD (default: today)")
	f.BoolVar(&tags, "tags", false, "count by the tags sent with the verifications instead of by outcome")
	return c
}

// usageDay reads --from or --to; zero when not given.
func usageDay(flag, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, usagef("%s %q: want a day such as 2026-01-31", flag, s)
	}
	return t, nil
}

// printUsage shows a row per day, environment and outcome: valid first,
// then the refusals, most frequent first.
func printUsage(w io.Writer, id string, days []client.UsageDay) {
	if len(days) == 0 {
		fmt.Fprintf(w, "no verifications of key %s in that range\n", id)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tENV\tOUTCOME\tCOUNT")
	for _, d := range days {
		outcomes := slices.SortedFunc(maps.Keys(d.Outcomes), func(a, b string) int {
			return cmp.Or(cmp.Compare(b2i(b == client.OutcomeValid), b2i(a == client.OutcomeValid)),
				cmp.Compare(d.Outcomes[b], d.Outcomes[a]), cmp.Compare(a, b))
		})
		var listed int64
		for _, oc := range outcomes {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", d.Day, d.Environment, cell(oc), d.Outcomes[oc])
			listed += d.Outcomes[oc]
		}
		// Days counted before outcomes were kept have refusals only as a total.
		if rest := d.Valid + d.Denied - listed; rest > 0 {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\n", d.Day, d.Environment, "denied", rest)
		}
	}
	tw.Flush()
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// printUsageTags shows a row per day and tag.
func printUsageTags(w io.Writer, id string, tags []client.UsageTag) {
	if len(tags) == 0 {
		fmt.Fprintf(w, "no tagged verifications of key %s in that range\n", id)
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "DAY\tTAG\tVERIFICATIONS\tVALID")
	for _, t := range tags {
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\n", t.Day, cell(t.Tag), t.Verifications, t.Valid)
	}
	tw.Flush()
}
