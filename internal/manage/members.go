package manage

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"io"
	"strings"
	"time"

	"github.com/latchkey/latchkey"
	"github.com/latchkey/latchkey/internal/id"
	"github.com/latchkey/latchkey/internal/password"
)

// InviteTTL is how long an invite link can be used.
const InviteTTL = 7 * latchkey.Day

// AddMember is the input of adding a member. Password is refused: a
// password belongs to its holder, who chooses it through the invitation.
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

// AddMember invites a person to ws by email. Whoever the address belongs
// to, the answer is the same: a new identity that belongs to ws alone, a
// membership that stays "invited" until the person accepts, and the
// invitation token, shown this once to ws's own admin. No account of any
// other workspace is read, linked or revealed: the person joins only by
// accepting, signed in to their account if they have one (AcceptInvite).
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
	if in.Password != "" {
		return nil, "", latchkey.Errorf(latchkey.EINVALID, "a password is chosen by its holder: the member sets it through the invitation link").WithDetail("field", "password")
	}
	if _, err := s.store.Workspace(ctx, ws); err != nil {
		return nil, "", err
	}
	email, err := latchkey.NormalizeEmail(in.Email)
	if err != nil {
		return nil, "", err
	}
	name, err := memberName(in.Name)
	if err != nil {
		return nil, "", err
	}
	now := s.Now()
	u := &latchkey.User{ID: s.ids.New(id.User), Email: email, Name: name, CreatedAt: now}
	tok, inv, err := s.newInvite(u.ID, ws)
	if err != nil {
		return nil, "", err
	}
	m := &latchkey.Member{WorkspaceID: ws, UserID: u.ID, Role: in.Role, Active: true, CreatedAt: now}
	ev := s.event(p, ws, latchkey.EventMemberAdded, u.ID, map[string]any{"email": email, "role": in.Role, "invited": true})
	if err := s.store.InviteMember(ctx, u, m, inv, ev); err != nil {
		return nil, "", err
	}
	return m, tok, nil
}

// memberName checks a person's display name: optional, at most 200
// characters, no control or bidirectional-override characters.
func memberName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "", nil
	}
	if err := latchkey.ValidateName("name", name, 200); err != nil {
		return "", err
	}
	return name, nil
}

// newInvite makes an invitation token for the identity userID in ws; only
// its SHA-256 is stored.
func (s *Service) newInvite(userID, ws string) (string, *latchkey.Invite, error) {
	b := make([]byte, 32)
	if _, err := io.ReadFull(s.rand, b); err != nil {
		return "", nil, err
	}
	tok := base64.RawURLEncoding.EncodeToString(b)
	now := s.Now()
	return tok, &latchkey.Invite{
		Hash: sha256.Sum256([]byte(tok)), UserID: userID, WorkspaceID: ws, CreatedAt: now, ExpiresAt: now.Add(InviteTTL),
	}, nil
}

// errInviteGone is the one answer to a token that is unknown, used, expired
// or whose membership was withdrawn.
var errInviteGone = latchkey.Errorf(latchkey.ENOTFOUND, "this invite link is unknown, used or expired")

// Invitation describes a live invitation to the person who holds its link.
type Invitation struct {
	WorkspaceID   string        `json:"workspace_id"`
	WorkspaceName string        `json:"workspace_name"`
	Email         string        `json:"email"`
	Role          latchkey.Role `json:"role"`
	ExpiresAt     time.Time     `json:"expires_at"`
}

// Invitation returns what a live invitation token is for, so the person
// can see which workspace they are about to join and as which address.
func (s *Service) Invitation(ctx context.Context, tok string) (*Invitation, error) {
	if tok == "" || len(tok) > 100 {
		return nil, errInviteGone
	}
	inv, ident, err := s.store.InviteOf(ctx, sha256.Sum256([]byte(tok)), s.Now())
	if latchkey.IsNotFound(err) {
		return nil, errInviteGone
	}
	if err != nil {
		return nil, err
	}
	w, err := s.store.Workspace(ctx, inv.WorkspaceID)
	if err != nil {
		return nil, err
	}
	m, err := s.store.Member(ctx, inv.WorkspaceID, ident.ID)
	if err != nil {
		return nil, errInviteGone
	}
	return &Invitation{WorkspaceID: w.ID, WorkspaceName: w.Name, Email: ident.Email, Role: m.Role, ExpiresAt: inv.ExpiresAt}, nil
}

// AcceptInvite accepts an invitation. Signed in (account not nil), the
// person joins with their account, whose address must be the invitation's;
// their password and other workspaces are untouched and the session they
// have goes on (the returned token is ""). Not signed in, pw becomes the
// password of a brand-new account for the address, which is refused when
// the address has an account already (its holder signs in and accepts).
// The token is checked before any password is hashed, so bogus tokens
// cost no hashing.
func (s *Service) AcceptInvite(ctx context.Context, tok, pw string, account *latchkey.User, ip string) (*latchkey.User, string, error) {
	if tok == "" || len(tok) > 100 {
		return nil, "", errInviteGone
	}
	// Guesses at tokens are throttled per address before any lookup.
	r, err := s.reserveTokenUse("invite", ip)
	if err != nil {
		return nil, "", err
	}
	hash := sha256.Sum256([]byte(tok))
	if _, _, err := s.store.InviteOf(ctx, hash, s.Now()); err != nil {
		if latchkey.IsNotFound(err) {
			r.fail()
			return nil, "", errInviteGone
		}
		r.release()
		return nil, "", err
	}
	r.succeed()
	claim := latchkey.InviteClaim{}
	if account != nil {
		claim.AccountID = account.ID
	} else {
		if err := password.Check(pw); err != nil {
			return nil, "", err
		}
		h, err := password.Hash(pw)
		if err != nil {
			return nil, "", err
		}
		claim.PasswordHash = h
	}
	claim.Event = func(u *latchkey.User, ws string) latchkey.Event {
		p := latchkey.Principal{Kind: latchkey.PrincipalUser, UserID: u.ID, Email: u.Email, IP: ip}
		return s.event(p, ws, latchkey.EventMemberJoined, u.ID, map[string]any{"email": u.Email, "existing_account": account != nil})
	}
	u, err := s.store.AcceptInvite(ctx, hash, s.Now(), claim)
	if latchkey.IsNotFound(err) {
		return nil, "", errInviteGone
	}
	if err != nil {
		return nil, "", err
	}
	if account != nil {
		return u, "", nil
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
	if _, err := s.member(ctx, p, latchkey.ActMembersWrite, ws, userID); err != nil {
		return nil, err
	}
	// The target's role is judged as the transaction reads it, so a
	// concurrent promotion cannot slip between the check and the write.
	return s.store.UpdateMember(ctx, ws, userID, func(m *latchkey.Member) (*latchkey.Event, error) {
		if err := authorizeRole(p, ws, m.Role, role); err != nil {
			return nil, err
		}
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

// RemoveMember removes a member from ws. Their access to ws ends at their
// next request (sessions elsewhere are theirs and stay), and in the same
// transaction their personal keys and the management keys they created in
// ws are revoked, so that no re-admission brings them back.
func (s *Service) RemoveMember(ctx context.Context, p latchkey.Principal, ws, userID string) error {
	if _, err := s.member(ctx, p, latchkey.ActMembersWrite, ws, userID); err != nil {
		return err
	}
	return s.removeMember(ctx, p, ws, userID, "removed", func(m *latchkey.Member) error {
		return authorizeRole(p, ws, m.Role)
	})
}

// removeMember removes userID from ws after check approves the member as
// the transaction reads it, revoking their keys there.
func (s *Service) removeMember(ctx context.Context, p latchkey.Principal, ws, userID, why string, check func(*latchkey.Member) error) error {
	revoked, err := s.store.RemoveMember(ctx, ws, userID, func(m *latchkey.Member, keys []*latchkey.Key) ([]latchkey.Event, error) {
		if err := check(m); err != nil {
			return nil, err
		}
		evs := []latchkey.Event{s.event(p, ws, latchkey.EventMemberRemoved, userID, map[string]any{"email": m.Email, "role": m.Role})}
		for _, k := range keys {
			evs = append(evs, s.event(p, ws, latchkey.EventKeyRevoked, k.ID, map[string]any{"name": k.Name, "reason": "member " + why, "member": userID}))
		}
		return evs, nil
	})
	if err != nil {
		return err
	}
	if s.inv != nil {
		s.inv.InvalidateOwner(ws, userID)
	}
	for _, k := range revoked {
		s.invalidateKey(k.ID)
	}
	return nil
}

// ownerGone applies what follows a member's deprovisioning: their
// personal keys stop on this instance before the call returns (and
// elsewhere through the invalidator), and each key's log records why.
// Their sessions stay: the member's access to this workspace is judged at
// every request, and other workspaces are not this one's to end.
func (s *Service) ownerGone(ctx context.Context, p latchkey.Principal, ws, userID, why string) error {
	if s.inv != nil {
		s.inv.InvalidateOwner(ws, userID)
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

// InviteMember makes a new invite link for a member who has not joined
// yet: someone invited whose link expired or was lost, or a person
// provisioned by an identity provider over SCIM. The token is returned
// this once, to ws's own admin; the invitation reaches no other
// workspace's account.
func (s *Service) InviteMember(ctx context.Context, p latchkey.Principal, ws, userID string) (string, error) {
	cur, err := s.member(ctx, p, latchkey.ActMembersWrite, ws, userID)
	if err != nil {
		return "", err
	}
	if err := authorizeRole(p, ws, cur.Role); err != nil {
		return "", err
	}
	if !cur.Invited {
		return "", latchkey.Errorf(latchkey.ECONFLICT, "%s has joined already; an invite link is only for members who have not", cur.Email)
	}
	tok, inv, err := s.newInvite(userID, ws)
	if err != nil {
		return "", err
	}
	if err := s.store.CreateInvite(ctx, inv); err != nil {
		return "", err
	}
	ev := s.event(p, ws, latchkey.EventMemberInvited, userID, map[string]any{"email": cur.Email})
	if err := s.store.AppendEvent(ctx, ev); err != nil {
		return "", err
	}
	return tok, nil
}
