package console

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// platformService is what the operators' workspace pages use.
type platformService interface {
	Workspaces(ctx context.Context, p latchkey.Principal) ([]*latchkey.Workspace, error)
	CreateWorkspace(ctx context.Context, p latchkey.Principal, in manage.NewWorkspace) (*latchkey.Workspace, *latchkey.Member, string, error)
}

// operator wraps h for platform operators; anyone else gets a 404, as for
// any page they have no access to.
func (c *Console) operator(h wsHandler) http.HandlerFunc {
	return c.user(func(w http.ResponseWriter, r *http.Request, v *visitor) {
		p, err := c.svc.Principal(r.Context(), v.Caller, "")
		if err == nil && p.Kind != latchkey.PrincipalOperator {
			err = latchkey.Errorf(latchkey.ENOTFOUND, "no such page")
		}
		if err != nil {
			c.fail(w, r, &page{V: v}, err)
			return
		}
		h(w, r, &page{V: v, P: p})
	})
}

// operatorData is the operators' list of workspaces and its create form.
type operatorData struct {
	Workspaces []*latchkey.Workspace
	Form       manage.NewWorkspace
	Invite     string
	Requests   []*latchkey.ScimKeyRequest
	Names      map[string]string
}

func (c *Console) operatorWorkspaces(w http.ResponseWriter, r *http.Request, pg *page) {
	pg.Flash = flash(r.URL.Query().Get("done"))
	c.renderOperatorWorkspaces(w, r, pg, http.StatusOK, manage.NewWorkspace{}, "")
}

func (c *Console) renderOperatorWorkspaces(w http.ResponseWriter, r *http.Request, pg *page, status int, f manage.NewWorkspace, invite string) {
	wss, err := c.svc.Workspaces(r.Context(), pg.P)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	pg.Title, pg.Nav, pg.Data = "Workspaces", "op-workspaces", operatorData{Workspaces: wss, Form: f, Invite: invite}
	c.render(w, r, status, "operator_workspaces", pg)
}

// createWorkspace creates a workspace and its owner; an owner without a
// password gets an invite link, shown this once.
func (c *Console) createWorkspace(w http.ResponseWriter, r *http.Request, pg *page) {
	var in manage.NewWorkspace
	in.Name = r.PostFormValue("name")
	in.Owner.Email, in.Owner.Name, in.Owner.Password = r.PostFormValue("owner_email"), r.PostFormValue("owner_name"), r.PostFormValue("owner_password")
	_, _, invite, err := c.svc.CreateWorkspace(r.Context(), pg.P, in)
	if err != nil {
		if !isUserError(err) || latchkey.ErrorCode(err) == latchkey.EFORBIDDEN {
			c.fail(w, r, pg, err)
			return
		}
		pg.setError(err)
		in.Owner.Password = ""
		c.renderOperatorWorkspaces(w, r, pg, http.StatusUnprocessableEntity, in, "")
		return
	}
	if invite == "" {
		redirect(w, r, "/operator/workspaces?done=ws")
		return
	}
	pg.Flash = "The workspace was created. Send its owner the invite link below: it is shown only now and works for 7 days."
	c.renderOperatorWorkspaces(w, r, pg, http.StatusOK, manage.NewWorkspace{}, c.inviteURL(invite))
}

// operatorRequests lists the SCIM key requests of every workspace that
// await approval.
func (c *Console) operatorRequests(w http.ResponseWriter, r *http.Request, pg *page) {
	if r.URL.Query().Get("done") == "approved" {
		pg.Flash = "The request was approved. The workspace's admins pick the key up on their SCIM page."
	}
	reqs, err := c.svc.ScimKeyRequests(r.Context(), pg.P, "")
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	d := operatorData{Requests: reqs, Names: map[string]string{}}
	if wss, err := c.svc.Workspaces(r.Context(), pg.P); err == nil {
		for _, ws := range wss {
			d.Names[ws.ID] = ws.Name
		}
	}
	pg.Title, pg.Nav, pg.Data = "SCIM key requests", "op-requests", d
	c.render(w, r, http.StatusOK, "operator_requests", pg)
}

// approveScimKey approves a request. The operator sees no key: the
// workspace's admins pick it up on their SCIM page.
func (c *Console) approveScimKey(w http.ResponseWriter, r *http.Request, pg *page) {
	if _, err := c.svc.ApproveScimKeyRequest(r.Context(), pg.P, r.PathValue("id")); err != nil {
		c.fail(w, r, pg, err)
		return
	}
	redirect(w, r, "/operator/scim-requests?done=approved")
}
