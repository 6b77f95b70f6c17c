package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// PasskeyCookie binds a passwordless sign-in's challenge to the browser
// that asked for it: the answer is accepted only with it.
const PasskeyCookie = "latchkey_passkey"

// passkeyService is what passkeys use.
type passkeyService interface {
	Passkeys(ctx context.Context, c manage.Caller) ([]latchkey.Passkey, error)
	BeginPasskeyRegistration(ctx context.Context, c manage.Caller, session string) (*manage.PasskeyOptions, error)
	FinishPasskeyRegistration(ctx context.Context, c manage.Caller, session, name string, response []byte) (*latchkey.Passkey, string, error)
	RenamePasskey(ctx context.Context, c manage.Caller, id, name string) (*latchkey.Passkey, error)
	RemovePasskey(ctx context.Context, c manage.Caller, id, pw, code string) error
	BeginPasskeyLogin(ctx context.Context, ip string) (*manage.PasskeyOptions, string, error)
	FinishPasskeyLogin(ctx context.Context, attempt string, response []byte, ip string) (*latchkey.User, string, error)
	BeginPasskeySecondFactor(ctx context.Context, session string) (*manage.PasskeyOptions, error)
	PasskeySecondFactor(ctx context.Context, session string, response []byte, ip string) (*latchkey.User, string, error)
}

// passkeyAnswer is an authenticator's answer, as the browser's
// PublicKeyCredential.toJSON() writes it.
type passkeyAnswer struct {
	Name       string          `json:"name"`
	Credential json.RawMessage `json:"credential"`
}

func decodeAnswer(w http.ResponseWriter, r *http.Request) (passkeyAnswer, error) {
	var in passkeyAnswer
	if err := decode(w, r, &in, false); err != nil {
		return in, err
	}
	if len(in.Credential) == 0 || in.Credential[0] != '{' {
		return in, latchkey.Errorf(latchkey.EINVALID, "credential is required: the object navigator.credentials answered, as JSON").WithDetail("field", "credential")
	}
	return in, nil
}

type passkeyList struct {
	Data []latchkey.Passkey `json:"data"`
}

func (a *API) listPasskeys(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
	list, err := a.svc.Passkeys(r.Context(), c)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, passkeyList{list})
}

func (a *API) beginPasskeyRegistration(w http.ResponseWriter, r *http.Request, c manage.Caller, session string) {
	o, err := a.svc.BeginPasskeyRegistration(r.Context(), c, session)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, o)
}

func (a *API) finishPasskeyRegistration(w http.ResponseWriter, r *http.Request, c manage.Caller, session string) {
	in, err := decodeAnswer(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	pk, tok, err := a.svc.FinishPasskeyRegistration(r.Context(), c, session, in.Name, in.Credential)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if tok != "" {
		http.SetCookie(w, a.sessionCookie(tok, int(a.svc.SessionTTL().Seconds())))
	}
	writeJSON(w, http.StatusCreated, pk)
}

type renamePasskey struct {
	Name string `json:"name"`
}

func (a *API) renamePasskey(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
	var in renamePasskey
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	pk, err := a.svc.RenamePasskey(r.Context(), c, r.PathValue("id"), in.Name)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, pk)
}

type removePasskey struct {
	Password string `json:"password"`
	Code     string `json:"code"`
}

func (a *API) removePasskey(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
	var in removePasskey
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	if err := a.svc.RemovePasskey(r.Context(), c, r.PathValue("id"), in.Password, in.Code); err != nil {
		a.fail(w, r, err)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) passkeyCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{Name: PasskeyCookie, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: a.secure}
}

func (a *API) beginPasskeyLogin(w http.ResponseWriter, r *http.Request) {
	o, attempt, err := a.svc.BeginPasskeyLogin(r.Context(), a.localIP(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	http.SetCookie(w, a.passkeyCookie(attempt, 300))
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, o)
}

func (a *API) finishPasskeyLogin(w http.ResponseWriter, r *http.Request) {
	in, err := decodeAnswer(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	attempt := ""
	if ck, err := r.Cookie(PasskeyCookie); err == nil {
		attempt = ck.Value
	}
	http.SetCookie(w, a.passkeyCookie("", -1))
	u, tok, err := a.svc.FinishPasskeyLogin(r.Context(), attempt, in.Credential, a.localIP(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.startSession(w, r, u, tok)
}

func pendingSession(r *http.Request) (string, error) {
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return "", latchkey.Errorf(latchkey.EUNAUTHORIZED, "log in with your password first")
	}
	return ck.Value, nil
}

func (a *API) beginPasskeySecondFactor(w http.ResponseWriter, r *http.Request) {
	session, err := pendingSession(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	o, err := a.svc.BeginPasskeySecondFactor(r.Context(), session)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, o)
}

func (a *API) passkeySecondFactor(w http.ResponseWriter, r *http.Request) {
	in, err := decodeAnswer(w, r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	session, err := pendingSession(r)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	u, tok, err := a.svc.PasskeySecondFactor(r.Context(), session, in.Credential, a.localIP(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	a.startSession(w, r, u, tok)
}
