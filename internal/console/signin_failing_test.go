package console_test

import (
	"context"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// The sign-in methods of the failing service of errormap_test.go.

func (f *failing) SessionCaller(ctx context.Context, tok, ip string) (manage.Caller, error) {
	u, err := f.SessionUser(ctx, tok)
	if err != nil {
		return manage.Caller{IP: ip}, err
	}
	return manage.Caller{User: u, IP: ip, SignIn: &latchkey.SignIn{Method: latchkey.SignInPassword}}, nil
}
func (f *failing) PendingSignIn(ctx context.Context, tok string) (*latchkey.User, *latchkey.SignIn, error) {
	u, err := f.SessionUser(ctx, tok)
	return u, &latchkey.SignIn{Method: latchkey.SignInPassword}, err
}
func (f *failing) EnrolmentCaller(ctx context.Context, tok, ip string) (manage.Caller, error) {
	return f.SessionCaller(ctx, tok, ip)
}
func (f *failing) BreakGlassLogin(context.Context, string, string, string) (*latchkey.User, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) SecondFactor(context.Context, string, string, string) (*latchkey.User, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) MFA(context.Context, manage.Caller) (*manage.MFAStatus, error) {
	return nil, f.fail(f.err)
}
func (f *failing) StartTOTP(context.Context, manage.Caller) (*manage.TOTPSetup, error) {
	return nil, f.fail(f.err)
}
func (f *failing) ConfirmTOTP(context.Context, manage.Caller, string, string) ([]string, string, error) {
	return nil, "", f.fail(f.err)
}
func (f *failing) RemoveTOTP(context.Context, manage.Caller, string) error { return f.fail(f.err) }
func (f *failing) RenewRecoveryCodes(context.Context, manage.Caller, string) ([]string, error) {
	return nil, f.fail(f.err)
}
func (f *failing) StartSSO(context.Context, string, string, string, string) (string, string, error) {
	return "", "", f.fail(f.err)
}
func (f *failing) FinishSSO(context.Context, string, string, string, string, string, string) (*manage.SSOResult, error) {
	return nil, f.fail(f.err)
}
func (f *failing) SSO(context.Context, latchkey.Principal, string, string) (*manage.SSOView, error) {
	return nil, f.fail(f.err)
}
func (f *failing) PutSSO(context.Context, latchkey.Principal, string, manage.SSOInput, string) (*manage.SSOView, error) {
	return nil, f.fail(f.err)
}
func (f *failing) VerifySSODomain(context.Context, latchkey.Principal, string, string, string) (*manage.SSOView, error) {
	return nil, f.fail(f.err)
}
