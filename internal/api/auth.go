package api

import (
	"context"
	"net/http"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// sessionService is what the session and profile handlers use.
type sessionService interface {
	Login(ctx context.Context, email, pw, ip string) (*latchkey.User, string, error)
	Logout(ctx context.Context, u *latchkey.User, tok, ip string) error
	Me(ctx context.Context, c manage.Caller) (*manage.Me, error)
	ChangePassword(ctx context.Context, c manage.Caller, session, current, next string) error
	Catalog() *latchkey.Catalog
	SessionTTL() time.Duration
}

type loginRequest struct {
	Email    string `json:"email"`
	Password string `json:"password"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) {
	var in loginRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	u, tok, err := a.svc.Login(r.Context(), in.Email, in.Password, a.localIP(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.answerSignIn(w, r, u, tok)
}

// startSession sets the session cookie (a new id at every login) and
// answers with the user and their workspaces.
func (a *API) startSession(w http.ResponseWriter, r *http.Request, u *latchkey.User, tok string) {
	http.SetCookie(w, a.sessionCookie(tok, int(a.svc.SessionTTL().Seconds())))
	me, err := a.svc.Me(r.Context(), manage.Caller{User: u})
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, me)
}

func (a *API) sessionCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: SessionCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: a.secure,
	}
}

func (a *API) logout(w http.ResponseWriter, r *http.Request, c manage.Caller, session string) {
	if c.User != nil && session != "" {
		if err := a.svc.Logout(r.Context(), c.User, session, c.IP); err != nil {
			a.fail(w, r, err)
			return
		}
	}
	http.SetCookie(w, a.sessionCookie("", -1))
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) me(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
	me, err := a.svc.Me(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, me)
}

func (a *API) catalog(w http.ResponseWriter, r *http.Request, _ manage.Caller, _ string) {
	writeJSON(w, http.StatusOK, a.svc.Catalog())
}

type passwordChange struct {
	CurrentPassword string `json:"current_password"`
	NewPassword     string `json:"new_password"`
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request, c manage.Caller, session string) {
	var in passwordChange
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.svc.ChangePassword(r.Context(), c, session, in.CurrentPassword, in.NewPassword); err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}
