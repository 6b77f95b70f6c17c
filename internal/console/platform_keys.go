package console

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// platformKeyService is what the operators' platform key page uses.
type platformKeyService interface {
	CreatePlatformKey(ctx context.Context, p latchkey.Principal, in manage.NewPlatformKey) (*latchkey.PlatformKey, string, error)
	PlatformKeys(ctx context.Context, p latchkey.Principal) ([]*latchkey.PlatformKey, error)
	RevokePlatformKey(ctx context.Context, p latchkey.Principal, keyID string) (*latchkey.PlatformKey, error)
}

// platformKeysData is the operators' list of platform keys, the create
// form and, once, a new key's secret.
type platformKeysData struct {
	Keys   []*latchkey.PlatformKey
	Form   manage.NewPlatformKey
	Scopes []string
	Roles  []latchkey.Role
	Secret string
}

func (c *Console) platformKeys(w http.ResponseWriter, r *http.Request, pg *page) {
	if r.URL.Query().Get("done") == "revoked" {
		pg.Flash = "The platform key was revoked: it is refused from now on, on every instance."
	}
	c.renderPlatformKeys(w, r, pg, http.StatusOK, manage.NewPlatformKey{MaxRole: latchkey.RoleAdmin}, "")
}

func (c *Console) renderPlatformKeys(w http.ResponseWriter, r *http.Request, pg *page, status int, f manage.NewPlatformKey, secret string) {
	ks, err := c.svc.PlatformKeys(r.Context(), pg.P)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	pg.Title, pg.Nav = "Platform keys", "op-platform-keys"
	pg.Data = platformKeysData{Keys: ks, Form: f, Scopes: latchkey.PlatformScopes, Roles: latchkey.Roles, Secret: secret}
	c.render(w, r, status, "operator_platform_keys", pg)
}

func (c *Console) createPlatformKey(w http.ResponseWriter, r *http.Request, pg *page) {
	in := manage.NewPlatformKey{Name: r.PostFormValue("name"), Product: r.PostFormValue("product"),
		Scopes: r.PostForm["scopes"], MaxRole: latchkey.Role(r.PostFormValue("max_role"))}
	_, secret, err := c.svc.CreatePlatformKey(r.Context(), pg.P, in)
	if err != nil {
		if !isUserError(err) || latchkey.ErrorCode(err) == latchkey.EFORBIDDEN {
			c.fail(w, r, pg, err)
			return
		}
		pg.setError(err)
		c.renderPlatformKeys(w, r, pg, http.StatusUnprocessableEntity, in, "")
		return
	}
	pg.Flash = "The platform key was created. Copy its secret now: it is shown only once."
	c.renderPlatformKeys(w, r, pg, http.StatusOK, manage.NewPlatformKey{MaxRole: latchkey.RoleAdmin}, secret)
}

func (c *Console) revokePlatformKey(w http.ResponseWriter, r *http.Request, pg *page) {
	if _, err := c.svc.RevokePlatformKey(r.Context(), pg.P, r.PathValue("id")); err != nil {
		c.fail(w, r, pg, err)
		return
	}
	redirect(w, r, "/operator/platform-keys?done=revoked")
}
