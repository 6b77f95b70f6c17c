package console

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// portalService is what the portal landing page uses.
type portalService interface {
	RedeemPortalLink(ctx context.Context, tok, ip string) (*manage.PortalEntry, error)
	ReturnURLAllowed(raw string) bool
}

// returnCookie holds where "Back to <product>" leads after a portal
// sign-in. It is re-checked against the product's origins at every page,
// so even a forged value can only lead there.
const returnCookie = "latchkey_portal_return"

// cookie makes the console's cookies. Where the product frames the
// console, the browser sends the cookie from inside the product's page
// (a third-party context) only when it is SameSite=None, Secure and, for
// browsers that partition third-party cookies, Partitioned: the cookie is
// then kept apart per top-level site. Cross-site requests then carry the
// cookie, so SameSite no longer stops forged posts: the server's
// http.CrossOriginProtection (Sec-Fetch-Site and Origin checks on every
// unsafe request) does, and the product's origins are deliberately not
// among its trusted origins — the console's own pages inside the frame
// post same-origin; the product's pages cannot post to it.
func (c *Console) cookie(name, value string, maxAge int) *http.Cookie {
	ck := &http.Cookie{Name: name, Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: c.secure}
	if c.brand.framed() {
		ck.SameSite, ck.Secure, ck.Partitioned = http.SameSiteNoneMode, true, true
	}
	return ck
}

// portalLanding exchanges a portal link's one-time token for a session of
// the product's person and sends them to their workspace's keys.
func (c *Console) portalLanding(w http.ResponseWriter, r *http.Request) {
	// The token must not travel on in a Referer, whatever happens next.
	w.Header().Set("Referrer-Policy", "no-referrer")
	e, err := c.svc.RedeemPortalLink(r.Context(), r.URL.Query().Get("token"), c.clientIP(r))
	if err != nil {
		if latchkey.IsNotFound(err) {
			c.render(w, r, http.StatusNotFound, "error", &page{Title: "Link expired", Error: latchkey.ErrorMessage(err)})
			return
		}
		c.fail(w, r, &page{}, err)
		return
	}
	ttl := int(c.svc.SessionTTL().Seconds())
	http.SetCookie(w, c.sessionCookie(e.Session, ttl))
	if e.ReturnURL != "" {
		http.SetCookie(w, c.cookie(returnCookie, e.ReturnURL, ttl))
	} else {
		http.SetCookie(w, c.cookie(returnCookie, "", -1))
	}
	redirect(w, r, "/w/"+e.WorkspaceID+"/keys")
}

// backLink is where "Back to <product>" leads for this request, "" when
// the visitor did not come from the product.
func (c *Console) backLink(r *http.Request) string {
	ck, err := r.Cookie(returnCookie)
	if err != nil || !c.svc.ReturnURLAllowed(ck.Value) {
		return ""
	}
	return ck.Value
}
