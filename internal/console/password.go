package console

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

// passwordPage lets a person replace their password, such as the one-time
// password printed when the server first started.
func (c *Console) passwordPage(w http.ResponseWriter, r *http.Request, pg *page) {
	pg.Flash = flash(r.URL.Query().Get("done"))
	c.renderPassword(w, r, pg, http.StatusOK)
}

func (c *Console) renderPassword(w http.ResponseWriter, r *http.Request, pg *page, status int) {
	pg.Title, pg.Nav = "Change your password", "profile"
	c.render(w, r, status, "password", pg)
}

// changePassword checks the current password and sets the new one; the
// service ends the user's other sessions and keeps this one.
func (c *Console) changePassword(w http.ResponseWriter, r *http.Request, pg *page) {
	err := c.svc.ChangePassword(r.Context(), pg.V.Caller, pg.V.Session, r.PostFormValue("current_password"), r.PostFormValue("new_password"))
	if err != nil {
		if !isUserError(err) && latchkey.ErrorCode(err) != latchkey.ERATELIMITED {
			c.fail(w, r, pg, err)
			return
		}
		status := http.StatusUnprocessableEntity
		if latchkey.ErrorCode(err) == latchkey.ERATELIMITED {
			status = http.StatusTooManyRequests
			setRetryAfter(w, err)
		}
		pg.setError(err)
		c.renderPassword(w, r, pg, status)
		return
	}
	redirect(w, r, pg.Base()+"/profile/password?done=password")
}
