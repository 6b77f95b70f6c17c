package main

import (
	"os"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// envName is the environment variable that configures a flag.
func envName(flag string) string {
	return "LATCHKEY_" + strings.ToUpper(strings.ReplaceAll(flag, "-", "_"))
}

// envAnnotation marks the flags that LATCHKEY_* variables may set:
// configuration and connection flags, never per-call ones such as
// `keys create --name`.
const envAnnotation = "latchkey-env"

// fromEnv lets LATCHKEY_<FLAG> set each named flag of fs.
func fromEnv(fs *pflag.FlagSet, names ...string) {
	for _, n := range names {
		if err := fs.SetAnnotation(n, envAnnotation, []string{"yes"}); err != nil {
			panic(err) // a misspelt flag name: a programming error caught by any test
		}
	}
}

// secretFlags may also come from a file named by LATCHKEY_<FLAG>_FILE:
// the flags whose values hold credentials.
var secretFlags = map[string]bool{"database-url": true, "smtp-url": true}

// applyEnv sets every env-enabled flag not given on the command line from
// its LATCHKEY_* variable. A flag always wins over the environment.
func applyEnv(c *cobra.Command) error {
	var err error
	c.Flags().VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || f.Annotations[envAnnotation] == nil {
			return
		}
		v, ok := os.LookupEnv(envName(f.Name))
		if !ok && secretFlags[f.Name] {
			// LATCHKEY_<FLAG>_FILE names a file holding the value (a
			// mounted secret), so it is not in the environment.
			var path string
			if path, ok = os.LookupEnv(envName(f.Name) + "_FILE"); ok {
				var e error
				if v, e = readSecretFile(path); e != nil {
					err = usagef("%s_FILE: %v", envName(f.Name), e)
					return
				}
			}
		}
		if !ok {
			return
		}
		if e := c.Flags().Set(f.Name, v); e != nil {
			if secretFlags[f.Name] {
				v = "(hidden)"
			}
			err = usagef("%s=%q: %v", envName(f.Name), v, e)
		}
	})
	return err
}

// readSecretFile reads a secret (a password) from a file, trimming one
// trailing newline, so secrets never travel on the command line.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", usagef("reading %s: %v", path, err)
	}
	return strings.TrimRight(string(b), "\r\n"), nil
}
