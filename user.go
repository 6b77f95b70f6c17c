package latchkey

import (
	"net/mail"
	"strings"
	"time"
)

// User is a person who logs in with an email and a password. A user may be a
// member of several workspaces; an operator is a platform account of the
// vendor's support team and belongs to none.
//
// A user that is not Claimed is an invitation's identity: a workspace added
// someone by email, and that identity belongs to that workspace alone until
// the person claims it through the invitation, either by choosing a
// password (a brand-new account) or, when an account with the address
// exists, by signing in to it and accepting (the two are then merged).
// Only claimed accounts can log in and their emails are unique; unclaimed
// identities of several workspaces may share an address, so that no
// workspace can reach, link or reveal another's person by naming an email.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name,omitempty"`
	PasswordHash string    `json:"-"` // argon2id, PHC string format
	Operator     bool      `json:"operator,omitempty"`
	Claimed      bool      `json:"-"`
	CreatedAt    time.Time `json:"created_at"`
}

// NormalizeEmail lower-cases and trims an email and checks its shape; emails
// are compared in this form so that "Ann@x.io" and "ann@x.io" are one user.
func NormalizeEmail(email string) (string, error) {
	e := strings.ToLower(strings.TrimSpace(email))
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return "", Errorf(EINVALID, "invalid email address").WithDetail("field", "email")
	}
	return e, nil
}

// Role is a member's role in one workspace.
type Role string

// Roles, from most to least powerful.
const (
	RoleOwner      Role = "owner"
	RoleSuperAdmin Role = "super_admin"
	RoleAdmin      Role = "admin"
	RoleMember     Role = "member"
)

// Roles lists every role, most powerful first.
var Roles = []Role{RoleOwner, RoleSuperAdmin, RoleAdmin, RoleMember}

// Valid reports whether r is a known role.
func (r Role) Valid() bool {
	switch r {
	case RoleOwner, RoleSuperAdmin, RoleAdmin, RoleMember:
		return true
	}
	return false
}

// Member is a user's membership of a workspace. Active is false once an
// identity provider has deprovisioned the user: they cannot log in and their
// personal keys stop verifying.
type Member struct {
	WorkspaceID string `json:"workspace_id"`
	UserID      string `json:"user_id"`
	Email       string `json:"email"`
	Name        string `json:"name,omitempty"`
	Role        Role   `json:"role"`
	Active      bool   `json:"active"`
	// Invited is true until the person claims the membership through
	// their invitation: they cannot log in to the workspace before.
	Invited   bool      `json:"invited"`
	CreatedAt time.Time `json:"created_at"`
}

// Session is a server-side login session. Only the SHA-256 of the cookie
// value is stored, so a database dump does not let anyone log in.
type Session struct {
	Hash      [32]byte
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}

// CanMerge decides whether a signed-in account may accept an invitation
// made for the identity ident: only a claimed account of a person (not an
// operator) with the invitation's address. Consent is this act of signing
// in and accepting; nothing else links an account to a workspace.
func CanMerge(ident, account *User) error {
	if !account.Claimed || account.Operator {
		return Errorf(EFORBIDDEN, "this account cannot join workspaces")
	}
	if ident.Email != account.Email {
		return Errorf(EFORBIDDEN, "this invitation is for another email address: sign in as its addressee to accept it").
			WithDetail("reason", "wrong_account")
	}
	return nil
}

// ErrSignInRequired answers an invitation accepted with a new password
// for an address that has an account: its holder signs in and accepts.
func ErrSignInRequired() *Error {
	return Errorf(ECONFLICT, "an account with this email address exists: sign in to it, then open the invitation again to accept").
		WithDetail("reason", "sign_in_required")
}

// ErrAlreadyMember answers adding an address the workspace already has,
// as a member or an invitation. It speaks of this workspace only.
func ErrAlreadyMember() *Error {
	return Errorf(ECONFLICT, "this workspace already has a member or an invitation with this email address").WithDetail("field", "email")
}
