package main

import (
	"io"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// TestEveryCommandHasExamples walks the command tree: a command a person
// can run shows how, in its help's Examples section.
func TestEveryCommandHasExamples(t *testing.T) {
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		for _, sub := range c.Commands() {
			// cobra's own help and completion commands are not ours.
			if !sub.IsAvailableCommand() || sub.Name() == "help" || sub.Name() == "completion" {
				continue
			}
			if strings.TrimSpace(sub.Example) == "" {
				t.Errorf("%s has no Example", sub.CommandPath())
			} else if !strings.Contains(sub.Example, sub.CommandPath()) {
				t.Errorf("%s: its examples do not run it:\n%s", sub.CommandPath(), sub.Example)
			}
			walk(sub)
		}
	}
	walk(newRoot(io.Discard, io.Discard))
}

func TestVersionFlag(t *testing.T) {
	want := readBuildInfo().String() + "\n"
	for _, args := range [][]string{{"--version"}, {"-v"}, {"version"}} {
		code, out, stderr := latchkeyCmd(t, args...)
		if code != 0 || out != want || stderr != "" {
			t.Errorf("latchkey %s: got exit code %d, output %q and stderr %q, want 0 and %q", strings.Join(args, " "), code, out, stderr, want)
		}
	}
	if !strings.HasPrefix(want, "latchkey ") {
		t.Errorf("the version line %q does not name the program", want)
	}
}
