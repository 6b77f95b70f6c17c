package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// result is one scenario's row. Latencies are in milliseconds; zero means
// not measured.
type result struct {
	Name     string  `json:"name"`
	What     string  `json:"what"`
	RPS      float64 `json:"requests_per_second,omitempty"`
	Ratio    float64 `json:"ratio_to_bare,omitempty"`
	Requests uint64  `json:"requests,omitempty"`
	P50      float64 `json:"p50_ms,omitempty"`
	P99      float64 `json:"p99_ms,omitempty"`
	// CPUPerRequest is the server's CPU time per request at full load, µs.
	CPUPerRequest float64 `json:"server_cpu_us_per_request,omitempty"`
	// CPURatio is bare's CPUPerRequest divided by this one's: the
	// throughput ratio the two would have on an otherwise idle machine
	// where the server is CPU-bound, and far less noisy than RPS when other
	// processes share the cores.
	CPURatio float64  `json:"cpu_ratio_to_bare,omitempty"`
	HalfRate float64  `json:"half_load_rate,omitempty"`
	HalfP50  float64  `json:"half_load_p50_ms,omitempty"`
	HalfP99  float64  `json:"half_load_p99_ms,omitempty"`
	Target   string   `json:"target,omitempty"`
	Met      *bool    `json:"target_met,omitempty"`
	Skipped  string   `json:"skipped,omitempty"`
	Error    string   `json:"error,omitempty"`
	Notes    []string `json:"notes,omitempty"`
}

func (r *result) note(format string, args ...any) {
	r.Notes = append(r.Notes, fmt.Sprintf(format, args...))
}

// check records whether the target was met, once something was measured.
func (r *result) check(ok bool) {
	if r.RPS > 0 || r.P99 > 0 {
		r.Met = &ok
	}
}

// report is the whole run, as printed or encoded with -json.
type report struct {
	Environment map[string]any `json:"environment"`
	Results     []*result      `json:"results"`
}

func (b *bench) report() *report {
	return &report{Environment: b.environment(), Results: b.results}
}

func (rep *report) print(w io.Writer) {
	e := rep.Environment
	fmt.Fprintf(w, "\nlatchkey verify benchmark — %v, %v CPUs, GOMAXPROCS %v (servers and load generator share them), %v per run, %v connections, %v wrk threads, %v in all\n\n",
		e["go"], e["num_cpu"], e["gomaxprocs"], e["duration"], e["connections"], e["wrk_threads"], e["elapsed"])
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "scenario\treq/s\t× bare\tCPU µs/req\t× bare (CPU)\tp50 ms\tp99 ms\t½-peak req/s\t½-peak p99 ms\ttarget\t")
	for _, r := range rep.Results {
		switch {
		case r.Skipped != "":
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\tskipped\t\n", r.Name)
			continue
		case r.RPS == 0 && r.P99 == 0 && r.Error != "":
			fmt.Fprintf(tw, "%s\t-\t-\t-\t-\t-\t-\t-\t-\tFAILED\t\n", r.Name)
			continue
		}
		verdict := "-"
		if r.Met != nil {
			verdict = map[bool]string{true: "met", false: "MISSED"}[*r.Met]
		}
		if r.Error != "" {
			verdict = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t\n", r.Name, num(r.RPS, "%.0f"), num(r.Ratio, "%.2f"),
			num(r.CPUPerRequest, "%.1f"), num(r.CPURatio, "%.2f"), num(r.P50, "%.3f"), num(r.P99, "%.3f"),
			num(r.HalfRate, "%.0f"), num(r.HalfP99, "%.3f"), verdict)
	}
	tw.Flush()
	fmt.Fprintln(w)
	for _, r := range rep.Results {
		var lines []string
		if r.Target != "" {
			lines = append(lines, "target: "+r.Target)
		}
		if r.Skipped != "" {
			lines = append(lines, "skipped: "+r.Skipped)
		}
		if r.Error != "" {
			lines = append(lines, "FAILED: "+r.Error)
		}
		lines = append(lines, r.Notes...)
		if len(lines) > 0 {
			fmt.Fprintf(w, "%s (%s)\n    %s\n", r.Name, r.What, strings.Join(lines, "\n    "))
		}
	}
}

func num(v float64, format string) string {
	if v == 0 {
		return "-"
	}
	return fmt.Sprintf(format, v)
}
