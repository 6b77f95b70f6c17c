package main

import (
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// commandsWithFlags lists every command of the CLI that has flags of its
// own, depth first, as "latchkey serve", "latchkey keys create", ...
func commandsWithFlags(c *cobra.Command) []*cobra.Command {
	var out []*cobra.Command
	if c.HasAvailableLocalFlags() && (c.Runnable() || c.HasAvailablePersistentFlags()) {
		out = append(out, c)
	}
	for _, sub := range c.Commands() {
		if sub.IsAvailableCommand() {
			out = append(out, commandsWithFlags(sub)...)
		}
	}
	return out
}

// documentedFlags are the flags a command's flag table must list: every
// visible local flag but --help.
func documentedFlags(c *cobra.Command) []*pflag.Flag {
	var fs []*pflag.Flag
	c.LocalFlags().VisitAll(func(f *pflag.Flag) {
		if !f.Hidden && f.Name != "help" {
			fs = append(fs, f)
		}
	})
	return fs
}

// machineDefaults are defaults computed on the machine, documented by rule.
var machineDefaults = map[string]string{"password-hashes": "max(2, CPUs)"}

// referenceRow is the table row docs/configuration.md has for a flag.
func referenceRow(f *pflag.Flag) string {
	env := "—"
	if f.Annotations[envAnnotation] != nil {
		env = "`" + envName(f.Name) + "`"
		if secretFlags[f.Name] {
			env += ", `" + envName(f.Name) + "_FILE`"
		}
	}
	def := f.DefValue
	switch {
	case machineDefaults[f.Name] != "":
		def = machineDefaults[f.Name]
	case def == "" || def == "[]":
		def = "—"
	default:
		def = "`" + def + "`"
	}
	return fmt.Sprintf("| `--%s` | %s | %s | %s |", f.Name, env, def, strings.ReplaceAll(f.Usage, "|", `\|`))
}

// TestConfigurationReferenceListsExactlyTheFlags keeps docs/configuration.md
// true: for every command, its section's flag table lists exactly the flags
// the command defines, with the environment variable of each flag that has
// one and the flag's default. Run with LATCHKEY_PRINT_REFERENCE=1 to print
// the tables as they should be.
func TestConfigurationReferenceListsExactlyTheFlags(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	sections := map[string][]string{} // command path → its table rows
	heading := regexp.MustCompile("^### `(latchkey[a-z -]*)`$")
	current := ""
	for _, line := range strings.Split(string(doc), "\n") {
		if m := heading.FindStringSubmatch(line); m != nil {
			current = m[1]
			sections[current] = []string{}
			continue
		}
		if current != "" && strings.HasPrefix(line, "| `--") {
			sections[current] = append(sections[current], line)
		}
	}
	root := newRoot(io.Discard, io.Discard)
	print := os.Getenv("LATCHKEY_PRINT_REFERENCE") == "1"
	seen := map[string]bool{}
	for _, c := range commandsWithFlags(root) {
		path := c.CommandPath()
		seen[path] = true
		var want []string
		for _, f := range documentedFlags(c) {
			want = append(want, referenceRow(f))
		}
		if print {
			fmt.Printf("### `%s`\n\n| flag | environment | default | what |\n|---|---|---|---|\n%s\n\n", path, strings.Join(want, "\n"))
			continue
		}
		got, ok := sections[path]
		if !ok {
			t.Errorf("docs/configuration.md has no section \"### `%s`\"", path)
			continue
		}
		for _, row := range want {
			if !slices.Contains(got, row) {
				t.Errorf("docs/configuration.md, %s: missing or wrong row\n  want %s", path, row)
			}
		}
		for _, row := range got {
			if !slices.Contains(want, row) {
				t.Errorf("docs/configuration.md, %s: row for no such flag (or out of date)\n  got %s", path, row)
			}
		}
	}
	for path := range sections {
		if !seen[path] && !print {
			t.Errorf("docs/configuration.md documents %q, which is no command with flags", path)
		}
	}
}
