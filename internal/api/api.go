// Package api is latchkey's REST management API under /v1: one route table,
// JSON in and out, every error in one shape, every call authorized by the
// domain's table through internal/manage.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/clientip"
	"github.com/latchkey/latchkey/internal/manage"
)

// Authenticator turns a presented key into the key it belongs to, through
// the verify cache.
type Authenticator interface {
	Authenticate(ctx context.Context, tok string) (*latchkey.Key, latchkey.VerifyCode)
}

// Service is what the API asks of the management layer; *manage.Service
// implements it. It is the union of one small interface per group of
// handlers, each declared next to them.
type Service interface {
	callerService
	sessionService
	keyService
	memberService
	eventService
	auditService
	settingsService
	platformService
	scimRequestService
	vaultService
	webhookService
	signInService
	passkeyService
	leakService
	platformKeyService
	portalService
}

// callerService resolves who is calling, for every authenticated route.
type callerService interface {
	SessionUser(ctx context.Context, tok string) (*latchkey.User, error)
	Principal(ctx context.Context, c manage.Caller, ws string) (latchkey.Principal, error)
}

// Config configures the API.
type Config struct {
	Service Service
	Keys    Authenticator
	Logger  *slog.Logger
	// SecureCookies marks session cookies Secure; set it behind TLS.
	SecureCookies bool
	// ClientIP returns the caller's address for the audit log.
	ClientIP func(*http.Request) string
	// PublicURL is where people reach latchkey (https://keys.example.com),
	// for links in answers such as an invitation's; "" makes them paths on
	// this site. Links are never built from a request's Host header.
	PublicURL string
	// LeakKeys verifies GitHub's secret-scanning reports (POST /v1/leaks);
	// nil refuses signed reports, leaving the endpoint to scanner keys.
	LeakKeys *LeakVerifier
}

// API serves the management endpoints.
type API struct {
	svc     Service
	keys    Authenticator
	log     *slog.Logger
	secure  bool
	localIP func(*http.Request) string
	public  string
	// leakKeys checks GitHub's signatures on leak reports.
	leakKeys *LeakVerifier
}

// New returns the API.
func New(cfg Config) *API {
	a := &API{svc: cfg.Service, keys: cfg.Keys, log: cfg.Logger, secure: cfg.SecureCookies, localIP: cfg.ClientIP,
		public: strings.TrimRight(cfg.PublicURL, "/"), leakKeys: cfg.LeakKeys}
	if a.log == nil {
		a.log = slog.Default()
	}
	if a.localIP == nil {
		a.localIP = clientip.Peer
	}
	return a
}

// Link is the absolute URL of path ("/invite?token=…") under the public
// URL, or path itself when none is configured: what answers put in links
// people follow.
func (a *API) Link(path string) string { return a.public + path }

// Register mounts every management route on mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.HandleFunc("POST /v1/auth/login", a.login)
	mux.HandleFunc("POST /v1/auth/logout", a.authed(a.logout))
	mux.HandleFunc("GET /v1/me", a.authed(a.me))
	mux.HandleFunc("GET /v1/catalog", a.authed(a.catalog))

	mux.HandleFunc("GET /v1/workspaces/{ws}/settings", a.inWorkspace(a.getSettings))
	mux.HandleFunc("POST /v1/workspaces/{ws}/keys", a.inWorkspace(a.createKey))
	mux.HandleFunc("GET /v1/workspaces/{ws}/keys", a.inWorkspace(a.listKeys))
	mux.HandleFunc("GET /v1/workspaces/{ws}/keys/{id}", a.inWorkspace(a.getKey))
	mux.HandleFunc("PATCH /v1/workspaces/{ws}/keys/{id}", a.inWorkspace(a.patchKey))
	mux.HandleFunc("DELETE /v1/workspaces/{ws}/keys/{id}", a.inWorkspace(a.deleteKey))
	mux.HandleFunc("POST /v1/workspaces/{ws}/keys/{id}/revoke", a.inWorkspace(a.revokeKey))
	mux.HandleFunc("POST /v1/workspaces/{ws}/keys/{id}/disable", a.inWorkspace(a.disableKey))
	mux.HandleFunc("POST /v1/workspaces/{ws}/keys/{id}/enable", a.inWorkspace(a.enableKey))
	mux.HandleFunc("POST /v1/workspaces/{ws}/keys/{id}/reset", a.inWorkspace(a.resetKey))
	mux.HandleFunc("GET /v1/workspaces/{ws}/keys/{id}/usage", a.inWorkspace(a.keyUsage))
	mux.HandleFunc("GET /v1/workspaces/{ws}/keys/{id}/usage/tags", a.inWorkspace(a.keyUsageTags))
	mux.HandleFunc("GET /v1/workspaces/{ws}/events", a.inWorkspace(a.listEvents))
	mux.HandleFunc("GET /v1/workspaces/{ws}/events/head", a.inWorkspace(a.eventHead))
	mux.HandleFunc("GET /v1/workspaces/{ws}/events/export", a.inWorkspace(a.exportEvents))

	mux.HandleFunc("PATCH /v1/workspaces/{ws}/settings", a.inWorkspace(a.patchSettings))
	mux.HandleFunc("GET /v1/workspaces/{ws}/webhook-secret", a.inWorkspace(a.getWebhookSecret))
	mux.HandleFunc("POST /v1/workspaces/{ws}/webhook-secret/rotate", a.inWorkspace(a.rotateWebhookSecret))
	mux.HandleFunc("GET /v1/workspaces/{ws}/members", a.inWorkspace(a.listMembers))
	mux.HandleFunc("POST /v1/workspaces/{ws}/members", a.inWorkspace(a.addMember))
	mux.HandleFunc("PATCH /v1/workspaces/{ws}/members/{user}", a.inWorkspace(a.patchMember))
	mux.HandleFunc("DELETE /v1/workspaces/{ws}/members/{user}", a.inWorkspace(a.removeMember))
	mux.HandleFunc("POST /v1/workspaces/{ws}/members/{user}/invite", a.inWorkspace(a.inviteMember))
	mux.HandleFunc("POST /v1/auth/accept-invite", a.acceptInvite)
	mux.HandleFunc("POST /v1/me/password", a.authed(a.changePassword))

	mux.HandleFunc("GET /v1/workspaces", a.platform(a.listWorkspaces))
	mux.HandleFunc("POST /v1/workspaces", a.platform(a.createWorkspace))
	mux.HandleFunc("GET /v1/workspaces/{ws}/scim-key-requests", a.inWorkspace(a.listScimKeyRequests))
	mux.HandleFunc("POST /v1/workspaces/{ws}/scim-key-requests", a.inWorkspace(a.requestScimKey))
	mux.HandleFunc("GET /v1/scim-key-requests", a.platform(a.listScimKeyRequests))
	mux.HandleFunc("POST /v1/workspaces/{ws}/scim-key-requests/{id}/pickup", a.inWorkspace(a.pickUpScimKey))
	mux.HandleFunc("POST /v1/scim-key-requests/{id}/approve", a.platform(a.approveScimKeyRequest))
	// The former name of approve, kept for clients written against it: it
	// approves too, and answers no secret.
	mux.HandleFunc("POST /v1/scim-key-requests/{id}/issue", a.platform(a.approveScimKeyRequest))

	mux.HandleFunc("GET /v1/workspaces/{ws}/vaults", a.inWorkspace(a.listVaults))
	mux.HandleFunc("POST /v1/workspaces/{ws}/vaults", a.inWorkspace(a.createVault))
	mux.HandleFunc("GET /v1/workspaces/{ws}/vaults/{v}", a.inWorkspace(a.getVault))
	mux.HandleFunc("DELETE /v1/workspaces/{ws}/vaults/{v}", a.inWorkspace(a.deleteVault))
	mux.HandleFunc("GET /v1/workspaces/{ws}/vaults/{v}/secrets", a.inWorkspace(a.listSecrets))
	mux.HandleFunc("POST /v1/workspaces/{ws}/vaults/{v}/secrets", a.inWorkspace(a.createSecret))
	mux.HandleFunc("GET /v1/workspaces/{ws}/vaults/{v}/secrets/{s}", a.inWorkspace(a.getSecret))
	mux.HandleFunc("DELETE /v1/workspaces/{ws}/vaults/{v}/secrets/{s}", a.inWorkspace(a.deleteSecret))
	mux.HandleFunc("POST /v1/workspaces/{ws}/vaults/{v}/secrets/{s}/reveal", a.inWorkspace(a.revealSecret))
	// Second factors and single sign-on (signin.go).
	mux.HandleFunc("POST /v1/auth/break-glass", a.breakGlassLogin)
	mux.HandleFunc("POST /v1/auth/second-factor", a.secondFactor)
	mux.HandleFunc("GET /v1/me/mfa", a.enrolling(a.mfaStatus))
	mux.HandleFunc("POST /v1/me/mfa/totp", a.enrolling(a.startTOTP))
	mux.HandleFunc("POST /v1/me/mfa/totp/confirm", a.enrolling(a.confirmTOTP))
	mux.HandleFunc("POST /v1/me/mfa/totp/remove", a.authed(a.removeTOTP))
	mux.HandleFunc("POST /v1/me/mfa/recovery-codes", a.authed(a.renewRecoveryCodes))
	mux.HandleFunc("GET /v1/me/mfa/passkeys", a.enrolling(a.listPasskeys))
	mux.HandleFunc("POST /v1/me/mfa/passkeys/register/begin", a.enrolling(a.beginPasskeyRegistration))
	mux.HandleFunc("POST /v1/me/mfa/passkeys/register/finish", a.enrolling(a.finishPasskeyRegistration))
	mux.HandleFunc("PATCH /v1/me/mfa/passkeys/{id}", a.authed(a.renamePasskey))
	mux.HandleFunc("POST /v1/me/mfa/passkeys/{id}/remove", a.authed(a.removePasskey))
	mux.HandleFunc("POST /v1/auth/passkey/begin", a.beginPasskeyLogin)
	mux.HandleFunc("POST /v1/auth/passkey/finish", a.finishPasskeyLogin)
	mux.HandleFunc("POST /v1/auth/second-factor/passkey/begin", a.beginPasskeySecondFactor)
	mux.HandleFunc("POST /v1/auth/second-factor/passkey/finish", a.passkeySecondFactor)
	mux.HandleFunc("GET /v1/workspaces/{ws}/sso", a.inWorkspace(a.getSSO))
	mux.HandleFunc("PUT /v1/workspaces/{ws}/sso", a.inWorkspace(a.putSSO))
	mux.HandleFunc("POST /v1/workspaces/{ws}/sso/domains/{domain}/verify", a.inWorkspace(a.verifySSODomain))
	mux.HandleFunc("POST /v1/leaks", a.reportLeaks)
	mux.HandleFunc("POST /v1/platform-keys", a.platform(a.createPlatformKey))
	mux.HandleFunc("GET /v1/platform-keys", a.platform(a.listPlatformKeys))
	mux.HandleFunc("POST /v1/platform-keys/{id}/revoke", a.platform(a.revokePlatformKey))
	mux.HandleFunc("PUT /v1/workspaces/{ws}/members/by-external-id/{id}", a.inWorkspace(a.syncPortalMember))
	mux.HandleFunc("DELETE /v1/workspaces/{ws}/members/by-external-id/{id}", a.inWorkspace(a.removePortalMember))
	mux.HandleFunc("POST /v1/portal/sessions", a.platform(a.createPortalSession))

	mux.HandleFunc("GET /openapi.json", serveOpenAPI)
	// Anything else under /v1 answers in the API's error shape, not as a page.
	mux.HandleFunc("/v1/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, latchkey.Errorf(latchkey.ENOTFOUND, "no such endpoint: %s %s", r.Method, r.URL.Path))
	})
}

func (a *API) fail(w http.ResponseWriter, r *http.Request, err error) { WriteError(w, r, a.log, err) }

// SessionCookie is the name of the console and API session cookie.
const SessionCookie = manage.SessionCookie

// caller authenticates r: a management key as Bearer (or X-API-Key), else
// a session cookie. It never decides access; Authorize does.
func (a *API) caller(r *http.Request) (manage.Caller, string, error) {
	c := manage.Caller{IP: a.localIP(r)}
	if tok := presentedKey(r); tok != "" {
		if a.svc.IsPlatformSecret(tok) {
			c, err := a.platformCaller(r, c, tok)
			return c, "", err
		}
		k, code := a.keys.Authenticate(r.Context(), tok)
		if err := code.Err(); err != nil {
			return c, "", err
		}
		if k.Type != latchkey.TypeManagement {
			return c, "", latchkey.Errorf(latchkey.EUNAUTHORIZED, "a %s key cannot call the management API; use a management key", k.Type).WithDetail("reason", "wrong_type")
		}
		if !latchkey.AllowsAddr(k.AllowedIPs, c.IP) {
			return c, "", latchkey.Errorf(latchkey.EFORBIDDEN, "the key may not be used from this address").WithDetail("reason", string(latchkey.IPNotAllowed))
		}
		c.Key = k
		return c, "", nil
	}
	ck, err := r.Cookie(SessionCookie)
	if err != nil {
		return c, "", latchkey.Errorf(latchkey.EUNAUTHORIZED, "log in, or send a management key as Authorization: Bearer")
	}
	sc, err := a.svc.SessionCaller(r.Context(), ck.Value, c.IP)
	if err != nil {
		return c, "", err
	}
	return sc, ck.Value, nil
}

func presentedKey(r *http.Request) string {
	if k := r.Header.Get("X-API-Key"); k != "" {
		return k
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

type authedHandler func(w http.ResponseWriter, r *http.Request, c manage.Caller, session string)

func (a *API) authed(h authedHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		c, session, err := a.caller(r)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r, c, session)
	}
}

type workspaceHandler func(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string)

// inWorkspace authenticates the caller and resolves their principal in the
// path's workspace.
func (a *API) inWorkspace(h workspaceHandler) http.HandlerFunc {
	return a.authed(func(w http.ResponseWriter, r *http.Request, c manage.Caller, _ string) {
		ws := r.PathValue("ws")
		p, err := a.svc.Principal(r.Context(), c, ws)
		if err != nil {
			a.fail(w, r, err)
			return
		}
		h(w, r, p, ws)
	})
}
