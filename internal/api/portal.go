package api

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// portalService is what the portal session handler uses.
type portalService interface {
	CreatePortalSession(ctx context.Context, p latchkey.Principal, in manage.PortalSessionRequest) (*manage.PortalLink, error)
}

type portalSession struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// createPortalSession answers a product's backend with the one-time URL
// that signs its person into the console of one workspace.
func (a *API) createPortalSession(w http.ResponseWriter, r *http.Request, p latchkey.Principal, _ string) {
	var in manage.PortalSessionRequest
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	link, err := a.svc.CreatePortalSession(r.Context(), p, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusCreated, portalSession{URL: a.Link("/portal?token=" + url.QueryEscape(link.Token)), ExpiresAt: link.ExpiresAt})
}
