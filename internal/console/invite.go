package console

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

// inviteData is the form where an invited user chooses their password.
type inviteData struct{ Token string }

func (c *Console) invitePage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "invite", &page{Title: "Choose your password", Data: inviteData{Token: r.URL.Query().Get("token")}})
}

// acceptInvite sets the invited user's password and logs them in.
func (c *Console) acceptInvite(w http.ResponseWriter, r *http.Request) {
	tok := r.PostFormValue("token")
	_, session, err := c.svc.AcceptInvite(r.Context(), tok, r.PostFormValue("password"), c.clientIP(r))
	if err != nil {
		if !isUserError(err) && latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
			c.fail(w, r, &page{}, err)
			return
		}
		pg := &page{Title: "Choose your password", Data: inviteData{Token: tok}}
		pg.setError(err)
		if pg.Fields != nil && pg.Fields["password"] == "" {
			for _, m := range pg.Fields {
				pg.Error = m
			}
		}
		c.render(w, r, http.StatusUnprocessableEntity, "invite", pg)
		return
	}
	http.SetCookie(w, c.sessionCookie(session, int(c.svc.SessionTTL().Seconds())))
	redirect(w, r, "/")
}
