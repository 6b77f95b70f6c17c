package console

import (
	"net/http"

	"github.com/latchkey/latchkey"
)

// loginData is the login form: the email is kept after a failed attempt,
// the password never is.
type loginData struct {
	Email string
	Next  string
	// BreakGlass is an owner's password sign-in past "Require SSO".
	BreakGlass bool
}

func (c *Console) loginPage(w http.ResponseWriter, r *http.Request) {
	if v, err := c.authenticate(r); err == nil && v != nil {
		redirect(w, r, safeNext(r.URL.Query().Get("next")))
		return
	}
	c.render(w, r, http.StatusOK, "login", &page{Title: "Log in", Data: loginData{Next: safeNext(r.URL.Query().Get("next")),
		BreakGlass: r.URL.Query().Get("break_glass") != ""}})
}

func (c *Console) login(w http.ResponseWriter, r *http.Request) {
	email, pw, next := r.PostFormValue("email"), r.PostFormValue("password"), r.PostFormValue("next")
	breakGlass := r.PostFormValue("break_glass") != ""
	if !breakGlass && c.startSSO(w, r, email, pw, next) {
		return
	}
	login := c.svc.Login
	if breakGlass {
		login = c.svc.BreakGlassLogin
	}
	_, tok, err := login(r.Context(), email, pw, c.clientIP(r))
	if err != nil {
		status := http.StatusUnauthorized
		switch latchkey.ErrorCode(err) {
		case latchkey.EUNAUTHORIZED, latchkey.EINVALID:
		case latchkey.EFORBIDDEN:
			status = http.StatusForbidden
		case latchkey.ERATELIMITED:
			// Throttled or every password check busy: say when to come
			// back, on the login page itself.
			status = http.StatusTooManyRequests
			setRetryAfter(w, err)
		default:
			c.fail(w, r, &page{}, err)
			return
		}
		pg := &page{Title: "Log in", Error: latchkey.ErrorMessage(err), Data: loginData{Email: email, Next: safeNext(next), BreakGlass: breakGlass}}
		c.render(w, r, status, "login", pg)
		return
	}
	http.SetCookie(w, c.sessionCookie(tok, int(c.svc.SessionTTL().Seconds())))
	redirect(w, r, c.afterSignIn(r, tok, safeNext(next)))
}

func (c *Console) logout(w http.ResponseWriter, r *http.Request) {
	v, err := c.authenticate(r)
	if err != nil {
		c.fail(w, r, &page{}, err)
		return
	}
	if v != nil {
		if err := c.svc.Logout(r.Context(), v.Caller.User, v.Session, v.Caller.IP); err != nil {
			c.fail(w, r, &page{V: v}, err)
			return
		}
	}
	http.SetCookie(w, c.sessionCookie("", -1))
	redirect(w, r, "/login")
}

// home sends a visitor where they can work: the login page, the operator
// pages, their only workspace's keys, or the workspace picker.
func (c *Console) home(w http.ResponseWriter, r *http.Request) {
	v, err := c.authenticate(r)
	switch {
	case err != nil:
		c.fail(w, r, &page{}, err)
	case v == nil:
		toLogin(w, r)
	case v.Caller.User.Operator:
		redirect(w, r, "/operator/workspaces")
	case len(v.Me.Workspaces) == 1:
		redirect(w, r, "/w/"+v.Me.Workspaces[0].ID+"/keys")
	default:
		redirect(w, r, "/workspaces")
	}
}

// workspacePicker lists the visitor's workspaces.
func (c *Console) workspacePicker(w http.ResponseWriter, r *http.Request, v *visitor) {
	c.render(w, r, http.StatusOK, "workspaces", &page{Title: "Choose a workspace", V: v})
}
