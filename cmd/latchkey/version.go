package main

import (
	"encoding/json"
	"fmt"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// buildInfo is what the binary knows about its own build: the module
// version (a tag when built with `go install ...@vX`, "(devel)" from a
// checkout), the VCS commit and its time, whether the tree had local
// changes, and the Go version. debug.ReadBuildInfo has it all without
// -ldflags, so every build path (go build, go install, the Dockerfile)
// reports the same way.
//
// Go records no build time (builds are reproducible), so the time shown is
// the commit's, which names the build as well; a packager who wants the
// wall-clock time of the build sets buildTime with
// -ldflags "-X main.buildTime=2025-01-31T12:00:00Z" (the Dockerfile does).
type buildInfo struct {
	Version    string `json:"version"`
	Commit     string `json:"commit,omitempty"`
	CommitTime string `json:"commit_time,omitempty"`
	BuildTime  string `json:"build_time,omitempty"`
	Modified   bool   `json:"modified,omitempty"`
	Go         string `json:"go"`
}

// buildTime is set by the linker (-X main.buildTime=...), or empty.
var buildTime string

func readBuildInfo() buildInfo {
	b := buildInfo{Version: "(unknown)", BuildTime: buildTime}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return b
	}
	b.Go = bi.GoVersion
	if bi.Main.Version != "" {
		b.Version = bi.Main.Version
	}
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			b.Commit = s.Value
		case "vcs.time":
			b.CommitTime = s.Value
		case "vcs.modified":
			b.Modified = s.Value == "true"
		}
	}
	return b
}

// String is the one line `latchkey version` and `--version` print.
func (b buildInfo) String() string {
	s := "latchkey " + b.Version
	if b.Commit != "" {
		s += " commit " + b.Commit
		if b.Modified {
			s += " (modified)"
		}
	}
	if b.CommitTime != "" {
		s += " of " + b.CommitTime
	}
	if b.BuildTime != "" {
		s += " built " + b.BuildTime
	}
	return s + " " + b.Go
}

func newVersionCmd() *cobra.Command {
	var asJSON bool
	c := &cobra.Command{
		Use: "version",
		Example: `  latchkey version
  latchkey --version
  latchkey version --json | jq -r .commit`,
		Short: "Print the version, commit and build time of this binary",
		Args:  cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			b := readBuildInfo()
			if asJSON {
				return json.NewEncoder(c.OutOrStdout()).Encode(b)
			}
			fmt.Fprintln(c.OutOrStdout(), b.String())
			return nil
		},
	}
	c.Flags().BoolVar(&asJSON, "json", false, `print {"version", "commit", "commit_time", "build_time", "modified", "go"} as JSON`)
	return c
}
