package console

import (
	"context"
	"net/http"
	"net/url"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// memberService is what the members page uses.
type memberService interface {
	Members(ctx context.Context, p latchkey.Principal, ws string) ([]*latchkey.Member, error)
	AddMember(ctx context.Context, p latchkey.Principal, ws string, in manage.AddMember) (*latchkey.Member, string, error)
	UpdateMember(ctx context.Context, p latchkey.Principal, ws, userID string, role latchkey.Role) (*latchkey.Member, error)
	RemoveMember(ctx context.Context, p latchkey.Principal, ws, userID string) error
	InviteMember(ctx context.Context, p latchkey.Principal, ws, userID string) (string, error)
}

// registerAdmin mounts the pages of workspace administration and of
// platform operators.
func (c *Console) registerAdmin(mux router) {
	mux.HandleFunc("GET /w/{ws}/members", c.inWorkspace(c.membersPage))
	mux.HandleFunc("POST /w/{ws}/members", c.inWorkspace(c.addMember))
	mux.HandleFunc("POST /w/{ws}/members/{user}/role", c.inWorkspace(c.changeRole))
	mux.HandleFunc("POST /w/{ws}/members/{user}/remove", c.inWorkspace(c.removeMember))
	mux.HandleFunc("POST /w/{ws}/members/{user}/invite", c.inWorkspace(c.inviteMember))
	mux.HandleFunc("GET /w/{ws}/settings", c.inWorkspace(c.settingsPage))
	mux.HandleFunc("POST /w/{ws}/settings", c.inWorkspace(c.saveSettings))
	mux.HandleFunc("POST /w/{ws}/settings/webhook-secret", c.inWorkspace(c.rotateWebhookSecret))
	mux.HandleFunc("GET /w/{ws}/scim", c.inWorkspace(c.scimPage))
	mux.HandleFunc("POST /w/{ws}/scim/attributes", c.inWorkspace(c.scimAttributes))
	mux.HandleFunc("POST /w/{ws}/scim/requests", c.inWorkspace(c.scimRequest))
	mux.HandleFunc("POST /w/{ws}/scim/requests/{id}/pickup", c.inWorkspace(c.pickUpScimKey))
	mux.HandleFunc("GET /operator/workspaces", c.operator(c.operatorWorkspaces))
	mux.HandleFunc("POST /operator/workspaces", c.operator(c.createWorkspace))
	mux.HandleFunc("GET /operator/scim-requests", c.operator(c.operatorRequests))
	mux.HandleFunc("POST /operator/scim-requests/{id}/approve", c.operator(c.approveScimKey))
	mux.HandleFunc("GET /invite", c.invitePage)
	mux.HandleFunc("POST /invite", c.acceptInvite)
}

// membersData is the members page and its add form.
type membersData struct {
	Members []*latchkey.Member
	Roles   []latchkey.Role
	Add     manage.AddMember
	// Invite is the one-time link of a member just invited.
	Invite string
	// InviteExpires says when each invited member's latest invitation
	// expires (or expired), by user id.
	InviteExpires map[string]string
}

func (c *Console) membersPage(w http.ResponseWriter, r *http.Request, pg *page) {
	pg.Flash = flash(r.URL.Query().Get("done"))
	c.renderMembers(w, r, pg, http.StatusOK, manage.AddMember{Role: latchkey.RoleMember}, "")
}

func (c *Console) renderMembers(w http.ResponseWriter, r *http.Request, pg *page, status int, add manage.AddMember, invite string) {
	ms, err := c.svc.Members(r.Context(), pg.P, pg.WS.ID)
	if err != nil {
		c.fail(w, r, pg, err)
		return
	}
	d := membersData{Members: ms, Add: add, Invite: invite, InviteExpires: map[string]string{}}
	for id, at := range c.inviteExpiries(r, pg, ms) {
		if at.After(c.svc.Now()) {
			d.InviteExpires[id] = "Invitation expires " + formatDate(at)
		} else {
			d.InviteExpires[id] = "Invitation expired " + formatDate(at)
		}
	}
	for _, role := range latchkey.Roles {
		if role != latchkey.RoleOwner || pg.Can(string(latchkey.ActOwnersWrite)) {
			d.Roles = append(d.Roles, role)
		}
	}
	pg.Title, pg.Nav, pg.Data = "Members", "members", d
	c.render(w, r, status, "members", pg)
}

// inviteExpiries says when each invited member's invitation expires: a
// week after they were added, or after their latest new invite link when
// the visitor may read the activity that records it.
func (c *Console) inviteExpiries(r *http.Request, pg *page, ms []*latchkey.Member) map[string]time.Time {
	out := map[string]time.Time{}
	for _, m := range ms {
		if m.Invited {
			out[m.UserID] = m.CreatedAt.Add(manage.InviteTTL)
		}
	}
	if len(out) == 0 || !pg.Can(string(latchkey.ActEventsRead)) {
		return out
	}
	from := c.svc.Now().Add(-manage.InviteTTL)
	evs, _, err := c.svc.Events(r.Context(), pg.P, pg.WS.ID, latchkey.EventFilter{Action: latchkey.EventMemberInvited, From: &from, Limit: 200})
	if err != nil {
		return out
	}
	for _, ev := range evs {
		if at, ok := out[ev.Target]; ok && ev.At.Add(manage.InviteTTL).After(at) {
			out[ev.Target] = ev.At.Add(manage.InviteTTL)
		}
	}
	return out
}

// addMember invites a member and shows their invite link once.
func (c *Console) addMember(w http.ResponseWriter, r *http.Request, pg *page) {
	in := manage.AddMember{
		Email: r.PostFormValue("email"), Name: r.PostFormValue("name"),
		Role: latchkey.Role(r.PostFormValue("role")),
	}
	_, invite, err := c.svc.AddMember(r.Context(), pg.P, pg.WS.ID, in)
	if err != nil {
		if !isUserError(err) {
			c.fail(w, r, pg, err)
			return
		}
		pg.setError(err)
		in.Password = ""
		c.renderMembers(w, r, pg, http.StatusUnprocessableEntity, in, "")
		return
	}
	if invite == "" {
		redirect(w, r, pg.Base()+"/members?done=added")
		return
	}
	pg.Flash = "The member was added. Send them the invite link below: it is shown only now and works for 7 days."
	c.renderMembers(w, r, pg, http.StatusOK, manage.AddMember{Role: latchkey.RoleMember}, c.inviteURL(invite))
}

// inviteURL is the link an invited user opens to choose a password,
// under the public URL (never the request's Host header, which the
// caller chooses). The token travels in the query, which the access log
// leaves out.
func (c *Console) inviteURL(tok string) string {
	return c.public + "/invite?token=" + url.QueryEscape(tok)
}

// inviteMember shows a new invite link for a member who has not joined,
// such as one provisioned by an identity provider.
func (c *Console) inviteMember(w http.ResponseWriter, r *http.Request, pg *page) {
	tok, err := c.svc.InviteMember(r.Context(), pg.P, pg.WS.ID, r.PathValue("user"))
	if err != nil {
		c.failMembers(w, r, pg, err)
		return
	}
	pg.Flash = "Send the member the invite link below: it is shown only now and works for 7 days."
	c.renderMembers(w, r, pg, http.StatusOK, manage.AddMember{Role: latchkey.RoleMember}, c.inviteURL(tok))
}

func (c *Console) changeRole(w http.ResponseWriter, r *http.Request, pg *page) {
	_, err := c.svc.UpdateMember(r.Context(), pg.P, pg.WS.ID, r.PathValue("user"), latchkey.Role(r.PostFormValue("role")))
	if err != nil {
		c.failMembers(w, r, pg, err)
		return
	}
	redirect(w, r, pg.Base()+"/members?done=member")
}

func (c *Console) removeMember(w http.ResponseWriter, r *http.Request, pg *page) {
	if err := c.svc.RemoveMember(r.Context(), pg.P, pg.WS.ID, r.PathValue("user")); err != nil {
		c.failMembers(w, r, pg, err)
		return
	}
	redirect(w, r, pg.Base()+"/members?done=removed")
}

// failMembers shows a refused member change on the members page itself
// when the visitor may see it, so "the last owner cannot leave" reads in
// context.
func (c *Console) failMembers(w http.ResponseWriter, r *http.Request, pg *page, err error) {
	if !isUserError(err) || latchkey.ErrorCode(err) == latchkey.EFORBIDDEN && !pg.Can(string(latchkey.ActMembersRead)) {
		c.fail(w, r, pg, err)
		return
	}
	pg.Error = latchkey.ErrorMessage(err)
	c.renderMembers(w, r, pg, http.StatusUnprocessableEntity, manage.AddMember{Role: latchkey.RoleMember}, "")
}
