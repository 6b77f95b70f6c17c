package console_test

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// The passkey methods of the failing service of errormap_test.go.

func (f *failing) PasskeysEnabled() bool { return true }
func (f *failing) Passkeys(context.Context, manage.Caller) ([]latchkey.Passkey, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RemovePasskey(context.Context, manage.Caller, string, string, string) error {
	return f.fail(f.err)
}
func (f *failing) RenamePasskey(context.Context, manage.Caller, string, string) (*latchkey.Passkey, error) {
	return nil, f.fail(f.err)
}
