package latchkey

import (
	"net/mail"
	"strings"
	"time"
)

// User is a person who logs in with an email and a password. A user may be a
// member of several workspaces; an operator is a platform account of the
// vendor's support team and belongs to none.
type User struct {
	ID           string    `json:"id"`
	Email        string    `json:"email"`
	Name         string    `json:"name,omitempty"`
	PasswordHash string    `json:"-"` // argon2id, PHC string format
	Operator     bool      `json:"operator,omitempty"`
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
	WorkspaceID string    `json:"workspace_id"`
	UserID      string    `json:"user_id"`
	Email       string    `json:"email"`
	Name        string    `json:"name,omitempty"`
	Role        Role      `json:"role"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
}

// Session is a server-side login session. Only the SHA-256 of the cookie
// value is stored, so a database dump does not let anyone log in.
type Session struct {
	Hash      [32]byte
	UserID    string
	CreatedAt time.Time
	ExpiresAt time.Time
}
