package console

import (
	"bytes"
	"context"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// signInService is what single sign-on, second factors and their pages use.
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
	StartSSO(ctx context.Context, email, next, redirectURI, ip string) (string, string, error)
	FinishSSO(ctx context.Context, state, cookie, code, providerErr, redirectURI, ip string) (*manage.SSOResult, error)
	SSO(ctx context.Context, p latchkey.Principal, ws, redirectURI string) (*manage.SSOView, error)
	PutSSO(ctx context.Context, p latchkey.Principal, ws string, in manage.SSOInput, redirectURI string) (*manage.SSOView, error)
	VerifySSODomain(ctx context.Context, p latchkey.Principal, ws, domain, redirectURI string) (*manage.SSOView, error)
	passkeyService
}

// ssoStateCookie keeps an authorization request's state in the browser
// that started it, so the provider's answer is accepted there only.
const ssoStateCookie = "latchkey_sso_state"

const ssoCallback = "/login/sso/callback"

func (c *Console) registerSignIn(mux forms) {
	mux.HandleFunc("GET /login/second-factor", c.secondFactorPage)
	mux.HandleFunc("POST /login/second-factor", c.secondFactor)
	mux.HandleFunc("GET /login/enrol", c.enrolPage)
	mux.HandleFunc("POST /login/enrol", c.enrol)
	mux.HandleFunc("GET "+ssoCallback, c.ssoCallback)
	mux.HandleFunc("GET /w/{ws}/profile/security", c.inWorkspace(c.securityPage))
	mux.HandleFunc("POST /w/{ws}/profile/security/totp", c.inWorkspace(c.securityStartTOTP))
	mux.HandleFunc("POST /w/{ws}/profile/security/totp/confirm", c.inWorkspace(c.securityConfirmTOTP))
	mux.HandleFunc("POST /w/{ws}/profile/security/totp/remove", c.inWorkspace(c.securityRemoveTOTP))
	mux.HandleFunc("POST /w/{ws}/profile/security/recovery-codes", c.inWorkspace(c.securityRenewCodes))
	mux.HandleFunc("POST /w/{ws}/profile/security/passkeys/{id}/remove", c.inWorkspace(c.securityRemovePasskey))
	mux.HandleFunc("POST /w/{ws}/profile/security/passkeys/{id}/rename", c.inWorkspace(c.securityRenamePasskey))
	mux.HandleFunc("GET /w/{ws}/sso", c.inWorkspace(c.ssoPage))
	mux.HandleFunc("POST /w/{ws}/sso", c.inWorkspace(c.ssoSave))
	mux.HandleFunc("POST /w/{ws}/sso/verify", c.inWorkspace(c.ssoVerify))
}

func (c *Console) redirectURI() string { return c.public + ssoCallback }

// pendingStep is the page a session waiting for a step is sent to, or "".
func (c *Console) pendingStep(r *http.Request) string {
	ck, err := r.Cookie(manage.SessionCookie)
	if err != nil {
		return ""
	}
	_, in, err := c.svc.PendingSignIn(r.Context(), ck.Value)
	if err != nil {
		return ""
	}
	next := ""
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		next = "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	switch in.Pending {
	case latchkey.PendingSecondFactor:
		return "/login/second-factor" + next
	case latchkey.PendingEnrolment:
		return "/login/enrol" + next
	}
	return ""
}

// afterSignIn is where a new session goes: its pending step, or next.
func (c *Console) afterSignIn(r *http.Request, tok, next string) string {
	_, in, err := c.svc.PendingSignIn(r.Context(), tok)
	if err != nil {
		return next
	}
	q := "?next=" + url.QueryEscape(next)
	switch in.Pending {
	case latchkey.PendingSecondFactor:
		return "/login/second-factor" + q
	case latchkey.PendingEnrolment:
		return "/login/enrol" + q
	}
	return next
}

// startSSO sends a login without a password through the identity provider
// of the email's domain. It reports whether it answered the request.
func (c *Console) startSSO(w http.ResponseWriter, r *http.Request, email, pw, next string) bool {
	if pw != "" {
		return false
	}
	authURL, state, err := c.svc.StartSSO(r.Context(), email, safeNext(next), c.redirectURI(), c.clientIP(r))
	if err != nil {
		status := http.StatusUnauthorized
		msg := latchkey.ErrorMessage(err)
		switch latchkey.ErrorCode(err) {
		case latchkey.ENOTFOUND:
			status, msg = http.StatusOK, "Enter your password."
		case latchkey.ERATELIMITED:
			status = http.StatusTooManyRequests
			setRetryAfter(w, err)
		case latchkey.EINVALID, latchkey.EUNAVAILABLE:
			status = http.StatusBadRequest
			if latchkey.ErrorCode(err) == latchkey.EUNAVAILABLE {
				status = http.StatusBadGateway
			}
		default:
			c.fail(w, r, &page{}, err)
			return true
		}
		c.render(w, r, status, "login", &page{Title: "Log in", Error: msg, Data: loginData{Email: email, Next: safeNext(next)}})
		return true
	}
	if u, err := url.Parse(authURL); err != nil || u.Scheme != "https" && u.Scheme != "http" {
		c.render(w, r, http.StatusBadGateway, "login", &page{Title: "Log in", Error: "Your identity provider answered an unusable address.",
			Data: loginData{Email: email, Next: safeNext(next)}})
		return true
	}
	http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: state, Path: ssoCallback, MaxAge: 600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.secure})
	// Not a redirect: the console's CSP (form-action 'self') makes
	// browsers drop a form post's redirect to another origin, and htmx
	// cannot follow one; the answer is a page that moves on to the
	// provider by itself.
	var buf bytes.Buffer
	if err := toProvider.Execute(&buf, authURL); err != nil {
		c.fail(w, r, &page{}, err)
		return true
	}
	c.setPageHeaders(w.Header())
	// The login form is boosted by htmx, which leaves the page for this
	// address by itself.
	w.Header().Set("HX-Redirect", authURL)
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
	return true
}

// toProvider sends the browser on to the identity provider.
var toProvider = template.Must(template.New("sso").Funcs(funcs).Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Single sign-on</title>
<script src="{{asset "signin.js"}}" defer></script></head>
<body><p>Continuing to your identity provider… <a id="sso-continue" href="{{.}}">Continue</a></p></body></html>
`))

func (c *Console) ssoCallback(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	cookie := ""
	if ck, err := r.Cookie(ssoStateCookie); err == nil {
		cookie = ck.Value
	}
	http.SetCookie(w, &http.Cookie{Name: ssoStateCookie, Value: "", Path: ssoCallback, MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.secure})
	res, err := c.svc.FinishSSO(r.Context(), q.Get("state"), cookie, q.Get("code"), q.Get("error"), c.redirectURI(), c.clientIP(r))
	if err != nil {
		if latchkey.ErrorCode(err) != latchkey.EUNAUTHORIZED && latchkey.ErrorCode(err) != latchkey.EUNAVAILABLE {
			c.fail(w, r, &page{}, err)
			return
		}
		c.render(w, r, http.StatusUnauthorized, "login", &page{Title: "Log in", Error: latchkey.ErrorMessage(err), Data: loginData{}})
		return
	}
	http.SetCookie(w, c.sessionCookie(res.Session, int(c.svc.SessionTTL().Seconds())))
	redirect(w, r, c.afterSignIn(r, res.Session, safeNext(res.Next)))
}

type stepData struct {
	Next   string
	Setup  *manage.TOTPSetup
	Codes  []string
	Status *manage.MFAStatus
	// Passkeys are the visitor's own; PasskeysOn says the server can add
	// one; HasPasskey offers the passkey at the second-factor step.
	Passkeys   []latchkey.Passkey
	PasskeysOn bool
	HasPasskey bool
}

func (c *Console) pendingSession(r *http.Request, want string) (*latchkey.User, string, bool) {
	ck, err := r.Cookie(manage.SessionCookie)
	if err != nil {
		return nil, "", false
	}
	u, in, err := c.svc.PendingSignIn(r.Context(), ck.Value)
	if err != nil || in.Pending != want {
		return nil, "", false
	}
	return u, ck.Value, true
}

func (c *Console) secondFactorPage(w http.ResponseWriter, r *http.Request) {
	u, _, ok := c.pendingSession(r, latchkey.PendingSecondFactor)
	if !ok {
		redirect(w, r, "/login")
		return
	}
	c.render(w, r, http.StatusOK, "second_factor", &page{Title: "Second factor", Data: c.secondFactorData(r, u, safeNext(r.URL.Query().Get("next")))})
}

func (c *Console) secondFactor(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	u, session, ok := c.pendingSession(r, latchkey.PendingSecondFactor)
	if !ok {
		redirect(w, r, "/login")
		return
	}
	_, tok, err := c.svc.SecondFactor(r.Context(), session, r.PostFormValue("code"), c.clientIP(r))
	if err != nil {
		status := http.StatusUnauthorized
		switch latchkey.ErrorCode(err) {
		case latchkey.EUNAUTHORIZED, latchkey.EINVALID, latchkey.ECONFLICT:
		case latchkey.ERATELIMITED:
			status = http.StatusTooManyRequests
			setRetryAfter(w, err)
		default:
			c.fail(w, r, &page{}, err)
			return
		}
		c.render(w, r, status, "second_factor", &page{Title: "Second factor", Error: latchkey.ErrorMessage(err), Data: c.secondFactorData(r, u, next)})
		return
	}
	http.SetCookie(w, c.sessionCookie(tok, int(c.svc.SessionTTL().Seconds())))
	redirect(w, r, next)
}

func (c *Console) enrolmentCaller(r *http.Request) (manage.Caller, string, bool) {
	ck, err := r.Cookie(manage.SessionCookie)
	if err != nil {
		return manage.Caller{}, "", false
	}
	caller, err := c.svc.EnrolmentCaller(r.Context(), ck.Value, c.clientIP(r))
	if err != nil || caller.SignIn == nil || caller.SignIn.Pending != latchkey.PendingEnrolment {
		return manage.Caller{}, "", false
	}
	return caller, ck.Value, true
}

func (c *Console) enrolPage(w http.ResponseWriter, r *http.Request) {
	caller, _, ok := c.enrolmentCaller(r)
	if !ok {
		redirect(w, r, "/login")
		return
	}
	setup, err := c.svc.StartTOTP(r.Context(), caller)
	if err != nil {
		c.fail(w, r, &page{}, err)
		return
	}
	c.render(w, r, http.StatusOK, "enrol", &page{Title: "Set up a second factor", Data: stepData{Next: safeNext(r.URL.Query().Get("next")), Setup: setup,
		PasskeysOn: c.svc.PasskeysEnabled()}})
}

func (c *Console) enrol(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	caller, session, ok := c.enrolmentCaller(r)
	if !ok {
		redirect(w, r, "/login")
		return
	}
	codes, tok, err := c.svc.ConfirmTOTP(r.Context(), caller, session, r.PostFormValue("code"))
	if err != nil {
		if !isUserError(err) && latchkey.ErrorCode(err) != latchkey.ERATELIMITED {
			c.fail(w, r, &page{}, err)
			return
		}
		setup := &manage.TOTPSetup{Secret: r.PostFormValue("secret")}
		c.render(w, r, http.StatusUnprocessableEntity, "enrol", &page{Title: "Set up a second factor", Error: latchkey.ErrorMessage(err),
			Data: stepData{Next: next, Setup: setup, PasskeysOn: c.svc.PasskeysEnabled()}})
		return
	}
	if tok != "" {
		http.SetCookie(w, c.sessionCookie(tok, int(c.svc.SessionTTL().Seconds())))
	}
	c.render(w, r, http.StatusOK, "recovery_codes", &page{Title: "Your recovery codes", Data: stepData{Next: next, Codes: codes}})
}

func (c *Console) renderSecurity(w http.ResponseWriter, r *http.Request, pg *page, status int, d stepData) {
	st, err := c.svc.MFA(r.Context(), pg.V.Caller)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	d.Status = st
	if d.Passkeys, err = c.svc.Passkeys(r.Context(), pg.V.Caller); err != nil {
		c.fail(w, r, pg, err)
		return
	}
	d.PasskeysOn = c.svc.PasskeysEnabled()
	pg.Title, pg.Nav, pg.Data = "Security", "profile", d
	c.render(w, r, status, "security", pg)
}

func (c *Console) securityPage(w http.ResponseWriter, r *http.Request, pg *page) {
	pg.Flash = map[string]string{"removed": "The authenticator app was removed.", "passkey-removed": "The passkey was removed.", "passkey-renamed": "The passkey was renamed."}[r.URL.Query().Get("done")]
	c.renderSecurity(w, r, pg, http.StatusOK, stepData{})
}

func (c *Console) securityStartTOTP(w http.ResponseWriter, r *http.Request, pg *page) {
	setup, err := c.svc.StartTOTP(r.Context(), pg.V.Caller)
	if err != nil {
		c.securityError(w, r, pg, err, stepData{})
		return
	}
	c.renderSecurity(w, r, pg, http.StatusOK, stepData{Setup: setup})
}

func (c *Console) securityConfirmTOTP(w http.ResponseWriter, r *http.Request, pg *page) {
	codes, _, err := c.svc.ConfirmTOTP(r.Context(), pg.V.Caller, pg.V.Session, r.PostFormValue("code"))
	if err != nil {
		c.securityError(w, r, pg, err, stepData{Setup: &manage.TOTPSetup{Secret: r.PostFormValue("secret")}})
		return
	}
	c.renderSecurity(w, r, pg, http.StatusOK, stepData{Codes: codes})
}

func (c *Console) securityRemoveTOTP(w http.ResponseWriter, r *http.Request, pg *page) {
	if err := c.svc.RemoveTOTP(r.Context(), pg.V.Caller, r.PostFormValue("code")); err != nil {
		c.securityError(w, r, pg, err, stepData{})
		return
	}
	redirect(w, r, pg.Base()+"/profile/security?done=removed")
}

func (c *Console) securityRenewCodes(w http.ResponseWriter, r *http.Request, pg *page) {
	codes, err := c.svc.RenewRecoveryCodes(r.Context(), pg.V.Caller, r.PostFormValue("code"))
	if err != nil {
		c.securityError(w, r, pg, err, stepData{})
		return
	}
	c.renderSecurity(w, r, pg, http.StatusOK, stepData{Codes: codes})
}

func (c *Console) securityError(w http.ResponseWriter, r *http.Request, pg *page, err error, d stepData) {
	status := http.StatusUnprocessableEntity
	switch latchkey.ErrorCode(err) {
	case latchkey.EUNAUTHORIZED:
		status = http.StatusUnauthorized
	case latchkey.ERATELIMITED:
		status = http.StatusTooManyRequests
		setRetryAfter(w, err)
	default:
		if !isUserError(err) {
			c.fail(w, r, pg, err)
			return
		}
	}
	pg.setError(err)
	if pg.Error == "" {
		pg.Error = latchkey.ErrorMessage(err)
	}
	c.renderSecurity(w, r, pg, status, d)
}

func (c *Console) ssoPage(w http.ResponseWriter, r *http.Request, pg *page) {
	v, err := c.svc.SSO(r.Context(), pg.P, pg.WS.ID, c.redirectURI())
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	pg.Flash = map[string]string{"saved": "Single sign-on was saved.", "verified": "The domain is verified."}[r.URL.Query().Get("done")]
	c.renderSSO(w, r, pg, http.StatusOK, v)
}

func (c *Console) renderSSO(w http.ResponseWriter, r *http.Request, pg *page, status int, v *manage.SSOView) {
	pg.Title, pg.Nav, pg.Data = "Single sign-on", "sso", v
	c.render(w, r, status, "sso", pg)
}

func (c *Console) ssoSave(w http.ResponseWriter, r *http.Request, pg *page) {
	f := r.PostForm
	in := manage.SSOInput{Issuer: f.Get("issuer"), ClientID: f.Get("client_id"), RequireSSO: f.Get("require_sso") != "",
		JustInTime: f.Get("just_in_time") != ""}
	if s := f.Get("client_secret"); s != "" {
		in.ClientSecret = &s
	}
	in.Domains = strings.FieldsFunc(f.Get("domains"), func(r rune) bool { return r == ',' || r == '\n' || r == ' ' || r == '\r' })
	if _, err := c.svc.PutSSO(r.Context(), pg.P, pg.WS.ID, in, c.redirectURI()); err != nil {
		c.ssoError(w, r, pg, err)
		return
	}
	redirect(w, r, pg.Base()+"/sso?done=saved")
}

func (c *Console) ssoVerify(w http.ResponseWriter, r *http.Request, pg *page) {
	if _, err := c.svc.VerifySSODomain(r.Context(), pg.P, pg.WS.ID, r.PostFormValue("domain"), c.redirectURI()); err != nil {
		c.ssoError(w, r, pg, err)
		return
	}
	redirect(w, r, pg.Base()+"/sso?done=verified")
}

func (c *Console) ssoError(w http.ResponseWriter, r *http.Request, pg *page, err error) {
	if !isUserError(err) && latchkey.ErrorCode(err) != latchkey.ENOTFOUND {
		c.fail(w, r, pg, err)
		return
	}
	v, verr := c.svc.SSO(r.Context(), pg.P, pg.WS.ID, c.redirectURI())
	if verr != nil {
		c.fail(w, r, pg, verr)
		return
	}
	pg.Error = latchkey.ErrorMessage(err)
	c.renderSSO(w, r, pg, http.StatusUnprocessableEntity, v)
}
