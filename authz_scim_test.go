package latchkey

import "testing"

// TestAuthorizeSCIM holds SCIM keys to their one action in their one
// workspace, and keeps every other principal away from it.
func TestAuthorizeSCIM(t *testing.T) {
	const ws = "ws_a"
	scim := Principal{Kind: PrincipalSCIM, KeyID: "key_s", Name: "Okta", WorkspaceID: ws}
	inWS := Target{WorkspaceID: ws}
	cases := []struct {
		name string
		p    Principal
		a    Action
		t    Target
		want Code
	}{
		{"scim key provisions", scim, ActScimProvision, inWS, ""},
		{"scim key in another workspace", scim, ActScimProvision, Target{WorkspaceID: "ws_b"}, ENOTFOUND},
		{"scim key platform action", scim, ActWorkspacesList, Target{}, EFORBIDDEN},
		{"owner cannot provision", Principal{Kind: PrincipalUser, WorkspaceID: ws, Role: RoleOwner}, ActScimProvision, inWS, EFORBIDDEN},
		{"management key cannot provision", Principal{Kind: PrincipalKey, WorkspaceID: ws, Role: RoleOwner, Scopes: ManagementScopes}, ActScimProvision, inWS, EFORBIDDEN},
		{"operator cannot provision", Principal{Kind: PrincipalOperator}, ActScimProvision, inWS, EFORBIDDEN},
		{"anonymous", Principal{}, ActScimProvision, inWS, EUNAUTHORIZED},
	}
	for _, c := range cases {
		if got := ErrorCode(Authorize(c.p, c.a, c.t)); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	// Nothing else in the table is open to a SCIM key.
	for a := range table {
		want := a == ActScimProvision
		if got := Authorize(scim, a, Target{WorkspaceID: ws, Owner: OwnerWorkspace}) == nil; got != want {
			t.Errorf("scim key may %s: got %v, want %v", a, got, want)
		}
		if got := scim.Grant(a) == All; got != want {
			t.Errorf("scim key's grant of %s: got %v, want %v", a, got, want)
		}
	}
	if got := scim.Actor(); got != (Actor{Type: ActorKey, ID: "key_s", Label: "Okta"}) {
		t.Errorf("Actor: got %+v", got)
	}
}
