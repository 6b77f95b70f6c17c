package api_test

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// The passkey methods of the failing service of errormap_test.go.

func (f *failing) Passkeys(context.Context, manage.Caller) ([]latchkey.Passkey, error) {
	return nil, f.fail(f.err)
}
func (f *failing) BeginPasskeyRegistration(context.Context, manage.Caller, string) (*manage.PasskeyOptions, error) {
	return nil, f.fail(f.err)
}
func (f *failing) FinishPasskeyRegistration(context.Context, manage.Caller, string, string, []byte) (*latchkey.Passkey, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) RenamePasskey(context.Context, manage.Caller, string, string) (*latchkey.Passkey, error) {
	return nil, f.fail(f.err)
}
func (f *failing) RemovePasskey(context.Context, manage.Caller, string, string, string) error {
	return f.fail(f.err)
}
func (f *failing) BeginPasskeyLogin(context.Context, string) (*manage.PasskeyOptions, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) FinishPasskeyLogin(context.Context, string, []byte, string) (*latchkey.User, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) BeginPasskeySecondFactor(context.Context, string) (*manage.PasskeyOptions, error) {
	return nil, f.fail(f.err)
}
func (f *failing) PasskeySecondFactor(context.Context, string, []byte, string) (*latchkey.User, string, error) {
	return nil, "", f.fail(f.err)
}
