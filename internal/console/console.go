// Package console is latchkey's web console: server-rendered html/template
// pages enhanced by htmx, with every template and asset embedded in the
// binary. It works without JavaScript (forms are plain POSTs answered with a
// redirect), and every action goes through internal/manage, so the console
// is authorized by the same table as the REST API.
package console

import (
	"html/template"
	"log/slog"
	"net/http"

	"github.com/latchkey/latchkey/internal/clientip"
	"github.com/latchkey/latchkey/internal/manage"
)

// Config configures the console.
type Config struct {
	Service *manage.Service
	Logger  *slog.Logger
	// SecureCookies marks the session cookie Secure; set it behind TLS.
	SecureCookies bool
	// ClientIP returns the caller's address for the audit log; the TCP
	// peer by default.
	ClientIP func(*http.Request) string
}

// Console serves the web console's pages and assets.
type Console struct {
	svc      *manage.Service
	log      *slog.Logger
	secure   bool
	clientIP func(*http.Request) string
	pages    map[string]*template.Template
}

// New parses the embedded templates and returns the console. A template
// that does not parse is a build defect, so New panics on it; a test runs it.
func New(cfg Config) *Console {
	c := &Console{svc: cfg.Service, log: cfg.Logger, secure: cfg.SecureCookies, clientIP: cfg.ClientIP}
	if c.log == nil {
		c.log = slog.Default()
	}
	if c.clientIP == nil {
		c.clientIP = clientip.Peer
	}
	pages, err := parsePages()
	if err != nil {
		panic("console: " + err.Error())
	}
	c.pages = pages
	return c
}

// Register mounts the console's routes. They live outside /v1, /scim,
// /openapi.json and the operational endpoints, which other surfaces own.
func (c *Console) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /assets/{file}", serveAsset)
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

	// Every other path is a console page that does not exist.
	mux.HandleFunc("/", c.notFoundPage)
}
