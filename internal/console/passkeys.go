package console

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// passkeyService is what the console's passkey pages use; the ceremonies
// themselves run in the browser (assets/passkey.js) against the JSON API.
type passkeyService interface {
	PasskeysEnabled() bool
	Passkeys(ctx context.Context, c manage.Caller) ([]latchkey.Passkey, error)
	RemovePasskey(ctx context.Context, c manage.Caller, id, pw, code string) error
	RenamePasskey(ctx context.Context, c manage.Caller, id, name string) (*latchkey.Passkey, error)
}

// secondFactorData is what the second-factor step shows: the passkey is
// offered when the person has one.
func (c *Console) secondFactorData(r *http.Request, u *latchkey.User, next string) stepData {
	d := stepData{Next: next}
	if u == nil || !c.svc.PasskeysEnabled() {
		return d
	}
	keys, err := c.svc.Passkeys(r.Context(), manage.Caller{User: u})
	d.HasPasskey = err == nil && len(keys) > 0
	if st, err := c.svc.MFA(r.Context(), manage.Caller{User: u}); err == nil {
		d.Status = st
	}
	return d
}

func (c *Console) securityRemovePasskey(w http.ResponseWriter, r *http.Request, pg *page) {
	if err := c.svc.RemovePasskey(r.Context(), pg.V.Caller, r.PathValue("id"), r.PostFormValue("password"), r.PostFormValue("code")); err != nil {
		c.securityError(w, r, pg, err, stepData{})
		return
	}
	redirect(w, r, pg.Base()+"/profile/security?done=passkey-removed")
}

// securityRenamePasskey names a passkey, so that a person with several can
// tell them apart before removing one.
func (c *Console) securityRenamePasskey(w http.ResponseWriter, r *http.Request, pg *page) {
	if _, err := c.svc.RenamePasskey(r.Context(), pg.V.Caller, r.PathValue("id"), r.PostFormValue("name")); err != nil {
		c.securityError(w, r, pg, err, stepData{})
		return
	}
	redirect(w, r, pg.Base()+"/profile/security?done=passkey-renamed")
}
