// Command latchkey is the latchkey API key service: the server (serve), its
// setup commands (init) and a client for the management API (keys).
package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
)

func main() {
	os.Exit(runWithInput(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

// usageError marks a mistake in how the command was called: exit code 2.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// exitCode ends a command with a code and nothing more to say: it has
// printed its answer (keys verify: 1 for a refused key).
type exitCode int

func (e exitCode) Error() string { return fmt.Sprintf("exit code %d", int(e)) }

// run executes the command line with the process's standard input and
// returns the exit code: 0 on success, 2 for a usage mistake or refused
// input, 1 for any other failure.
func run(args []string, stdout, stderr io.Writer) int {
	return runWithInput(args, os.Stdin, stdout, stderr)
}

// runWithInput is run with stdin given, for the commands that read it
// (confirmations, keys verify).
func runWithInput(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	root := newRoot(stdout, stderr)
	root.SetIn(stdin)
	root.SetArgs(args)
	err := root.Execute()
	if err == nil {
		return 0
	}
	var ec exitCode
	if errors.As(err, &ec) {
		return int(ec)
	}
	fmt.Fprintln(stderr, "latchkey:", err)
	var ue usageError
	if errors.As(err, &ue) || isFlagError(err) {
		return 2
	}
	var ce clientError
	if errors.As(err, &ce) && ce.status >= 400 && ce.status < 500 {
		return 2
	}
	return 1
}

func newRoot(stdout, stderr io.Writer) *cobra.Command {
	root := &cobra.Command{
		Use:           "latchkey",
		Short:         "Self-hosted API key management: create, scope, expire, rotate, revoke and verify API keys",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.Version = readBuildInfo().String()
	// --version prints the same line as `latchkey version`.
	root.SetVersionTemplate("{{.Version}}\n")
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usagef("%v (see %s --help)", err, c.CommandPath())
	})
	// Every flag can also come from LATCHKEY_<FLAG> (dashes as underscores),
	// and every secret from LATCHKEY_<FLAG>_FILE.
	root.PersistentPreRunE = func(c *cobra.Command, _ []string) error { return applyEnv(c) }
	root.AddCommand(newServeCmd(), newInitCmd(), newMigrateCmd(), newKeysCmd(), newOperatorCmd(), newOwnerCmd(),
		newBackupCmd(), newRestoreCmd(), newVersionCmd(), newAuditCmd(), newVaultCmd(), newScanCmd())
	refuseUnknownSubcommands(root)
	for _, c := range root.Commands() {
		if c.Example == "" {
			c.Example = serverExamples[c.Name()]
		}
	}
	return root
}

// serverExamples are the examples of the commands that run or keep the
// server's store, shown in their help.
var serverExamples = map[string]string{
	"serve": `  latchkey serve
  latchkey serve --addr 0.0.0.0:8080 --public-url https://keys.example.com --secure-cookies
  latchkey serve --database-url postgres://latchkey@db/latchkey --vault-key-url awskms://alias/latchkey`,
	"backup": `  latchkey backup --data-dir ./latchkey-data --out latchkey-$(date +%F).db`,
	"restore": `  latchkey restore --data-dir ./latchkey-data --from latchkey-2026-01-31.db
  latchkey restore --data-dir ./latchkey-data --from latchkey-2026-01-31.db --force`,
}

// refuseUnknownSubcommands makes every group of commands (keys, operator,
// vault…) answer a mistyped subcommand with a usage error and cobra's
// suggestions, exit 2, as the root does; cobra would print the group's
// help and exit 0, and a script would take the typo for success.
func refuseUnknownSubcommands(c *cobra.Command) {
	for _, sub := range c.Commands() {
		refuseUnknownSubcommands(sub)
	}
	if c == c.Root() || !c.HasSubCommands() || c.Run != nil || c.RunE != nil {
		return
	}
	c.Args = cobra.ArbitraryArgs
	c.SuggestionsMinimumDistance = 2
	c.RunE = func(c *cobra.Command, args []string) error {
		if len(args) == 0 {
			return c.Help()
		}
		msg := fmt.Sprintf("unknown command %q for %q", args[0], c.CommandPath())
		if s := c.SuggestionsFor(args[0]); len(s) > 0 {
			msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
		}
		return usagef("%s", msg)
	}
}

func isFlagError(err error) bool {
	// cobra reports unknown commands and missing arguments as plain errors.
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand flag", "accepts ", "requires at least", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
