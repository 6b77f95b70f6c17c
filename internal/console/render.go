package console

import (
	"bytes"
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"net/http"
	"path"
	"strconv"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

//go:embed all:templates
var templateFS embed.FS

// page is what every template receives: who is looking, where, and the
// page's own data.
type page struct {
	Title string
	// Nav names the active navigation entry.
	Nav string
	V   *visitor
	WS  *manage.MemberWorkspace
	P   latchkey.Principal
	// Flash is a one-line confirmation after a redirect.
	Flash string
	// Error is a message about the page as a whole; Fields holds the
	// messages shown next to individual form fields.
	Error  string
	Fields map[string]string
	Data   any
	// Back is where "Back to <product>" leads a person the product's
	// portal signed in; "" for everyone else.
	Back string
}

// Can reports whether the visitor may do action a in this workspace at
// all (to some or all objects), to decide which buttons to show.
func (p *page) Can(a string) bool { return p.P.Grant(latchkey.Action(a)) != latchkey.No }

// CanAll reports whether the visitor may do a to every object of the
// workspace, not only their own.
func (p *page) CanAll(a string) bool { return p.P.Grant(latchkey.Action(a)) == latchkey.All }

// CanKey reports whether the visitor may do a to k.
func (p *page) CanKey(a string, k *latchkey.Key) bool {
	return latchkey.Authorize(p.P, latchkey.Action(a), latchkey.Target{WorkspaceID: k.WorkspaceID, Owner: k.Owner}) == nil
}

// Base is the path prefix of the current workspace's pages.
func (p *page) Base() string {
	if p.WS == nil {
		return ""
	}
	return "/w/" + p.WS.ID
}

// parsePages parses each page template together with the layout and the
// shared partials, so every page defines its own "content" block.
func parsePages(extra ...template.FuncMap) (map[string]*template.Template, error) {
	shared, err := fs.Glob(templateFS, "templates/_*.html")
	if err != nil {
		return nil, err
	}
	files, err := fs.Glob(templateFS, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, f := range files {
		name := path.Base(f)
		if strings.HasPrefix(name, "_") {
			continue
		}
		t := template.New(name).Funcs(funcs)
		for _, fm := range extra {
			t = t.Funcs(fm)
		}
		t, err := t.ParseFS(templateFS, append([]string{f}, shared...)...)
		if err != nil {
			return nil, err
		}
		pages[strings.TrimSuffix(name, ".html")] = t
	}
	return pages, nil
}

// setPageHeaders sets the headers of every console page: the CSP (see
// Brand.csp), and no-store so that no page (above all the one showing a
// secret) is kept by the browser or a proxy. X-Frame-Options cannot name
// origins, so it is sent only where nobody may frame the console.
func (c *Console) setPageHeaders(h http.Header) {
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", c.brand.csp())
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	if !c.brand.framed() {
		h.Set("X-Frame-Options", "DENY")
	}
}

// render writes the page template name with status.
func (c *Console) render(w http.ResponseWriter, r *http.Request, status int, name string, pg *page) {
	t, ok := c.pages[name]
	if !ok {
		c.log.Error("console: no such template", "template", name)
		status, t = http.StatusInternalServerError, c.pages["error"]
		pg = &page{V: pg.V, Title: "Something went wrong", Error: "This page could not be shown."}
	}
	if pg.V != nil {
		pg.Back = c.backLink(r)
	}
	humanizePage(r, pg)
	if name == "error" {
		// The error page shows its message in its own card, aligned
		// with the page's heading, not in the layout's alert line.
		pg.Data, pg.Error = errorData{Status: status, Message: pg.Error}, ""
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", pg); err != nil {
		c.log.Error("console: rendering failed", "template", name, "path", r.URL.Path, "err", err.Error())
		c.setPageHeaders(w.Header())
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write([]byte("<!doctype html><title>Error</title><p>This page could not be shown.</p>"))
		return
	}
	c.setPageHeaders(w.Header())
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorData is what the error page shows.
type errorData struct {
	Status  int
	Message string
}

// redirect answers a form post with a redirect to a page (POST-redirect-GET).
func redirect(w http.ResponseWriter, r *http.Request, to string) {
	http.Redirect(w, r, to, http.StatusSeeOther)
}

// fail shows err as a page: the login page for an ended session, 404 for
// what the visitor may not see, 403 for what they may not do, and a
// generic page with the request id for anything else.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, pg *page, err error) {
	code := latchkey.ErrorCode(err)
	status := http.StatusInternalServerError
	title, msg := "Something went wrong", ""
	switch code {
	case latchkey.EUNAUTHORIZED:
		toLogin(w, r)
		return
	case latchkey.ENOTFOUND:
		status, title = http.StatusNotFound, "Not found"
		msg = "This page does not exist, or you do not have access to it."
	case latchkey.EFORBIDDEN:
		status, title, msg = http.StatusForbidden, "Not allowed", latchkey.ErrorMessage(err)
	case latchkey.EINVALID, latchkey.ECONFLICT, latchkey.EUNPROCESSABLE:
		status, title, msg = http.StatusUnprocessableEntity, "That did not work", latchkey.ErrorMessage(err)
	case latchkey.ERATELIMITED:
		status, title, msg = http.StatusTooManyRequests, "Too many attempts", latchkey.ErrorMessage(err)
		setRetryAfter(w, err)
	case latchkey.ETOOLARGE:
		status, title, msg = http.StatusRequestEntityTooLarge, "Too much data", latchkey.ErrorMessage(err)
	case latchkey.EUNSUPPORTED:
		status, title, msg = http.StatusUnsupportedMediaType, "That did not work", latchkey.ErrorMessage(err)
	case latchkey.EUNAVAILABLE:
		// Not the visitor's fault nor a bug: say so, and tell the operator why.
		c.log.Warn("console: a dependency does not answer", "request_id", w.Header().Get("X-Request-Id"), "path", r.URL.Path, "err", err.Error())
		status, title, msg = http.StatusServiceUnavailable, "Temporarily unavailable", latchkey.ErrorMessage(err)
	default:
		var e *latchkey.Error
		if !errors.As(err, &e) || code == latchkey.EINTERNAL {
			rid := w.Header().Get("X-Request-Id")
			c.log.Error("console: request failed", "request_id", rid, "path", r.URL.Path, "err", err.Error())
			msg = "An internal error occurred. If it persists, quote request id " + rid + " to your administrator."
		} else {
			msg = e.Message
		}
	}
	c.render(w, r, status, "error", &page{V: pg.V, WS: pg.WS, P: pg.P, Title: title, Error: msg})
}

// setRetryAfter copies a rate limit's retry_after_seconds into the
// Retry-After header.
func setRetryAfter(w http.ResponseWriter, err error) {
	var e *latchkey.Error
	if errors.As(err, &e) {
		if secs, ok := e.Details["retry_after_seconds"].(int); ok && secs > 0 {
			w.Header().Set("Retry-After", strconv.Itoa(secs))
		}
	}
}

// notFoundPage is the answer for paths the console does not have.
func (c *Console) notFoundPage(w http.ResponseWriter, r *http.Request) {
	v, _ := c.authenticate(r)
	c.fail(w, r, &page{V: v}, latchkey.Errorf(latchkey.ENOTFOUND, "no such page"))
}

// setError shows a validation error next to its field;
// errors without a field go to the page's error line.
func (pg *page) setError(err error) {
	var e *latchkey.Error
	if errors.As(err, &e) {
		if f, ok := e.Details["field"].(string); ok && f != "" {
			if pg.Fields == nil {
				pg.Fields = map[string]string{}
			}
			pg.Fields[f] = e.Message
			return
		}
	}
	pg.Error = latchkey.ErrorMessage(err)
}

// isUserError reports whether err is the visitor's to fix (shown on the
// form) rather than a reason to leave the page.
func isUserError(err error) bool {
	switch latchkey.ErrorCode(err) {
	case latchkey.EINVALID, latchkey.ECONFLICT, latchkey.EUNPROCESSABLE, latchkey.EFORBIDDEN:
		return true
	}
	return false
}
