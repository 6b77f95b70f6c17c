// Package console is latchkey's web console: server-rendered html/template
// pages enhanced by htmx, with every template and asset embedded in the
// binary. It works without JavaScript (forms are plain POSTs answered with a
// redirect), and every action goes through internal/manage, so the console
// is authorized by the same table as the REST API.
package console

import (
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/clientip"
)

// Service is what the console asks of the management layer;
// *manage.Service implements it. It is the union of one small interface
// per group of pages, each declared next to them.
type Service interface {
	sessionService
	accountService
	keyService
	memberService
	settingsService
	eventService
	outboxService
	scimRequestService
	platformService
	vaultService
	portalService
	platformKeyService
}

// Config configures the console.
type Config struct {
	Service Service
	Logger  *slog.Logger
	// SecureCookies marks the session cookie Secure; set it behind TLS.
	SecureCookies bool
	// ClientIP returns the caller's address for the audit log; the TCP
	// peer by default.
	ClientIP func(*http.Request) string
	// PublicURL is where people reach latchkey (https://keys.example.com),
	// for the links the console shows (invitations, the SCIM base URL);
	// without it they are paths on this site. Links are never built from
	// a request's Host header.
	PublicURL string
	// Brand is the product's name, logo, accent colour and framing origins.
	Brand Brand
}

// Console serves the web console's pages and assets.
type Console struct {
	svc      Service
	log      *slog.Logger
	secure   bool
	clientIP func(*http.Request) string
	pages    map[string]*template.Template
	public   string
	brand    Brand
}

// New parses the embedded templates and returns the console. A template
// that does not parse is a build defect, so New panics on it; a test runs it.
func New(cfg Config) *Console {
	c := &Console{svc: cfg.Service, log: cfg.Logger, secure: cfg.SecureCookies, clientIP: cfg.ClientIP,
		public: strings.TrimRight(cfg.PublicURL, "/"), brand: cfg.Brand}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.clientIP == nil {
		c.clientIP = clientip.Peer
	}
	pages, err := parsePages(c.brandFuncs())
	if err != nil {
		panic("console: " + err.Error())
	}
	c.pages = pages
	return c
}

// router is where the console's routes are registered: the server's mux,
// through forms.
type router interface {
	HandleFunc(pattern string, handler func(http.ResponseWriter, *http.Request))
}

// forms registers on a mux, reading every POST's form first with the
// console's size bound.
type forms struct {
	c   *Console
	mux *http.ServeMux
}

func (f forms) HandleFunc(pattern string, h func(http.ResponseWriter, *http.Request)) {
	if strings.HasPrefix(pattern, http.MethodPost+" ") {
		h = f.c.readForm(h)
	}
	f.mux.HandleFunc(pattern, h)
}

// MaxForm bounds a posted form, like the API's bodies: console forms are a
// few kilobytes, and an anonymous visitor may post to /login.
const MaxForm = 1 << 20

// readForm parses the posted form before h runs, refusing a larger body
// with 413 and an unreadable one with a page saying so; h then reads the
// parsed values.
func (c *Console) readForm(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, MaxForm)
		if err := r.ParseForm(); err != nil {
			var tooBig *http.MaxBytesError
			if errors.As(err, &tooBig) {
				c.fail(w, r, &page{}, latchkey.Errorf(latchkey.ETOOLARGE, "the form is larger than %d KiB", MaxForm>>10))
				return
			}
			c.fail(w, r, &page{}, latchkey.Errorf(latchkey.EINVALID, "the form could not be read"))
			return
		}
		h(w, r)
	}
}

// Register mounts the console's routes. They live outside /v1, /scim,
// /openapi.json and the operational endpoints, which other surfaces own.
// Every posted form is read through readForm.
func (c *Console) Register(serverMux *http.ServeMux) {
	mux := forms{c: c, mux: serverMux}
	mux.HandleFunc("GET /assets/{file}", serveAsset)
	mux.HandleFunc("GET /assets/brand.css", c.brandCSS)
	mux.HandleFunc("GET /portal", c.portalLanding)
	mux.HandleFunc("GET /operator/platform-keys", c.operator(c.platformKeys))
	mux.HandleFunc("POST /operator/platform-keys", c.operator(c.createPlatformKey))
	mux.HandleFunc("POST /operator/platform-keys/{id}/revoke", c.operator(c.revokePlatformKey))
	mux.HandleFunc("GET /{$}", c.home)
	mux.HandleFunc("GET /login", c.loginPage)
	mux.HandleFunc("POST /login", c.login)
	mux.HandleFunc("POST /logout", c.logout)
	mux.HandleFunc("GET /workspaces", c.user(c.workspacePicker))

	mux.HandleFunc("GET /w/{ws}/keys", c.inWorkspace(c.keyList))
	mux.HandleFunc("GET /w/{ws}/keys/new", c.inWorkspace(c.wizardStart))
	mux.HandleFunc("POST /w/{ws}/keys/new", c.inWorkspace(c.wizardDetails))
	mux.HandleFunc("POST /w/{ws}/keys", c.inWorkspace(c.wizardCreate))
	mux.HandleFunc("GET /w/{ws}/keys/{id}", c.inWorkspace(c.keyPage))
	mux.HandleFunc("POST /w/{ws}/keys/{id}", c.inWorkspace(c.keyUpdate))
	mux.HandleFunc("GET /w/{ws}/keys/{id}/reset", c.inWorkspace(c.resetPage))
	mux.HandleFunc("POST /w/{ws}/keys/{id}/reset", c.inWorkspace(c.reset))
	mux.HandleFunc("GET /w/{ws}/keys/{id}/revoke", c.inWorkspace(c.revokePage))
	mux.HandleFunc("POST /w/{ws}/keys/{id}/revoke", c.inWorkspace(c.revoke))
	mux.HandleFunc("GET /w/{ws}/keys/{id}/delete", c.inWorkspace(c.deletePage))
	mux.HandleFunc("POST /w/{ws}/keys/{id}/delete", c.inWorkspace(c.delete))
	mux.HandleFunc("GET /w/{ws}/profile/keys", c.inWorkspace(c.profileKeys))
	mux.HandleFunc("GET /w/{ws}/profile/password", c.inWorkspace(c.passwordPage))
	mux.HandleFunc("POST /w/{ws}/profile/password", c.inWorkspace(c.changePassword))
	mux.HandleFunc("GET /w/{ws}/activity", c.inWorkspace(c.activity))
	mux.HandleFunc("GET /w/{ws}/outbox", c.inWorkspace(c.outbox))
	c.registerAdmin(mux)
	c.registerVaults(mux)
	c.registerSignIn(mux)
	mux.HandleFunc("POST /w/{ws}/settings/webhook-secret/reveal", c.inWorkspace(c.revealWebhookSecret))

	// Every other path is a console page that does not exist.
	mux.HandleFunc("/", c.notFoundPage)
}
