// Package scim is latchkey's SCIM 2.0 service provider (RFC 7643, 7644)
// under /scim/v2: identity providers such as Okta and Microsoft Entra ID
// provision a workspace's users and groups with the workspace's SCIM key.
//
// It parses what the identity providers send (filters, PATCH paths, their
// looser shapes: capitalised ops, string booleans, dotted and URN keys)
// into the domain's terms; internal/manage authorizes each call through
// the one authorization table, records the audit events and applies
// deprovisioning; the stores translate filter trees into SQL.
//
// Decisions an identity provider sees:
//   - A user is a membership of the key's workspace; its SCIM id is the
//     latchkey user's id. Creating a user whose email (the primary email,
//     else the first, else an email-shaped userName) already has a latchkey
//     account links that account rather than duplicating it; SCIM never
//     sets or changes a password, and changes the login email only of a
//     person who belongs to no other workspace.
//   - active:false (PATCH or PUT) deprovisions: the membership stays,
//     inactive, readable and filterable; DELETE removes the membership, as
//     an admin's RemoveMember does. Both end the person's sessions and stop
//     their personal keys (owner_deprovisioned) on every instance.
//   - The last active owner cannot be deprovisioned or deleted: 400 with
//     scimType mutability, which tells the identity provider not to retry.
//   - A group's members must be users of the workspace: an unknown id fails
//     the request with 400 invalidValue (nothing is silently dropped);
//     removing a member who is not there is not an error.
//   - A PATCH applies in one transaction: any operation that cannot apply
//     fails it with 400 and changes nothing. User PATCHes answer 200 with
//     the user; group PATCHes answer 204.
package scim

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
)

// Authenticator turns a presented key into its key, through the verify
// cache (internal/verify's Verifier satisfies it).
type Authenticator interface {
	Authenticate(ctx context.Context, tok string) (*latchkey.Key, latchkey.VerifyCode)
}

// Service is what the SCIM surface asks of the management layer;
// *manage.Service implements it. It is the union of one small interface
// per group of handlers, each declared next to them.
type Service interface {
	tenantService
	userService
	groupService
	schemaService
}

// tenantService turns an authenticated SCIM key into the principal of its
// workspace and reads that workspace's SCIM settings: every request.
type tenantService interface {
	ScimPrincipal(k *latchkey.Key, ip string) (latchkey.Principal, error)
	ScimSettings(ctx context.Context, p latchkey.Principal) (latchkey.Settings, error)
}

// Config configures the SCIM surface.
type Config struct {
	Service Service
	Keys    Authenticator
	Logger  *slog.Logger
	// BaseURL is the public URL of /scim/v2 (https://keys.example.com/scim/v2)
	// for meta.location and Location; "" writes them as paths on this
	// site. They are never built from a request's Host header, which the
	// caller chooses.
	BaseURL string
	// ClientIP returns the caller's address for the audit log.
	ClientIP func(*http.Request) string
}

// Handler serves /scim/v2.
type Handler struct {
	svc  Service
	keys Authenticator
	log  *slog.Logger
	base string
	ip   func(*http.Request) string
}

// New returns the SCIM surface.
func New(cfg Config) *Handler {
	h := &Handler{svc: cfg.Service, keys: cfg.Keys, log: cfg.Logger, base: strings.TrimSuffix(cfg.BaseURL, "/"), ip: cfg.ClientIP}
	if h.log == nil {
		h.log = slog.Default()
	}
	if h.ip == nil {
		h.ip = func(r *http.Request) string {
			host, _, err := net.SplitHostPort(r.RemoteAddr)
			if err != nil {
				return r.RemoteAddr
			}
			return host
		}
	}
	return h
}

// Prefix is where the SCIM surface is mounted.
const Prefix = "/scim/v2"

// Register mounts /scim/v2. One handler routes by hand, because identity
// providers add trailing slashes (/Users/?filter=…) that method patterns
// would not match.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.HandleFunc(Prefix+"/", h.serve)
	mux.HandleFunc(Prefix, h.serve)
}

// request is one authenticated SCIM call.
type request struct {
	w    http.ResponseWriter
	r    *http.Request
	p    latchkey.Principal
	base string
	// custom is the workspace's scim_custom_attributes switch.
	custom bool
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) {
	p, err := h.authenticate(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	s, err := h.svc.ScimSettings(r.Context(), p)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	q := &request{w: w, r: r, p: p, base: h.baseURL(r), custom: s.ScimCustomAttributes}
	parts := strings.Split(strings.Trim(strings.TrimPrefix(r.URL.Path, Prefix), "/"), "/")
	id := ""
	if len(parts) == 2 {
		id = parts[1]
	}
	switch {
	case len(parts) > 2:
		err = notFound(r)
	case parts[0] == "Users":
		err = h.users(q, id)
	case parts[0] == "Groups":
		err = h.groups(q, id)
	case parts[0] == "ServiceProviderConfig" && id == "":
		err = onlyGet(q, h.serviceProviderConfig)
	case parts[0] == "ResourceTypes":
		err = onlyGet(q, func(q *request) error { return h.resourceTypes(q, id) })
	case parts[0] == "Schemas":
		err = onlyGet(q, func(q *request) error { return h.schemas(q, id) })
	default:
		err = notFound(r)
	}
	if err != nil {
		h.fail(w, r, err)
	}
}

func notFound(r *http.Request) error {
	return latchkey.Errorf(latchkey.ENOTFOUND, "no such SCIM endpoint: %s %s", r.Method, r.URL.Path)
}

func onlyGet(q *request, fn func(*request) error) error {
	if q.r.Method != http.MethodGet {
		return methodNotAllowed(q.r)
	}
	return fn(q)
}

// authenticate accepts a scim key as Bearer and nothing else; its
// workspace is the tenant of the call.
func (h *Handler) authenticate(r *http.Request) (latchkey.Principal, error) {
	a := r.Header.Get("Authorization")
	if len(a) < 7 || !strings.EqualFold(a[:7], "bearer ") {
		return latchkey.Principal{}, latchkey.Errorf(latchkey.EUNAUTHORIZED, "send the workspace's SCIM key as Authorization: Bearer")
	}
	k, code := h.keys.Authenticate(r.Context(), strings.TrimSpace(a[7:]))
	if err := code.Err(); err != nil {
		return latchkey.Principal{}, err
	}
	if ip := h.ip(r); !latchkey.AllowsAddr(k.AllowedIPs, ip) {
		return latchkey.Principal{}, latchkey.Errorf(latchkey.EFORBIDDEN, "the key may not be used from this address").WithDetail("reason", string(latchkey.IPNotAllowed))
	}
	return h.svc.ScimPrincipal(k, h.ip(r))
}

func (h *Handler) baseURL(*http.Request) string {
	if h.base != "" {
		return h.base
	}
	return Prefix
}
