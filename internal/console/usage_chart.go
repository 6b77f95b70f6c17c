package console

import (
	"cmp"
	"fmt"
	"html/template"
	"slices"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
)

// usageTotals sums a key's usage over the chart's days, with the
// verifications broken down by outcome, most frequent first.
type usageTotals struct {
	Valid, Denied int64
	Outcomes      []outcomeCount
}

// outcomeCount is how many verifications ended one way.
type outcomeCount struct {
	Code, Label string
	N           int64
	Valid       bool
}

// outcomeLabels name the outcomes as people say them.
var outcomeLabels = map[string]string{
	"valid": "Valid", string(latchkey.RateLimited): "Rate limited", string(latchkey.UsageExceeded): "Out of credits",
	string(latchkey.InsufficientScope): "Missing permissions", string(latchkey.KeyExpired): "Expired",
	string(latchkey.KeyRevoked): "Revoked", string(latchkey.KeyDisabled): "Disabled",
	string(latchkey.OwnerDeprovisioned): "Owner deactivated", string(latchkey.WrongType): "Wrong key type",
	string(latchkey.WrongEnvironment): "Wrong environment", string(latchkey.IPNotAllowed): "Address not allowed",
}

// breakdown lists the outcomes of days; refusals counted before outcomes
// were kept show as one line, so the parts add up to the totals.
func breakdown(days []latchkey.UsageDay, tot usageTotals) []outcomeCount {
	sums := map[string]int64{}
	for _, d := range days {
		for code, n := range d.Outcomes {
			sums[code] += n
		}
	}
	var out []outcomeCount
	var refused int64
	for code, n := range sums {
		if n == 0 {
			continue
		}
		label := outcomeLabels[code]
		if label == "" {
			label = strings.ReplaceAll(code, "_", " ")
		}
		if code != "valid" {
			refused += n
		}
		out = append(out, outcomeCount{Code: code, Label: label, N: n, Valid: code == "valid"})
	}
	if rest := tot.Denied - refused; rest > 0 {
		out = append(out, outcomeCount{Code: "earlier", Label: "Refused (counted before outcomes were kept)", N: rest})
	}
	slices.SortFunc(out, func(a, b outcomeCount) int {
		if a.Valid != b.Valid {
			if a.Valid {
				return -1
			}
			return 1
		}
		return cmp.Or(cmp.Compare(b.N, a.N), cmp.Compare(a.Label, b.Label))
	})
	return out
}

// usageChart draws daily valid and denied verifications as stacked bars,
// server-side, as an inline SVG: no script, no external request, and a
// text summary for screen readers (the chart is decoration for them).
// Without any verification it draws nothing, for the page's empty state.
func usageChart(days []latchkey.UsageDay, from time.Time, n int) (template.HTML, usageTotals) {
	type count struct{ valid, denied int64 }
	byDay := map[string]count{}
	var tot usageTotals
	for _, d := range days {
		c := byDay[d.Day]
		c.valid += d.Valid
		c.denied += d.Denied
		byDay[d.Day] = c
		tot.Valid += d.Valid
		tot.Denied += d.Denied
	}
	if tot.Valid+tot.Denied == 0 {
		// No bare axes: the page says there is no usage instead.
		return "", tot
	}
	tot.Outcomes = breakdown(days, tot)
	var peak int64
	for _, c := range byDay {
		peak = max(peak, c.valid+c.denied)
	}
	const (
		width, height = 600, 140
		top, bottom   = 8, 20
		gap           = 4
	)
	bar := float64(width)/float64(n) - gap
	plot := float64(height - top - bottom)
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" viewBox="0 0 %d %d" role="img" aria-labelledby="chart-title" preserveAspectRatio="none" xmlns="http://www.w3.org/2000/svg">`, width, height)
	fmt.Fprintf(&b, `<title id="chart-title">Verifications per day over the last %d days: %d valid, %d denied</title>`, n, tot.Valid, tot.Denied)
	fmt.Fprintf(&b, `<line class="axis" x1="0" y1="%d" x2="%d" y2="%d"/>`, height-bottom, width, height-bottom)
	for i := range n {
		day := from.AddDate(0, 0, i)
		c := byDay[day.Format("2006-01-02")]
		x := float64(i)*(bar+gap) + gap/2
		if peak > 0 {
			hv := plot * float64(c.valid) / float64(peak)
			hd := plot * float64(c.denied) / float64(peak)
			base := float64(height - bottom)
			fmt.Fprintf(&b, `<rect class="bar-valid" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d valid</title></rect>`,
				x, base-hv, bar, hv, day.Format("2 Jan"), c.valid)
			fmt.Fprintf(&b, `<rect class="bar-denied" x="%.1f" y="%.1f" width="%.1f" height="%.1f"><title>%s: %d denied</title></rect>`,
				x, base-hv-hd, bar, hd, day.Format("2 Jan"), c.denied)
		}
		if i%7 == 0 {
			fmt.Fprintf(&b, `<text class="tick" x="%.1f" y="%d">%s</text>`, x, height-4, day.Format("2 Jan"))
		}
	}
	b.WriteString(`</svg>`)
	// Every value interpolated above is a number or a formatted date, so
	// the markup cannot carry anything a visitor wrote.
	return template.HTML(b.String()), tot
}
