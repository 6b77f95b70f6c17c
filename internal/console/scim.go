package console

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/manage"
)

// scimRequestService is what the SCIM page and the operators' request
// list use.
type scimRequestService interface {
	RequestScimKey(ctx context.Context, p latchkey.Principal, ws, contactEmail, integration string) (*latchkey.ScimKeyRequest, error)
	ScimKeyRequests(ctx context.Context, p latchkey.Principal, ws string) ([]*latchkey.ScimKeyRequest, error)
	ApproveScimKeyRequest(ctx context.Context, p latchkey.Principal, requestID string) (*latchkey.ScimKeyRequest, error)
	PickUpScimKey(ctx context.Context, p latchkey.Principal, ws, requestID string) (*latchkey.Key, string, error)
}

// scimData is the SCIM page: what an identity provider needs, the
// workspace-wide custom attributes switch, the SCIM keys and requests.
type scimData struct {
	BaseURL          string
	CustomAttributes bool
	ByOperator       bool
	Rows             []keyRow
	Requests         []*latchkey.ScimKeyRequest
	Integrations     []string
	ContactEmail     string
	Integration      string
	CanGenerate      bool
	CanRequest       bool
	CanPickUp        bool
}

func (c *Console) scimPage(w http.ResponseWriter, r *http.Request, pg *page) {
	pg.Flash = flash(r.URL.Query().Get("done"))
	c.renderScim(w, r, pg, http.StatusOK, pg.P.Email, "okta")
}

func (c *Console) renderScim(w http.ResponseWriter, r *http.Request, pg *page, status int, email, integration string) {
	if !pg.CanAll(string(latchkey.ActKeysRead)) {
		c.fail(w, r, pg, latchkey.Errorf(latchkey.ENOTFOUND, "no such page"))
		return
	}
	s, err := c.svc.Settings(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	d := scimData{
		BaseURL: c.public + "/scim/v2", CustomAttributes: s.ScimCustomAttributes,
		ByOperator: s.ScimKeyIssuance == latchkey.IssuanceOperator, Integrations: manage.Integrations,
		ContactEmail: email, Integration: integration,
	}
	keys, _, err := c.svc.ListKeys(r.Context(), pg.P, pg.WS.ID, latchkey.KeyFilter{Type: latchkey.TypeSCIM, Limit: 200})
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	notice, names := durationNotice{s.Expiration.NoticeBefore}, c.memberNames(r, pg)
	for _, k := range keys {
		d.Rows = append(d.Rows, c.row(k, pg, notice, names))
	}
	if t, ok := c.svc.Catalog().Type(latchkey.TypeSCIM); ok {
		d.CanGenerate = latchkey.AuthorizeKeyCreate(pg.P, *s, t, latchkey.OwnerWorkspace) == nil
	}
	if d.ByOperator {
		d.CanRequest = pg.Can(string(latchkey.ActScimKeyRequest))
		d.CanPickUp = pg.Can(string(latchkey.ActScimKeyPickup))
		if pg.Can(string(latchkey.ActScimRequestsRead)) {
			if d.Requests, err = c.svc.ScimKeyRequests(r.Context(), pg.P, pg.WS.ID); err != nil {
				c.fail(w, r, pg, err)
				return
			}
		}
	}
	pg.Title, pg.Nav, pg.Data = "SCIM provisioning", "scim", d
	c.render(w, r, status, "scim", pg)
}

// scimAttributes flips the workspace-wide switch that every SCIM key shares.
func (c *Console) scimAttributes(w http.ResponseWriter, r *http.Request, pg *page) {
	on := r.PostFormValue("scim_custom_attributes") == "on"
	if _, err := c.svc.UpdateSettings(r.Context(), pg.P, pg.WS.ID, manage.SettingsPatch{ScimCustomAttributes: &on}); err != nil {
		c.fail(w, r, pg, err)
		return
	}
	back := pg.Base() + "/scim?done=settings"
	if k := r.PostFormValue("key"); id.Valid(id.Key, k) {
		back = pg.Base() + "/keys/" + k + "?done=saved"
	}
	redirect(w, r, back)
}

// pickUpScimKey creates the SCIM key of a request an operator approved
// and shows its secret this once.
func (c *Console) pickUpScimKey(w http.ResponseWriter, r *http.Request, pg *page) {
	k, secret, err := c.svc.PickUpScimKey(r.Context(), pg.P, pg.WS.ID, r.PathValue("id"))
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	c.showSecret(w, r, pg, k, secret, secretIssued, pg.Base()+"/scim")
}

// scimRequest asks the vendor's support team for a SCIM key, where the
// workspace's policy reserves issuing them to operators.
func (c *Console) scimRequest(w http.ResponseWriter, r *http.Request, pg *page) {
	email, integration := r.PostFormValue("contact_email"), r.PostFormValue("integration")
	if _, err := c.svc.RequestScimKey(r.Context(), pg.P, pg.WS.ID, email, integration); err != nil {
		if !isUserError(err) || latchkey.ErrorCode(err) == latchkey.EFORBIDDEN {
			c.fail(w, r, pg, err)
			return
		}
		pg.setError(err)
		c.renderScim(w, r, pg, http.StatusUnprocessableEntity, email, integration)
		return
	}
	redirect(w, r, pg.Base()+"/scim?done=request")
}
