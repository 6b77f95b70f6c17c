package manage

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/password"
)

// InviteTTL is how long an invite link can be used.
const InviteTTL = 7 * latchkey.Day

// AddMember is the input of adding a member: an existing user by email, or
// a new user with an initial password, or (without one) an invite link.
type AddMember struct {
	Email    string        `json:"email"`
	Name     string        `json:"name"`
	Role     latchkey.Role `json:"role"`
	Password string        `json:"password"`
}

// Members lists ws's members.
func (s *Service) Members(ctx context.Context, p latchkey.Principal, ws string) ([]*latchkey.Member, error) {
	if _, err := s.workspace(ctx, p, ws, latchkey.ActMembersRead); err != nil {
		return nil, err
	}
	return s.store.Members(ctx, ws)
}

// authorizeRole checks p may manage a member holding role (or giving it):
// owners are managed by owners only.
func authorizeRole(p latchkey.Principal, ws string, roles ...latchkey.Role) error {
	if err := latchkey.Authorize(p, latchkey.ActMembersWrite, latchkey.Target{WorkspaceID: ws}); err != nil {
		return err
	}
	for _, r := range roles {
		if r == latchkey.RoleOwner {
			return latchkey.Authorize(p, latchkey.ActOwnersWrite, latchkey.Target{WorkspaceID: ws})
		}
	}
	return nil
}

// AddMember adds a member to ws. It returns the invite token when it
// created a user without a password: the only time the token is shown.
func (s *Service) AddMember(ctx context.Context, p latchkey.Principal, ws string, in AddMember) (*latchkey.Member, string, error) {
	if in.Role == "" {
		in.Role = latchkey.RoleMember
	}
	if !in.Role.Valid() {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "role must be owner, super_admin, admin or member").WithDetail("field", "role")
	}
	if err := authorizeRole(p, ws, in.Role); err != nil {
		return nil, "", err
	}
	if _, err := s.store.Workspace(ctx, ws); err != nil {
		return nil, "", err
	}
	email, err := latchkey.NormalizeEmail(in.Email)
	if err != nil {
		return nil, "", err
	}
	if len([]rune(in.Name)) > 200 {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "name must be at most 200 characters").WithDetail("field", "name")
	}
	now := s.Now()
	u, err := s.store.UserByEmail(ctx, email)
	invite := ""
	switch {
	case err == nil:
		if in.Password != "" {
			return nil, "", latchkey.Errorf(latchkey.ECONFLICT, "%s already has an account and keeps its password; add them without one", email).WithDetail("field", "password")
		}
		if u.Operator {
			return nil, "", latchkey.Errorf(latchkey.ECONFLICT, "%s is a platform operator account and cannot join a workspace", email)
		}
	case latchkey.IsNotFound(err):
		u = &latchkey.User{ID: s.ids.New(id.User), Email: email, Name: strings.TrimSpace(in.Name), CreatedAt: now}
		if in.Password != "" {
			if err := password.Check(in.Password); err != nil {
				return nil, "", err
			}
			if u.PasswordHash, err = password.Hash(in.Password); err != nil {
				return nil, "", err
			}
		}
		if err := s.store.CreateUser(ctx, u, nil); err != nil {
			return nil, "", err
		}
		if in.Password == "" {
			if invite, err = s.newInvite(ctx, u.ID, ws); err != nil {
				return nil, "", err
			}
		}
	default:
		return nil, "", err
	}
	m := &latchkey.Member{WorkspaceID: ws, UserID: u.ID, Email: u.Email, Name: u.Name, Role: in.Role, Active: true, CreatedAt: now}
	ev := s.event(p, ws, latchkey.EventMemberAdded, u.ID, map[string]any{"email": u.Email, "role": in.Role, "invited": invite != ""})
	if err := s.store.AddMember(ctx, m, ev); err != nil {
		return nil, "", err
	}
	return m, invite, nil
}

func (s *Service) newInvite(ctx context.Context, userID, ws string) (string, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", err
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := s.Now()
	err := s.store.CreateInvite(ctx, &latchkey.Invite{
		Hash: sha256.Sum256([]byte(tok)), UserID: userID, WorkspaceID: ws, CreatedAt: now, ExpiresAt: now.Add(InviteTTL),
	})
	return tok, err
}

// AcceptInvite sets the password of an invited user and logs them in.
func (s *Service) AcceptInvite(ctx context.Context, tok, pw, ip string) (*latchkey.User, string, error) {
	if err := password.Check(pw); err != nil {
		return nil, "", err
	}
	hash, err := password.Hash(pw)
	if err != nil {
		return nil, "", err
	}
	if len(tok) > 100 {
		return nil, "", latchkey.Errorf(latchkey.ENOTFOUND, "this invite link is unknown, used or expired")
	}
	u, err := s.store.AcceptInvite(ctx, sha256.Sum256([]byte(tok)), s.Now(), hash)
	if latchkey.IsNotFound(err) {
		return nil, "", latchkey.Errorf(latchkey.ENOTFOUND, "this invite link is unknown, used or expired")
	}
	if err != nil {
		return nil, "", err
	}
	sess, err := s.newSession(ctx, u.ID)
	if err != nil {
		return nil, "", err
	}
	s.auditUser(ctx, u, latchkey.EventLogin, ip)
	return u, sess, nil
}

// UpdateMember changes a member's role. Only owners give or take the owner
// role, and the last owner cannot be demoted. A management key created by
// the member narrows with the new role at once: its authority is read from
// the role at every call.
func (s *Service) UpdateMember(ctx context.Context, p latchkey.Principal, ws, userID string, role latchkey.Role) (*latchkey.Member, error) {
	if !role.Valid() {
		return nil, latchkey.Errorf(latchkey.EINVALID, "role must be owner, super_admin, admin or member").WithDetail("field", "role")
	}
	cur, err := s.member(ctx, p, latchkey.ActMembersWrite, ws, userID)
	if err != nil {
		return nil, err
	}
	if err := authorizeRole(p, ws, cur.Role, role); err != nil {
		return nil, err
	}
	return s.store.UpdateMember(ctx, ws, userID, func(m *latchkey.Member) (*latchkey.Event, error) {
		if m.Role == role {
			return nil, nil
		}
		ev := s.event(p, ws, latchkey.EventMemberUpdated, userID, map[string]any{"email": m.Email, "from": m.Role, "to": role})
		m.Role = role
		return &ev, nil
	})
}

// member loads a member of ws for a members action a.
func (s *Service) member(ctx context.Context, p latchkey.Principal, a latchkey.Action, ws, userID string) (*latchkey.Member, error) {
	if err := latchkey.Authorize(p, a, latchkey.Target{WorkspaceID: ws}); err != nil {
		return nil, err
	}
	if !id.Valid(id.User, userID) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "member not found")
	}
	m, err := s.store.Member(ctx, ws, userID)
	if latchkey.IsNotFound(err) {
		return nil, latchkey.Errorf(latchkey.ENOTFOUND, "member not found")
	}
	return m, err
}

// RemoveMember removes a member: their sessions end and their personal keys
// stop verifying at once (owner_deprovisioned), each recorded in the log.
func (s *Service) RemoveMember(ctx context.Context, p latchkey.Principal, ws, userID string) error {
	cur, err := s.member(ctx, p, latchkey.ActMembersWrite, ws, userID)
	if err != nil {
		return err
	}
	if err := authorizeRole(p, ws, cur.Role); err != nil {
		return err
	}
	ev := s.event(p, ws, latchkey.EventMemberRemoved, userID, map[string]any{"email": cur.Email, "role": cur.Role})
	if err := s.store.RemoveMember(ctx, ws, userID, ev); err != nil {
		return err
	}
	return s.ownerGone(ctx, p, ws, userID, "removed")
}

// ownerGone applies what follows a member's removal or deprovisioning:
// their personal keys stop on this instance before the call returns (and
// elsewhere through the invalidator), their sessions end, and each key's
// log records why.
func (s *Service) ownerGone(ctx context.Context, p latchkey.Principal, ws, userID, why string) error {
	if s.inv != nil {
		s.inv.InvalidateOwner(ws, userID)
	}
	if err := s.store.DeleteUserSessions(ctx, userID); err != nil {
		return err
	}
	cursor := ""
	for {
		keys, next, err := s.store.Keys(ctx, latchkey.KeyFilter{WorkspaceID: ws, Owner: userID, Limit: 200, Cursor: cursor, Now: s.Now()})
		if err != nil {
			return err
		}
		for _, k := range keys {
			if k.RevokedAt != nil {
				continue
			}
			ev := s.event(p, ws, latchkey.EventOwnerDeprovisioned, k.ID, map[string]any{"name": k.Name, "owner": userID, "reason": why})
			if err := s.store.AppendEvent(ctx, ev); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// SetMemberActive deprovisions (active false) or restores a member, as an
// identity provider does over SCIM. Deprovisioned members cannot log in and
// their personal keys answer owner_deprovisioned; on reactivation keys that
// were not revoked meanwhile work again.
func (s *Service) SetMemberActive(ctx context.Context, p latchkey.Principal, ws, userID string, active bool) (*latchkey.Member, error) {
	var changed bool
	m, err := s.store.UpdateMember(ctx, ws, userID, func(m *latchkey.Member) (*latchkey.Event, error) {
		if m.Active == active {
			return nil, nil
		}
		changed = true
		m.Active = active
		ev := s.event(p, ws, latchkey.EventMemberUpdated, userID, map[string]any{"email": m.Email, "active": active})
		return &ev, nil
	})
	if err != nil || !changed {
		return m, err
	}
	if !active {
		return m, s.ownerGone(ctx, p, ws, userID, "deprovisioned")
	}
	if s.inv != nil {
		s.inv.InvalidateOwner(ws, userID)
	}
	return m, nil
}

// InviteMember makes a new invite link for a member who has no password
// yet: someone invited whose link expired, or a user provisioned by an
// identity provider over SCIM. The token is returned this once.
func (s *Service) InviteMember(ctx context.Context, p latchkey.Principal, ws, userID string) (string, error) {
	cur, err := s.member(ctx, p, latchkey.ActMembersWrite, ws, userID)
	if err != nil {
		return "", err
	}
	if err := authorizeRole(p, ws, cur.Role); err != nil {
		return "", err
	}
	u, err := s.store.User(ctx, userID)
	if err != nil {
		return "", err
	}
	if u.PasswordHash != "" {
		return "", latchkey.Errorf(latchkey.ECONFLICT, "%s has a password already; an invite could replace it", u.Email)
	}
	tok, err := s.newInvite(ctx, userID, ws)
	if err != nil {
		return "", err
	}
	ev := s.event(p, ws, "member.invited", userID, map[string]any{"email": u.Email})
	if err := s.store.AppendEvent(ctx, ev); err != nil {
		return "", err
	}
	return tok, nil
}
