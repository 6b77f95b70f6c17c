package main

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/password"
	"github.com/spf13/cobra"
)

// EventPasswordReset records a password set by the host's administrator
// with `latchkey owner reset-password`; never the password.
const EventPasswordReset = "auth.password_reset"

func newOwnerCmd() *cobra.Command {
	c := &cobra.Command{
		Use:     "owner",
		Example: `  latchkey owner reset-password --email admin@acme.example --data-dir ./latchkey-data`,
		Short:   "Recovery of accounts, run on the host against the store",
	}
	c.AddCommand(newResetPasswordCmd())
	return c
}

func newResetPasswordCmd() *cobra.Command {
	var sf storeFlags
	var email, passwordFile string
	var asJSON bool
	c := &cobra.Command{
		Use: "reset-password",
		Example: `  latchkey owner reset-password --email admin@acme.example --data-dir ./latchkey-data
  latchkey owner reset-password --email admin@acme.example --password-file new.pw --database-url "$DATABASE_URL"`,
		Short: "Give an account a new password and end its sessions (recovery on the host)",
		Long: `Give the account with --email a new password, for recovery: a lost
one-time password of the first owner, a forgotten password, a suspected
compromise. It runs on the host, against the store (--data-dir or
--database-url), so only whoever administers the host can use it; the
server may be running meanwhile.

Without --password-file a password is generated and printed once. Every
session of the account ends, so whoever held the old password or a session
cookie is logged out. The change is recorded in the audit log of each of
the account's workspaces (action auth.password_reset, actor system "host
administrator"); the password never is.`,
		Args: cobra.NoArgs,
		RunE: func(c *cobra.Command, _ []string) error {
			if email == "" {
				return usagef("reset-password needs --email")
			}
			norm, err := latchkey.NormalizeEmail(email)
			if err != nil {
				return usagef("--email %q is not an email address", email)
			}
			pw, generated := "", false
			if passwordFile != "" {
				if pw, err = readPasswordFile(passwordFile); err != nil {
					return err
				}
			} else {
				pw, generated = rand.Text(), true
			}
			store, err := sf.open(c.Context())
			if err != nil {
				return err
			}
			defer store.Close()
			u, err := resetPassword(c.Context(), store, norm, pw, time.Now)
			if err != nil {
				return err
			}
			out := c.OutOrStdout()
			if asJSON {
				res := map[string]string{"user_id": u.ID, "email": u.Email}
				if generated {
					res["password"] = pw
				}
				return json.NewEncoder(out).Encode(res)
			}
			fmt.Fprintf(out, "reset the password of %s (%s); every session of the account has ended\n", u.Email, u.ID)
			if generated {
				fmt.Fprintf(out, "  password:  %s   (shown once: store it now)\n", pw)
			}
			return nil
		},
	}
	f := c.Flags()
	sf.register(f, false)
	f.StringVar(&email, "email", "", "email of the account")
	f.StringVar(&passwordFile, "password-file", "", "file holding the new password (at least 12 characters); generated and printed once without it")
	f.BoolVar(&asJSON, "json", false, `print {"user_id", "email", "password"} as JSON (password only when generated)`)
	return c
}

// resetPassword sets a new password on the claimed account with email,
// ends its sessions and records the reset. A usage error (exit 2) when no
// account has that email.
func resetPassword(ctx context.Context, store latchkey.Store, email, pw string, now func() time.Time) (*latchkey.User, error) {
	u, err := store.UserByEmail(ctx, email)
	if latchkey.IsNotFound(err) {
		return nil, usagef("no account has the email %s (invited people who never accepted have no password to reset)", email)
	}
	if err != nil {
		return nil, err
	}
	hash, err := password.HashContext(ctx, pw)
	if err != nil {
		return nil, err
	}
	if _, err := store.UpdateUser(ctx, u.ID, func(u *latchkey.User) error { u.PasswordHash = hash; return nil }); err != nil {
		return nil, err
	}
	// Sessions end after the password changes: a session opened with the
	// old password between the two steps is ended too.
	if err := store.DeleteUserSessions(ctx, u.ID); err != nil {
		return nil, err
	}
	ms, err := store.Memberships(ctx, u.ID)
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	ids := id.NewGenerator(now, nil)
	actor := latchkey.Actor{Type: latchkey.ActorSystem, Label: "host administrator (latchkey owner reset-password on " + host + ")"}
	record := func(ws string) error {
		return store.AppendEvent(ctx, latchkey.Event{ID: ids.New(id.Event), WorkspaceID: ws, At: now(), Actor: actor,
			Action: EventPasswordReset, Target: u.ID, Data: map[string]any{"email": u.Email}})
	}
	if len(ms) == 0 {
		// An operator, or an account of no workspace: a platform event.
		return u, record("")
	}
	for _, m := range ms {
		if err := record(m.WorkspaceID); err != nil {
			return nil, err
		}
	}
	return u, nil
}

// readPasswordFile reads a password chosen by the operator and applies the
// password policy, so an empty file (/dev/null) or a short one is refused
// instead of silently becoming a generated password nobody saw.
func readPasswordFile(path string) (string, error) {
	pw, err := readSecretFile(path)
	if err != nil {
		return "", err
	}
	if pw == "" {
		return "", usagef("the password file %s is empty: write a password of %d to %d characters in it", path, password.MinLength, password.MaxLength)
	}
	if err := password.Check(pw); err != nil {
		return "", usagef("the password in %s is refused: %s", path, latchkey.ErrorMessage(err))
	}
	return pw, nil
}

// neverLoggedIn tells how to get in when the owner of --owner-email has
// never logged in: their one-time password may have been lost (printed to a
// log nobody kept, a terminal closed). It offers the recovery command rather
// than printing a new password at every start: a restart must not change a
// password someone may have stored, nor put a fresh one in the logs each
// time (where more people read than administer the host), and with several
// instances each start would replace the others' passwords. The command
// needs the host's store credentials, which is the right bar for recovery.
func (m *Main) neverLoggedIn(ctx context.Context) (string, error) {
	u, err := m.store.UserByEmail(ctx, m.cfg.OwnerEmail)
	if latchkey.IsNotFound(err) || latchkey.ErrorCode(err) == latchkey.EINVALID {
		return "", nil
	}
	if err != nil {
		return "", err
	}
	ms, err := m.store.Memberships(ctx, u.ID)
	if err != nil {
		return "", err
	}
	for _, mb := range ms {
		for _, action := range []string{latchkey.EventLogin, EventPasswordReset, "auth.password_changed"} {
			evs, _, err := m.store.Events(ctx, latchkey.EventFilter{WorkspaceID: mb.WorkspaceID, Action: action, Target: u.ID, Limit: 1})
			if err != nil {
				return "", err
			}
			if len(evs) > 0 {
				return "", nil
			}
		}
	}
	if len(ms) == 0 {
		return "", nil
	}
	store := "--data-dir " + shellQuote(m.cfg.DataDir)
	if m.cfg.DatabaseURL != "" {
		// Never the URL itself: it may hold a password.
		store = `--database-url "$LATCHKEY_DATABASE_URL"`
	}
	return fmt.Sprintf("the owner %s has never logged in. If the one-time password printed at the first start is lost, run on this host:\n  latchkey owner reset-password --email %s %s\n",
		u.Email, u.Email, store), nil
}

// shellQuote quotes s for a POSIX shell when it needs it.
func shellQuote(s string) string {
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:@+=", r)) {
			return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
		}
	}
	return s
}
