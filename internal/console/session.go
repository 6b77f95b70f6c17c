package console

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// sessionService is what signing in and out, and every page's visitor
// lookup, use.
type sessionService interface {
	Login(ctx context.Context, email, pw, ip string) (*latchkey.User, string, error)
	Logout(ctx context.Context, u *latchkey.User, tok, ip string) error
	SessionUser(ctx context.Context, tok string) (*latchkey.User, error)
	signInService
	SessionTTL() time.Duration
	Me(ctx context.Context, c manage.Caller) (*manage.Me, error)
	Principal(ctx context.Context, c manage.Caller, ws string) (latchkey.Principal, error)
}

// visitor is the logged-in user of a request and what the layout shows
// about them.
type visitor struct {
	Caller  manage.Caller
	Session string
	Me      *manage.Me
}

// userHandler is a page for a logged-in user, outside any workspace.
type userHandler func(w http.ResponseWriter, r *http.Request, v *visitor)

// wsHandler is a page inside one workspace, with the visitor's principal there.
type wsHandler func(w http.ResponseWriter, r *http.Request, pg *page)

// authenticate returns the visitor of r, or nil when there is no live session.
func (c *Console) authenticate(r *http.Request) (*visitor, error) {
	ck, err := r.Cookie(manage.SessionCookie)
	if err != nil {
		return nil, nil
	}
	caller, err := c.svc.SessionCaller(r.Context(), ck.Value, c.clientIP(r))
	if latchkey.ErrorCode(err) == latchkey.EUNAUTHORIZED {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	v := &visitor{Caller: caller, Session: ck.Value}
	if v.Me, err = c.svc.Me(r.Context(), v.Caller); err != nil {
		return nil, err
	}
	return v, nil
}

// user wraps h so that anonymous visitors are sent to the login page and
// come back afterwards.
func (c *Console) user(h userHandler) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, err := c.authenticate(r)
		if err != nil {
			c.fail(w, r, &page{}, err)
			return
		}
		if v == nil {
			if step := c.pendingStep(r); step != "" {
				redirect(w, r, step)
				return
			}
			toLogin(w, r)
			return
		}
		h(w, r, v)
	}
}

// inWorkspace wraps h with authentication and resolves the visitor's role
// in the path's workspace. A workspace the visitor does not belong to is a
// 404, exactly like an unknown one.
func (c *Console) inWorkspace(h wsHandler) http.HandlerFunc {
	return c.user(func(w http.ResponseWriter, r *http.Request, v *visitor) {
		ws := r.PathValue("ws")
		p, err := c.svc.Principal(r.Context(), v.Caller, ws)
		if err != nil {
			c.fail(w, r, &page{V: v}, err)
			return
		}
		pg := &page{V: v, P: p}
		for i := range v.Me.Workspaces {
			if v.Me.Workspaces[i].ID == ws {
				pg.WS = &v.Me.Workspaces[i]
			}
		}
		if pg.WS == nil || p.Role == "" {
			c.fail(w, r, &page{V: v}, latchkey.Errorf(latchkey.ENOTFOUND, "workspace not found"))
			return
		}
		h(w, r, pg)
	})
}

// toLogin redirects to the login page, remembering where to come back.
// htmx requests get HX-Redirect so the whole page changes, not a fragment.
func toLogin(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if r.Method == http.MethodGet && r.URL.Path != "/" {
		target += "?next=" + url.QueryEscape(r.URL.RequestURI())
	}
	if r.Header.Get("HX-Request") == "true" {
		w.Header().Set("HX-Redirect", target)
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// safeNext keeps a post-login destination only when it is an absolute
// path on this site, so the login form cannot be used as an open
// redirect. Browsers drop tabs and newlines from URLs and read "\\" as
// "/", so "/\t/evil.example" and "/\\evil.example" both mean
// "//evil.example", another host: only printable ASCII without
// backslashes is kept, it must start with one "/" and parse as a bare
// path (no scheme, host or user).
func safeNext(next string) string {
	if len(next) == 0 || len(next) > 2000 || next[0] != '/' || (len(next) > 1 && next[1] == '/') {
		return "/"
	}
	for i := 0; i < len(next); i++ {
		if b := next[i]; b <= ' ' || b >= 0x7f || b == '\\' {
			return "/"
		}
	}
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return "/"
	}
	return next
}

// sessionCookie is the session cookie shared with the API; see
// Console.cookie for its attributes.
func (c *Console) sessionCookie(value string, maxAge int) *http.Cookie {
	return c.cookie(manage.SessionCookie, value, maxAge)
}
