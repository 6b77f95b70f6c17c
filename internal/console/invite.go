package console

import (
	"context"
	"net/http"
	"net/url"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// accountService is what the invitation and password pages use.
type accountService interface {
	Invitation(ctx context.Context, tok string) (*manage.Invitation, error)
	AcceptInvite(ctx context.Context, tok, pw string, account *latchkey.User, ip string) (*latchkey.User, string, error)
	ChangePassword(ctx context.Context, c manage.Caller, session, current, next string) error
}

// inviteData is the invitation page: which workspace and address the link
// is for, and who is signed in (nil when nobody is).
type inviteData struct {
	Token      string
	Invitation *manage.Invitation
	SignedIn   *latchkey.User
	LoginURL   string
}

func (c *Console) invitePage(w http.ResponseWriter, r *http.Request) {
	c.showInvite(w, r, http.StatusOK, r.URL.Query().Get("token"), nil)
}

// showInvite renders the invitation page for tok, with err from a failed
// acceptance if any.
func (c *Console) showInvite(w http.ResponseWriter, r *http.Request, status int, tok string, err error) {
	pg := &page{Title: "Join a workspace"}
	inv, lookErr := c.svc.Invitation(r.Context(), tok)
	if lookErr != nil && latchkey.ErrorCode(lookErr) != latchkey.ENOTFOUND {
		c.fail(w, r, pg, lookErr)
		return
	}
	v, verr := c.authenticate(r)
	if verr != nil {
		c.fail(w, r, pg, verr)
		return
	}
	d := inviteData{Token: tok, Invitation: inv, LoginURL: "/login?next=" + url.QueryEscape("/invite?token="+tok)}
	if v != nil {
		d.SignedIn = v.Caller.User
		pg.V = v
	}
	pg.Data = d
	switch {
	case err != nil:
		pg.setError(err)
		if pg.Fields != nil && pg.Fields["password"] == "" {
			for _, m := range pg.Fields {
				pg.Error = m
			}
		}
	case lookErr != nil:
		pg.setError(lookErr)
		status = http.StatusNotFound
	}
	c.render(w, r, status, "invite", pg)
}

// acceptInvite accepts an invitation: as the signed-in account, or with a
// new account whose password the form gives.
func (c *Console) acceptInvite(w http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	v, err := c.authenticate(r)
	if err != nil {
		c.fail(w, r, &page{}, err)
		return
	}
	var account *latchkey.User
	if v != nil {
		account = v.Caller.User
	}
	_, session, err := c.svc.AcceptInvite(r.Context(), tok, r.PostFormValue("password"), account, c.clientIP(r))
	if err != nil {
		if !isUserError(err) && latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
			c.fail(w, r, &page{}, err)
			return
		}
		c.showInvite(w, r, http.StatusUnprocessableEntity, tok, err)
		return
	}
	if session != "" {
		http.SetCookie(w, c.sessionCookie(session, int(c.svc.SessionTTL().Seconds())))
	}
	redirect(w, r, "/")
}
