// Package managetest helps tests of other packages bring people into
// workspaces the way people really join: invited, then accepting with a
// password of their own.
package managetest

import (
	"context"
	"testing"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/manage"
)

// Join invites in.Email to ws as p and accepts the invitation with pw,
// failing the test on any error. It returns the member as joined.
func Join(t testing.TB, svc *manage.Service, p latchkey.Principal, ws string, in manage.AddMember, pw string) *latchkey.Member {
	t.Helper()
	ctx := context.Background()
	m, tok, err := svc.AddMember(ctx, p, ws, in)
	if err != nil {
		t.Fatalf("AddMember(%s): %v", in.Email, err)
	}
	u, _, err := svc.AcceptInvite(ctx, tok, pw, nil, "127.0.0.1")
	if err != nil {
		t.Fatalf("AcceptInvite(%s): %v", in.Email, err)
	}
	m.UserID, m.Invited = u.ID, false
	return m
}

// Owner creates a workspace as the operator op and makes email its owner
// with the password pw, returning the workspace and the owner's account.
func Owner(t testing.TB, svc *manage.Service, op latchkey.Principal, name, email, pw string) (*latchkey.Workspace, *latchkey.User) {
	t.Helper()
	ctx := context.Background()
	var in manage.NewWorkspace
	in.Name, in.Owner.Email = name, email
	w, _, tok, err := svc.CreateWorkspace(ctx, op, in)
	if err != nil {
		t.Fatalf("CreateWorkspace(%s): %v", name, err)
	}
	u, _, err := svc.AcceptInvite(ctx, tok, pw, nil, "127.0.0.1")
	if err != nil {
		t.Fatalf("AcceptInvite(%s): %v", email, err)
	}
	return w, u
}
