package api

import (
	"context"
	"net/http"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// memberService is what the member and invitation handlers use.
type memberService interface {
	Members(ctx context.Context, p latchkey.Principal, ws string) ([]*latchkey.Member, error)
	AddMember(ctx context.Context, p latchkey.Principal, ws string, in manage.AddMember) (*latchkey.Member, string, error)
	UpdateMember(ctx context.Context, p latchkey.Principal, ws, userID string, role latchkey.Role) (*latchkey.Member, error)
	RemoveMember(ctx context.Context, p latchkey.Principal, ws, userID string) error
	InviteMember(ctx context.Context, p latchkey.Principal, ws, userID string) (string, error)
	AcceptInvite(ctx context.Context, tok, pw string, account *latchkey.User, ip string) (*latchkey.User, string, error)
}

// memberAdded is the answer of adding a member: the member, invited until
// they accept, and the invitation token with its link, shown this once.
type memberAdded struct {
	Member      *latchkey.Member `json:"member"`
	InviteToken string           `json:"invite_token,omitempty"`
	InviteURL   string           `json:"invite_url,omitempty"`
}

// invitePath is the console page where an invited user chooses their
// password. The token rides in the query string, which access logs leave out.
func invitePath(tok string) string { return "/invite?token=" + tok }

func (a *API) listMembers(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	ms, err := a.svc.Members(r.Context(), p, ws)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if ms == nil {
		ms = []*latchkey.Member{}
	}
	writeJSON(w, http.StatusOK, list[*latchkey.Member]{Data: ms})
}

func (a *API) addMember(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in manage.AddMember
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	m, invite, err := a.svc.AddMember(r.Context(), p, ws, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	out := memberAdded{Member: m}
	if invite != "" {
		out.InviteToken, out.InviteURL = invite, invitePath(invite)
	}
	writeJSON(w, http.StatusCreated, out)
}

type memberPatch struct {
	Role latchkey.Role `json:"role"`
}

func (a *API) patchMember(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in memberPatch
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	m, err := a.svc.UpdateMember(r.Context(), p, ws, r.PathValue("user"), in.Role)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, map[string]*latchkey.Member{"member": m})
}

func (a *API) removeMember(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	if err := a.svc.RemoveMember(r.Context(), p, ws, r.PathValue("user")); err != nil {
		a.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusNoContent)
}

func (a *API) patchSettings(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	var in manage.SettingsPatch
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	s, err := a.svc.UpdateSettings(r.Context(), p, ws, in)
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, s)
}

type acceptInvite struct {
	Token    string `json:"token"`
	Password string `json:"password"`
}

// acceptInvite accepts an invitation: signed in (a session cookie), with
// the caller's account; otherwise with a new account whose password the
// body gives.
func (a *API) acceptInvite(w http.ResponseWriter, r *http.Request) {
	var in acceptInvite
	if err := decode(w, r, &in, false); err != nil {
		a.fail(w, r, err)
		return
	}
	var account *latchkey.User
	if ck, err := r.Cookie(SessionCookie); err == nil && ck.Value != "" {
		if u, err := a.svc.SessionUser(r.Context(), ck.Value); err == nil {
			account = u
		}
	}
	u, tok, err := a.svc.AcceptInvite(r.Context(), in.Token, in.Password, account, a.localIP(r))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	if tok == "" {
		me, err := a.svc.Me(r.Context(), manage.Caller{User: u})
		if err != nil {
			a.fail(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, me)
		return
	}
	a.startSession(w, r, u, tok)
}

type invited struct {
	InviteToken string `json:"invite_token"`
	InviteURL   string `json:"invite_url"`
}

func (a *API) inviteMember(w http.ResponseWriter, r *http.Request, p latchkey.Principal, ws string) {
	if err := decode(w, r, &struct{}{}, true); err != nil {
		a.fail(w, r, err)
		return
	}
	tok, err := a.svc.InviteMember(r.Context(), p, ws, r.PathValue("user"))
	if err != nil {
		a.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusCreated, invited{InviteToken: tok, InviteURL: invitePath(tok)})
}
