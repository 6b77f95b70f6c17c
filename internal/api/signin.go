package api

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// signInService is what second factors and single sign-on use.
type signInService interface {
	SessionCaller(ctx context.Context, tok, ip string) (manage.Caller, error)
	PendingSignIn(ctx context.Context, tok string) (*latchkey.User, *latchkey.SignIn, error)
	EnrolmentCaller(ctx context.Context, tok, ip string) (manage.Caller, error)
	BreakGlassLogin(ctx context.Context, email, pw, ip string) (*latchkey.User, string, error)
	SecondFactor(ctx context.Context, session, code, ip string) (*latchkey.User, string, error)
	MFA(ctx context.Context, c manage.Caller) (*manage.MFAStatus, error)
	StartTOTP(ctx context.Context, c manage.Caller) (*manage.TOTPSetup, error)
	ConfirmTOTP(ctx context.Context, c manage.Caller, session, code string) ([]string, string, error)
	RemoveTOTP(ctx context.Context, c manage.Caller, code string) error
	RenewRecoveryCodes(ctx context.Context, c manage.Caller, code string) ([]string, error)
	SSO(ctx context.Context, p latchkey.Principal, ws, redirectURI string) (*manage.SSOView, error)
	PutSSO(ctx context.Context, p latchkey.Principal, ws string, in manage.SSOInput, redirectURI string) (*manage.SSOView, error)
	VerifySSODomain(ctx context.Context, p latchkey.Principal, ws, domain, redirectURI string) (*manage.SSOView, error)
}

// SSOCallbackPath is where identity providers send people back; the
// console serves it.
const SSOCallbackPath = "/login/sso/callback"

// pendingSignIn is the answer to a login that waits for another step.
type pendingSignIn struct {
	Pending string `json:"pending"`
	Next    string `json:"next"`
}

// answerSignIn sets the session cookie and answers the user, or, when the
// session waits for a second factor or an enrolment, 202 with the step.
func (a *API) answerSignIn(w http.ResponseWriter, r *http.Request, u *latchkey.User, tok string) {
	_, in, err := a.svc.PendingSignIn(r.Context(), tok)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	switch in.Pending {
	case latchkey.PendingSecondFactor:
		http.SetCookie(w, a.sessionCookie(tok, int(a.svc.SessionTTL().Seconds())))
		writeJSON(w, http.StatusAccepted, pendingSignIn{Pending: in.Pending, Next: "POST /v1/auth/second-factor"})
	case latchkey.PendingEnrolment:
		http.SetCookie(w, a.sessionCookie(tok, int(a.svc.SessionTTL().Seconds())))
		writeJSON(w, http.StatusAccepted, pendingSignIn{Pending: in.Pending, Next: "POST /v1/me/mfa/totp"})
	default:
		a.startSession(w, r, u, tok)
	}
}

func (a *API) breakGlassLogin(w http.ResponseWriter, r *http.Request) {
	var in loginRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	u, tok, err := a.svc.BreakGlassLogin(r.Context(), in.Email, in.Password, a.localIP(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.answerSignIn(w, r, u, tok)
}

type codeRequest struct {
	Code string `json:"code"`
}

func (a *API) secondFactor(w http.ResponseWriter, r *http.Request) {
	var in codeRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		a.fail(w, r, latchkey.Errorf(latchkey.EUNAUTHORIZED, "log in with your password first"))
		return
	}
	u, tok, err := a.svc.SecondFactor(r.Context(), ck.Value, in.Code, a.localIP(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.startSession(w, r, u, tok)
}

// enrolling authenticates a complete session, or one that must enrol a
// second factor before it is complete; never one waiting for its second
// factor.
func (a *API) enrolling(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ck, err := r.Cookie(SessionCookie)
		if err != nil {
			a.fail(w, r, latchkey.Errorf(latchkey.EUNAUTHORIZED, "log in first: second factors belong to a signed-in person"))
			return
		}
		c, err := a.svc.EnrolmentCaller(r.Context(), ck.Value, a.localIP(r))
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r, c, ck.Value)
	}
}

func (a *API) mfaStatus(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
	st, err := a.svc.MFA(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, st)
}

func (a *API) startTOTP(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
	setup, err := a.svc.StartTOTP(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, setup)
}

type recoveryCodes struct {
	RecoveryCodes []string `json:"recovery_codes"`
}

func (a *API) confirmTOTP(w http.ResponseWriter, r *http.Request, c manage.Caller, session string) {
	var in codeRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	codes, tok, err := a.svc.ConfirmTOTP(r.Context(), c, session, in.Code)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if tok != "" {
		http.SetCookie(w, a.sessionCookie(tok, int(a.svc.SessionTTL().Seconds())))
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, recoveryCodes{codes})
}

func (a *API) removeTOTP(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
	var in codeRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.svc.RemoveTOTP(r.Context(), c, in.Code); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) renewRecoveryCodes(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
	var in codeRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	codes, err := a.svc.RenewRecoveryCodes(r.Context(), c, in.Code)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, recoveryCodes{codes})
}

func (a *API) getSSO(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	v, err := a.svc.SSO(r.Context(), p, ws, a.Link(SSOCallbackPath))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *API) putSSO(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in manage.SSOInput
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	v, err := a.svc.PutSSO(r.Context(), p, ws, in, a.Link(SSOCallbackPath))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func (a *API) verifySSODomain(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	v, err := a.svc.VerifySSODomain(r.Context(), p, ws, r.PathValue("domain"), a.Link(SSOCallbackPath))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, v)
}
