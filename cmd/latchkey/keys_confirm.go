package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"
)

// terminal reports whether r is a person's terminal, where a command may
// ask a question. A reader may say so itself (IsTerminal), which is how
// tests stand in for a terminal; otherwise only a file that is a terminal
// is one: /dev/null, a pipe or a file is a script's input.
func terminal(r io.Reader) bool {
	if t, ok := r.(interface{ IsTerminal() bool }); ok {
		return t.IsTerminal()
	}
	f, ok := r.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// confirmFirst refuses, before anything is sent, to run an irreversible
// command that nobody can confirm: without --yes, standard input must be
// a terminal. A script that forgot --yes fails at once with exit code 2
// rather than waiting for an answer that never comes.
func confirmFirst(c *cobra.Command, yes bool, verb string) error {
	if yes || terminal(c.InOrStdin()) {
		return nil
	}
	return usagef("%s asks for confirmation, and standard input is not a terminal: add --yes to %s without asking", c.CommandPath(), verb)
}

// confirm asks question on the terminal and reports whether the answer
// was yes. Anything else, end of input included, is no.
func confirm(c *cobra.Command, question string) bool {
	fmt.Fprintf(c.ErrOrStderr(), "%s [y/N] ", question)
	line, err := bufio.NewReader(c.InOrStdin()).ReadString('\n')
	if err != nil && line == "" {
		fmt.Fprintln(c.ErrOrStderr())
		return false
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// notConfirmed is the error of a question answered no (exit 1: nothing
// was wrong with the command line).
func notConfirmed(notDone string) error { return fmt.Errorf("%s: not confirmed", notDone) }
